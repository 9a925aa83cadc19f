// Min/max downsampling of long time series for drawing (the HTML report, html_report.h).
//
// Rows (x and one value per column, all columns sharing x) arrive one at a time and are grouped
// into buckets of `w` consecutive rows, w a power of two: bucket k holds rows [k*w, (k+1)*w). Each
// bucket keeps, per column, its minimum and maximum and the rows they came from. When a new bucket
// would exceed `max_buckets`, neighbouring buckets are merged in pairs and w doubles, so memory
// stays O(max_buckets x columns) whatever the length (a year at 1 s is 31.5 million rows), and the
// result is the same as grouping with the final w from the start.
//
// Points(): a bucket of one row gives that row; a bucket of several gives two points, at the x of
// its first row and of its last, and each column's two values are its minimum and maximum in the
// order they occurred. So every column's extremes survive (a one-second spike stays visible in a
// year-long chart) with at most 2 x max_buckets points. Values that are NaN are left out of the
// extremes; a column with no value in a bucket gives NaN (drawn as a gap).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace firstwall::report {

class MinMaxDownsampler {
 public:
  // `columns` values per row; `max_buckets` even and >= 2 (throws InternalError otherwise).
  MinMaxDownsampler(size_t columns, size_t max_buckets);

  // One row: x (increasing, not checked) and `columns` values.
  void Add(double x, std::span<const double> values);

  struct Points {
    std::vector<double> x;
    std::vector<std::vector<double>> columns;  // columns[c][i] belongs to x[i]
    size_t rows = 0;                           // rows added
    size_t rows_per_bucket = 1;                // w
  };
  Points Finish() const;

  size_t rows() const { return rows_; }

 private:
  struct Extremes {
    double min = 0, max = 0;
    size_t min_row = 0, max_row = 0;
    bool any = false;
  };
  struct Bucket {
    double first_x = 0, last_x = 0;
    size_t rows = 0;
    std::vector<Extremes> columns;
  };
  void MergePairs();

  size_t columns_, max_buckets_;
  size_t width_ = 1;
  size_t rows_ = 0;
  std::vector<Bucket> buckets_;
};

}  // namespace firstwall::report
