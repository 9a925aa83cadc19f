// Reads the CSV files firstwall writes (RFC 4180: csv.h's CsvField quoting), record by record, so a
// timeseries.csv of millions of rows is never held whole. Used by the HTML report (html_report.h).
#pragma once

#include <fstream>
#include <string>
#include <vector>

namespace firstwall::report {

class CsvReader {
 public:
  // Opens `path` and reads its header. Throws InputError naming the file when it cannot be read or
  // has no header line.
  explicit CsvReader(const std::string& path);

  // The next record's fields; false at the end of the file. A quoted field may hold commas, doubled
  // quotes and line breaks. Throws InputError (file:line) on an unterminated quote.
  bool Next(std::vector<std::string>& fields);

  // Throws InputError (file:line) unless `fields` has one field per header column.
  void CheckWidth(const std::vector<std::string>& fields) const;

  const std::vector<std::string>& header() const { return header_; }
  // The index of column `name` in the header, or -1.
  int Column(const std::string& name) const;
  // The line the last record read started on (1 = the header).
  int line() const { return record_line_; }
  const std::string& path() const { return path_; }
  // The number in field `i` of the last record read: NaN for an empty field or "nan" (how
  // firstwall writes a missing value); InputError (file:line) naming the column for anything else.
  double Number(const std::vector<std::string>& fields, int i) const;

 private:
  std::string path_;
  std::ifstream in_;
  std::vector<std::string> header_;
  int line_ = 0, record_line_ = 0;
};

}  // namespace firstwall::report
