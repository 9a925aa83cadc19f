#include "report/csv_reader.h"

#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/error.h"

namespace firstwall::report {

CsvReader::CsvReader(const std::string& path) : path_(path), in_(path, std::ios::binary) {
  if (!in_) throw InputError({path, 0, 0}, "cannot be read");
  if (!Next(header_) || header_.empty() || (header_.size() == 1 && header_[0].empty())) {
    throw InputError({path, 1, 1}, "expected a header line of column names, found an empty file");
  }
}

bool CsvReader::Next(std::vector<std::string>& fields) {
  fields.clear();
  std::string line;
  if (!std::getline(in_, line)) return false;
  record_line_ = ++line_;
  std::string field;
  bool quoted = false;
  for (size_t i = 0;; ++i) {
    if (i == line.size()) {
      if (!quoted) break;
      // A line break inside quotes belongs to the field.
      if (!std::getline(in_, line)) {
        throw InputError({path_, record_line_, 1}, "a quoted field is not closed");
      }
      ++line_;
      field += '\n';
      i = static_cast<size_t>(-1);
      continue;
    }
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else if (c != '\r' || i + 1 != line.size()) {
      field += c;
    }
  }
  fields.push_back(std::move(field));
  return true;
}

void CsvReader::CheckWidth(const std::vector<std::string>& fields) const {
  if (fields.size() != header_.size()) {
    throw InputError({path_, record_line_, 1},
                     fmt::format("expected {} fields as in the header, found {}", header_.size(),
                                 fields.size()));
  }
}

int CsvReader::Column(const std::string& name) const {
  for (size_t i = 0; i < header_.size(); ++i) {
    if (header_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

double CsvReader::Number(const std::vector<std::string>& fields, int i) const {
  const std::string& field = fields.at(static_cast<size_t>(i));
  if (field.empty() || field == "nan" || field == "-nan") {
    return std::numeric_limits<double>::quiet_NaN();
  }
  double v = 0;
  const char* end = field.data() + field.size();
  const auto [ptr, ec] = std::from_chars(field.data(), end, v);
  if (ec != std::errc() || ptr != end) {
    throw InputError({path_, record_line_, 1},
                     fmt::format("expected a number in column '{}', found '{}'",
                                 header_.at(static_cast<size_t>(i)), field.substr(0, 40)));
  }
  return v;
}

}  // namespace firstwall::report
