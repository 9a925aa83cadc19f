#include "live/quality_windows.h"

#include <cmath>

#include "core/error.h"

namespace firstwall::live {

QualityWindows::QualityWindows(Store& store, double window_s, std::vector<Balance> balances)
    : store_(store),
      window_ms_(static_cast<int64_t>(std::llround(window_s * 1000))),
      balances_(std::move(balances)) {
  FW_CHECK(window_ms_ > 0, "a quality window must be positive");
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
    start_ms_ = t_ms - ((t_ms % window_ms_) + window_ms_) % window_ms_;
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
  store_.PutQualityWindows(WindowRecords(q, start_ms_, start_ms_ + window_ms_));
  ++closed_;
}

}  // namespace firstwall::live
