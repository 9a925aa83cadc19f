#include "report/downsample.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace firstwall::report {
namespace {

void Absorb(double v, size_t row, bool& any, double& min, size_t& min_row, double& max,
            size_t& max_row) {
  if (std::isnan(v)) return;
  if (!any || v < min) min = v, min_row = row;
  if (!any || v > max) max = v, max_row = row;
  any = true;
}

}  // namespace

MinMaxDownsampler::MinMaxDownsampler(size_t columns, size_t max_buckets)
    : columns_(columns), max_buckets_(max_buckets) {
  FW_CHECK(max_buckets >= 2 && max_buckets % 2 == 0, "max_buckets must be even and at least 2");
  buckets_.reserve(max_buckets);
}

void MinMaxDownsampler::MergePairs() {
  std::vector<Bucket> merged;
  merged.reserve(max_buckets_);
  for (size_t k = 0; k + 1 < buckets_.size(); k += 2) {
    Bucket b = std::move(buckets_[k]);
    const Bucket& c = buckets_[k + 1];
    b.last_x = c.last_x;
    b.rows += c.rows;
    for (size_t j = 0; j < columns_; ++j) {
      Extremes& e = b.columns[j];
      const Extremes& f = c.columns[j];
      if (!f.any) continue;
      // c's rows come after b's: on a tie the earlier row is kept, as Absorb keeps it.
      if (!e.any || f.min < e.min) e.min = f.min, e.min_row = f.min_row;
      if (!e.any || f.max > e.max) e.max = f.max, e.max_row = f.max_row;
      e.any = true;
    }
    merged.push_back(std::move(b));
  }
  buckets_ = std::move(merged);
  width_ *= 2;
}

void MinMaxDownsampler::Add(double x, std::span<const double> values) {
  FW_CHECK(values.size() == columns_, "a row must have one value per column");
  if (rows_ % width_ == 0) {
    // A full set merges into max_buckets / 2 buckets of twice the width, and rows_ (max_buckets
    // x the old width) starts a new one at the new width too.
    if (buckets_.size() == max_buckets_) MergePairs();
    Bucket b;
    b.first_x = x;
    b.columns.resize(columns_);
    buckets_.push_back(std::move(b));
  }
  Bucket& b = buckets_.back();
  b.last_x = x;
  ++b.rows;
  for (size_t j = 0; j < columns_; ++j) {
    Extremes& e = b.columns[j];
    Absorb(values[j], rows_, e.any, e.min, e.min_row, e.max, e.max_row);
  }
  ++rows_;
}

MinMaxDownsampler::Points MinMaxDownsampler::Finish() const {
  Points p;
  p.rows = rows_;
  p.rows_per_bucket = width_;
  p.columns.resize(columns_);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const Bucket& b : buckets_) {
    const bool two = b.rows > 1;
    p.x.push_back(b.first_x);
    if (two) p.x.push_back(b.last_x);
    for (size_t j = 0; j < columns_; ++j) {
      const Extremes& e = b.columns[j];
      std::vector<double>& col = p.columns[j];
      if (!e.any) {
        col.push_back(nan);
        if (two) col.push_back(nan);
      } else if (!two) {
        col.push_back(e.min);
      } else if (e.min_row <= e.max_row) {
        col.push_back(e.min);
        col.push_back(e.max);
      } else {
        col.push_back(e.max);
        col.push_back(e.min);
      }
    }
  }
  return p;
}

}  // namespace firstwall::report
