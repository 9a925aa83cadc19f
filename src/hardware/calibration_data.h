// Test helper: reads a calibration CSV from ../shared/data/calibration (relative to the project
// root, where tests run). Returns an empty table when the file is absent, so the caller can skip
// with a clear message.
#pragma once

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace firstwall::testing {

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  int Column(const std::string& name) const {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return static_cast<int>(i);
    }
    return -1;
  }
  double Number(size_t row, const std::string& column) const {
    return std::stod(rows[row][static_cast<size_t>(Column(column))]);
  }
};

inline const char* kCalibrationDir = "../shared/data/calibration/";

// Calibration tables shipped with the project (data/calibration, each row with its source).
inline const char* kProjectCalibrationDir = "data/calibration/";

inline CsvTable ReadCalibrationCsv(const std::string& file, const char* dir = kCalibrationDir) {
  CsvTable t;
  std::ifstream in(dir + file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    if (t.header.empty()) {
      t.header = cells;
    } else {
      t.rows.push_back(cells);
    }
  }
  return t;
}

}  // namespace firstwall::testing
