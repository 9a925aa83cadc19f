#include "core/text_input.h"

#include <charconv>
#include <cmath>

#include "core/error.h"

namespace firstwall::text {

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

}  // namespace firstwall::text
