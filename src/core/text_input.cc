#include "core/text_input.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace firstwall::text {

std::string ReadFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError({path, 0, 0}, "cannot read the " + what);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<Line> Lines(const std::string& text, const std::string& path) {
  std::string_view body(text);
  if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);
  std::vector<Line> lines;
  size_t pos = 0;
  int number = 0;
  while (pos < body.size()) {
    size_t eol = body.find('\n', pos);
    if (eol == std::string_view::npos) eol = body.size();
    std::string_view line = body.substr(pos, eol - pos);
    ++number;
    if (const size_t nul = line.find('\0'); nul != std::string_view::npos) {
      throw InputError({path, number, static_cast<int>(nul) + 1},
                       "NUL byte in a text file (binary data, or a file cut short)",
                       "check that this is the intended file and that it was written completely");
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back({number, line});
    pos = eol + 1;
  }
  return lines;
}

bool Blank(std::string_view line) { return line.find_first_not_of(" \t\r") == line.npos; }

bool Blank(const std::vector<Line>& lines) {
  for (const Line& l : lines) {
    if (!Blank(l.text)) return false;
  }
  return true;
}

std::optional<double> FiniteNumber(std::string_view field) {
  double v = 0;
  const char* end = field.data() + field.size();
  auto [p, ec] = std::from_chars(field.data(), end, v);
  if (field.empty() || ec != std::errc() || p != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<int64_t> WholeNumber(std::string_view field) {
  int64_t v = 0;
  const char* end = field.data() + field.size();
  auto [p, ec] = std::from_chars(field.data(), end, v);
  if (field.empty() || ec != std::errc() || p != end) return std::nullopt;
  return v;
}

std::vector<Field> Split(std::string_view line, char separator) {
  std::vector<Field> fields;
  size_t start = 0;
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == separator) {
      fields.push_back({line.substr(start, i - start), static_cast<int>(start) + 1});
      start = i + 1;
    }
  }
  return fields;
}

std::vector<Field> SplitWhitespace(std::string_view line) {
  std::vector<Field> fields;
  size_t i = 0;
  while (true) {
    i = line.find_first_not_of(" \t", i);
    if (i == std::string_view::npos) break;
    size_t end = line.find_first_of(" \t", i);
    if (end == std::string_view::npos) end = line.size();
    fields.push_back({line.substr(i, end - i), static_cast<int>(i) + 1});
    i = end;
  }
  return fields;
}

int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::optional<int64_t> DateTimeSeconds(std::string_view f) {
  // "2017-10-07 01:12:09": digits everywhere but the separators at 4, 7, 10, 13 and 16.
  if (f.size() != 19 || f[4] != '-' || f[7] != '-' || f[10] != ' ' || f[13] != ':' ||
      f[16] != ':') {
    return std::nullopt;
  }
  auto number = [&](size_t at, size_t len) -> std::optional<int64_t> {
    for (size_t i = at; i < at + len; ++i) {
      if (f[i] < '0' || f[i] > '9') return std::nullopt;
    }
    return WholeNumber(f.substr(at, len));
  };
  const auto y = number(0, 4), mo = number(5, 2), d = number(8, 2), h = number(11, 2),
             mi = number(14, 2), s = number(17, 2);
  if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
  static constexpr int kDays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
  if (*mo < 1 || *mo > 12 || *d < 1 || *d > kDays[*mo - 1] || (*mo == 2 && *d == 29 && !leap) ||
      *h > 23 || *mi > 59 || *s > 60) {
    return std::nullopt;
  }
  return DaysFromCivil(*y, *mo, *d) * 86400 + *h * 3600 + *mi * 60 + *s;
}

}  // namespace firstwall::text
