#include "live/quality_windows.h"

#include <cmath>
#include <cstdint>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace firstwall::live {

QualityWindows::QualityWindows(Store& store, double window_s, std::vector<Balance> balances,
                               double bucket_s)
    : store_(store),
      window_ms_(static_cast<int64_t>(std::llround(window_s * 1000))),
      bucket_ms_(static_cast<int64_t>(std::llround(bucket_s * 1000))),
      balances_(std::move(balances)) {
  FW_CHECK(window_ms_ > 0, "a quality window must be positive");
  // A window longer than the bucket is stored on its own.
  if (bucket_ms_ < window_ms_) bucket_ms_ = window_ms_;
  bucket_ms_ -= bucket_ms_ % window_ms_;
}

namespace {
int64_t Floor(int64_t t, int64_t step) { return t - ((t % step) + step) % step; }
}  // namespace

void QualityWindows::Fold(const QualityWindowRecord& w) {
  Bucket& b = buckets_[w.series];
  if (b.sum.count == 0) b.start_ms = Floor(w.start_ms, bucket_ms_);
  // Each reason keeps the window it came from (times in it are from the window's start).
  b.sum.Add(w, 6, [&](const std::string& why) {
    return bucket_ms_ == window_ms_
               ? why
               : fmt::format("[window +{:g} s] {}",
                             static_cast<double>(w.start_ms - b.start_ms) / 1000, why);
  });
}

void QualityWindows::Emit(int64_t before_ms) {
  std::vector<QualityWindowRecord> rows;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const Bucket& b = it->second;
    if (b.start_ms + bucket_ms_ > before_ms) {
      ++it;
      continue;
    }
    QualityWindowRecord row;
    row.series = it->first;
    row.start_ms = b.start_ms;
    row.end_ms = b.start_ms + bucket_ms_;
    for (size_t d = 0; d < 5; ++d) {
      row.score[d] = b.sum.Score(d);
      row.weight[d] = b.sum.weight[d];
      if (!b.sum.reasons[d].empty()) row.reasons[d] = nlohmann::json(b.sum.reasons[d]).dump();
    }
    rows.push_back(std::move(row));
    it = buckets_.erase(it);
  }
  if (!rows.empty()) store_.PutQualityWindows(rows);
}

void QualityWindows::Finish() {
  Close();
  Emit(INT64_MAX);
}

void QualityWindows::AddSeries(const SeriesInfo& series, double interval_s) {
  Stream& s = streams_[series.id];
  s.series = series;
  s.interval_s = interval_s;
}

void QualityWindows::AddSample(int64_t series, const SamplePoint& p) {
  auto it = streams_.find(series);
  if (it != streams_.end()) it->second.samples.push_back(p);
}

void QualityWindows::AddRead(const std::string& source, int64_t t_ms, bool ok, double duration_ms) {
  if (open_ && t_ms >= start_ms_ + window_ms_) Close();
  if (!open_) {
    start_ms_ = Floor(t_ms, window_ms_);
    open_ = true;
  }
  Reads& r = reads_[source];
  if (r.reads++ == 0) r.first_ms = t_ms;
  r.last_ms = t_ms;
  if (ok) {
    r.ok_ms += duration_ms;
    ++r.ok;
  }
}

void QualityWindows::Close() {
  if (!open_) return;
  open_ = false;
  std::vector<StreamInput> inputs;
  std::vector<Stream*> judged;
  for (auto& [id, s] : streams_) {
    auto r = reads_.find(s.series.key.source);
    if (r == reads_.end()) continue;  // its source was not read in this window
    StreamInput in;
    in.series = s.series;
    in.samples = std::move(s.samples);
    in.interval_s = s.interval_s;
    in.window_start_ms = r->second.first_ms;
    in.window_end_ms = r->second.last_ms;
    in.lag_ms = r->second.ok > 0 ? r->second.ok_ms / r->second.ok : 0;
    in.previous = s.previous;
    in.previous_scale = s.previous_scale;
    inputs.push_back(std::move(in));
    judged.push_back(&s);
    s.samples.clear();
  }
  reads_.clear();
  if (inputs.empty()) return;
  const QualityReport q = AssessQuality(inputs, balances_);
  for (size_t i = 0; i < judged.size(); ++i) {
    judged[i]->previous = q.streams[i].last;
    judged[i]->previous_scale = q.streams[i].end_scale;
  }
  for (const QualityWindowRecord& w : WindowRecords(q, start_ms_, start_ms_ + window_ms_)) Fold(w);
  ++closed_;
  Emit(start_ms_ + window_ms_);
}

}  // namespace firstwall::live
