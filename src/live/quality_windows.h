// Quality scored while ingest runs, one window of site time after another, so that a long span
// (a day of a 10,000-GPU site) is scored by merging stored windows (quality.h's MergeWindows)
// instead of reading every sample again. Each window is scored as `firstwall quality` scores a
// store (AssessQuality over the window's samples, the site map's balances included), with the
// last sample and scale of the window before carried in, so a unit change, counter reset or
// duplicate at a window's edge is still seen. What is not carried: a stuck run or a gap that spans
// two windows is judged in each (a run shorter than five samples in both is not seen).
//
// Windows are folded into stored rows of `bucket_s` (weighted as MergeWindows weighs them), so a
// day of a 150,000-stream site is 14.4 million rows at 15 min, not 216 million at 1 min. Memory:
// the samples of one window (for 150,000 streams at 1 s and a 60 s window, 9 million samples, about
// 220 MB) and one row per stream.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "live/quality.h"
#include "live/site_map.h"
#include "live/store.h"

namespace firstwall::live {

class QualityWindows {
 public:
  // `window_s` of site time, windows aligned to multiples of it since the Unix epoch, stored per
  // `bucket_s` (a whole multiple of window_s, aligned the same way).
  QualityWindows(Store& store, double window_s, std::vector<Balance> balances,
                 double bucket_s = 900);
  void AddSeries(const SeriesInfo& series, double interval_s);
  void AddSample(int64_t series, const SamplePoint& p);
  // A read of `source` that started at t_ms (answered or not); call before its samples. Closes the
  // open window first when t_ms is past its end.
  void AddRead(const std::string& source, int64_t t_ms, bool ok, double duration_ms);
  // Scores the open window (partial at the end of an ingest) and stores the rows it completes.
  void Close();
  // Close() and store the open bucket, partial: the end of an ingest.
  void Finish();
  int64_t windows_closed() const { return closed_; }

 private:
  struct Stream {
    SeriesInfo series;
    double interval_s = 1;
    std::vector<SamplePoint> samples;
    std::optional<SamplePoint> previous;
    int previous_scale = 0;
  };
  struct Reads {
    int64_t first_ms = 0, last_ms = 0;
    double ok_ms = 0;
    int ok = 0, reads = 0;
  };

  // Folds a window's record into its bucket (weighted sums; reasons appended, a few kept).
  void Fold(const QualityWindowRecord& w);
  void Emit(int64_t before_ms);

  Store& store_;
  int64_t window_ms_, bucket_ms_;
  struct Bucket {
    int64_t start_ms = 0;
    WindowSum sum;
  };
  std::map<int64_t, Bucket> buckets_;  // by series: the open bucket's rows
  std::vector<Balance> balances_;
  std::map<int64_t, Stream> streams_;   // by series id: a deterministic order
  std::map<std::string, Reads> reads_;  // this window's, by source
  int64_t start_ms_ = 0;
  bool open_ = false;
  int64_t closed_ = 0;
};

}  // namespace firstwall::live
