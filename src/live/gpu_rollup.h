// GPU rollups kept while ingest runs, so that the twin against reality over a day of a
// 10,000-GPU site reads two series per quantity instead of 10,000 (864 million samples).
//
// For each rolled quantity (GPU power, W, and GPU temperature, C: the two the twin reads, see
// twin_check.h) and each bucket of `bucket_s` of site time, aligned to multiples of it since the
// Unix epoch, every GPU's value is the mean of its samples in the bucket or, when it sent none,
// its last bucket's value for at most `max_hold_buckets` buckets (as twin_check's per-GPU path
// resamples each stream). The bucket's rollup is two samples at its start:
//   entity rollup, id gpu-<quantity>-sum,   quantity <quantity>, unit W or C: the sum over GPUs
//   entity rollup, id gpu-<quantity>-count, quantity count,      unit 1:      GPUs in the sum
// stored under the source `firstwall-rollup` (kind rollup), which `firstwall quality` does not
// score. A compare uses a bucket only when its count is every GPU's.
//
// A bucket is closed (stored) once a read starts `close_after_s` past its end (ingest sets the
// longest interval of the GPU sources, plus one bucket, plus 10 s for samples that come late, as a
// Prometheus server's remote-write batches do: every GPU source was read again after it);
// a sample for a closed bucket is counted as late and left out (it is in the samples table); a
// sample more than `close_after_s` ahead of the read that brought it (a clock far ahead) is
// counted and left out too, so memory stays bounded: one accumulator per GPU and open bucket.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "live/store.h"

namespace firstwall::live {

constexpr const char* kRollupSource = "firstwall-rollup";
constexpr const char* kRollupKind = "rollup";

// The rollup's series key for GPU `quantity` ("power" or "temperature"): its sum, or its count.
SeriesKey RollupKey(const std::string& quantity, bool count);

class GpuRollup {
 public:
  // InputError (at "--gpu-rollup") when the store already holds a rollup of another bucket.
  GpuRollup(Store& store, double bucket_s, double close_after_s, int max_hold_buckets = 5);
  // Whether ingest rolls up a series of this entity and quantity.
  static bool Rolls(std::string_view entity, std::string_view quantity);
  // The GPU's slot for AddSample, or -1 when the series is not rolled up.
  int AddSeries(int64_t series, const SeriesKey& key);
  void AddSample(int slot, const SamplePoint& p);
  // A read starting at site time t_ms: closes the buckets that ended close_after_s before.
  void AddRead(int64_t t_ms);
  // Closes every open bucket (the end of an ingest: the last ones are partial).
  void Finish();

  int64_t buckets_stored() const { return stored_; }
  int64_t late() const { return late_; }    // samples for buckets already closed
  int64_t ahead() const { return ahead_; }  // samples too far ahead of their read

 private:
  struct Acc {
    double sum = 0;
    int n = 0;
  };
  struct Gpu {
    int64_t last_bucket = INT64_MIN;
    double last_value = 0;
  };
  struct Rolled {
    std::string quantity;
    int64_t sum_id = 0, count_id = 0;
    std::vector<Gpu> gpus;                     // by slot
    std::map<int64_t, std::vector<Acc>> open;  // bucket index -> accumulator per slot
  };
  struct Slot {
    size_t rolled = 0, gpu = 0;
  };

  void CloseBefore(int64_t bucket);  // closes the open buckets with index < bucket

  Store& store_;
  int64_t bucket_ms_, close_after_ms_;
  int max_hold_;
  std::vector<Rolled> rolled_;
  std::map<int64_t, int> by_series_;  // series id -> its slot
  std::vector<Slot> slots_;
  int64_t next_ = INT64_MIN;     // first bucket not closed yet
  int64_t read_ms_ = INT64_MIN;  // the latest read's start
  int64_t stored_ = 0, late_ = 0, ahead_ = 0;
};

}  // namespace firstwall::live
