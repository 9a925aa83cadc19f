#include "live/gpu_rollup.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/error.h"

namespace firstwall::live {
namespace {
int64_t FloorDiv(int64_t t, int64_t step) { return t / step - ((t % step) < 0 ? 1 : 0); }
}  // namespace

SeriesKey RollupKey(const std::string& quantity, bool count) {
  const char* unit = quantity == "power" ? "W" : "C";
  return {"rollup",
          fmt::format("gpu-{}-{}", quantity, count ? "count" : "sum"),
          count ? "count" : quantity,
          count ? "1" : unit,
          kRollupSource,
          fmt::format("{}(gpu {})", count ? "count" : "sum", quantity)};
}

GpuRollup::GpuRollup(Store& store, double bucket_s, double close_after_s, int max_hold_buckets)
    : store_(store),
      bucket_ms_(std::max<int64_t>(1, std::llround(bucket_s * 1000))),
      close_after_ms_(std::max<int64_t>(0, std::llround(close_after_s * 1000))),
      max_hold_(max_hold_buckets) {
  FW_CHECK(bucket_s > 0, "a rollup bucket must be positive");
  const double bucket = static_cast<double>(bucket_ms_) / 1000;
  // One bucket length per store: compare reads the rollup's buckets at the source's interval.
  for (const SourceInfo& s : store_.Sources()) {
    if (s.name == kRollupSource && std::abs(s.interval_s - bucket) > 1e-9) {
      throw InputError({"--gpu-rollup", 0, 0},
                       fmt::format("the store's GPU rollup has {:g} s buckets, this ingest's "
                                   "would be {:g} s",
                                   s.interval_s, bucket),
                       fmt::format("--gpu-rollup {:g}s, or another --db", s.interval_s));
    }
  }
  store_.PutSource({kRollupSource, kRollupKind, "", bucket});
}

bool GpuRollup::Rolls(std::string_view entity, std::string_view quantity) {
  return entity == "gpu" && (quantity == "power" || quantity == "temperature");
}

int GpuRollup::AddSeries(int64_t series, const SeriesKey& key) {
  if (!Rolls(key.entity, key.quantity)) return -1;
  if (const auto known = by_series_.find(series); known != by_series_.end()) return known->second;
  auto r = std::find_if(rolled_.begin(), rolled_.end(),
                        [&](const Rolled& x) { return x.quantity == key.quantity; });
  if (r == rolled_.end()) {
    Rolled n;
    n.quantity = key.quantity;
    n.sum_id = store_.SeriesId(RollupKey(key.quantity, false));
    n.count_id = store_.SeriesId(RollupKey(key.quantity, true));
    rolled_.push_back(std::move(n));
    r = rolled_.end() - 1;
  }
  const int slot = static_cast<int>(slots_.size());
  slots_.push_back({static_cast<size_t>(r - rolled_.begin()), r->gpus.size()});
  r->gpus.emplace_back();
  by_series_[series] = slot;
  return slot;
}

void GpuRollup::AddSample(int slot, const SamplePoint& p) {
  if (slot < 0 || static_cast<size_t>(slot) >= slots_.size() || !std::isfinite(p.value)) return;
  const Slot& s = slots_[static_cast<size_t>(slot)];
  const int64_t b = FloorDiv(p.t_ms, bucket_ms_);
  if (next_ != INT64_MIN && b < next_) {
    ++late_;
    return;
  }
  if (read_ms_ != INT64_MIN && p.t_ms > read_ms_ + close_after_ms_) {
    ++ahead_;
    return;
  }
  if (next_ == INT64_MIN) next_ = b;
  Rolled& r = rolled_[s.rolled];
  std::vector<Acc>& acc = r.open[b];
  if (acc.size() < r.gpus.size()) acc.resize(r.gpus.size());
  acc[s.gpu].sum += p.value;
  ++acc[s.gpu].n;
}

void GpuRollup::AddRead(int64_t t_ms) {
  read_ms_ = std::max(read_ms_, t_ms);
  CloseBefore(FloorDiv(t_ms - close_after_ms_, bucket_ms_));
}

void GpuRollup::Finish() {
  int64_t last = INT64_MIN;
  for (const Rolled& r : rolled_) {
    if (!r.open.empty()) last = std::max(last, r.open.rbegin()->first);
  }
  if (last != INT64_MIN) CloseBefore(last + 1);
}

void GpuRollup::CloseBefore(int64_t bucket) {
  if (next_ == INT64_MIN || bucket <= next_) return;
  for (Rolled& r : rolled_) {
    int64_t newest = INT64_MIN;  // the GPUs' latest bucket with samples: holds end after it
    for (const Gpu& g : r.gpus) newest = std::max(newest, g.last_bucket);
    std::vector<SamplePoint> sums, counts;
    int64_t b = next_;
    while (b < bucket) {
      const auto open = r.open.find(b);
      if (open == r.open.end()) {
        // Nothing arrived for this bucket: only holds fill it, and none past max_hold_.
        if (newest == INT64_MIN || b - newest > max_hold_) {
          b = r.open.empty() ? bucket : std::min(bucket, r.open.begin()->first);
          continue;
        }
      }
      double sum = 0;
      int count = 0;
      for (size_t g = 0; g < r.gpus.size(); ++g) {
        Gpu& gpu = r.gpus[g];
        if (open != r.open.end() && g < open->second.size() && open->second[g].n > 0) {
          gpu.last_value = open->second[g].sum / open->second[g].n;
          gpu.last_bucket = b;
          newest = b;
        } else if (gpu.last_bucket == INT64_MIN || b - gpu.last_bucket > max_hold_) {
          continue;
        }
        sum += gpu.last_value;
        ++count;
      }
      if (count > 0) {
        const int64_t t = b * bucket_ms_, arrival = read_ms_ == INT64_MIN ? 0 : read_ms_;
        sums.push_back({t, sum, arrival});
        counts.push_back({t, static_cast<double>(count), arrival});
      }
      if (open != r.open.end()) r.open.erase(open);
      ++b;
    }
    if (!sums.empty()) {
      store_.Append(r.sum_id, sums);
      store_.Append(r.count_id, counts);
      stored_ += static_cast<int64_t>(sums.size());
    }
  }
  next_ = bucket;
}

}  // namespace firstwall::live
