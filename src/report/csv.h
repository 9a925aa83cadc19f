// CSV fields as RFC 4180 writes them, for every table firstwall writes.
#pragma once

#include <string>
#include <string_view>

namespace firstwall::report {

// One field of a CSV line: as it is, or in double quotes with each quote doubled when it holds a
// comma, a quote, a line break (LF or CR) or starts or ends with a space (which some readers
// trim). "a, b" -> "\"a, b\"", "say \"hi\"" -> "\"say \"\"hi\"\"\"", "" -> "".
inline std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos && !s.starts_with(' ') &&
      !s.ends_with(' ')) {
    return std::string(s);
  }
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

}  // namespace firstwall::report
