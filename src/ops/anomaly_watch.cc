// DetectAnomalies kept up to date step by step (anomaly_watch.h).
#include "ops/anomaly_watch.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/error.h"

namespace firstwall::ops {
namespace {

constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::min();

}  // namespace

AnomalyWatch::AnomalyWatch(site::SiteConfig config, double calibrate_s, double warmup_s,
                           int holdback_steps)
    : config_(std::move(config)),
      calibrate_s_(calibrate_s),
      warmup_s_(warmup_s),
      holdback_steps_(holdback_steps) {
  FW_CHECK(calibrate_s > 0 && warmup_s > 0 && holdback_steps >= 1,
           "a calibration and a warm-up of some seconds, a hold-back of a step or more");
}

AnomalyWatch::Status AnomalyWatch::Update(live::Store& store, int64_t until_ms) {
  const auto hold = static_cast<size_t>(holdback_steps_);
  if (!zero_ms_) {
    RefuseBeforeTheCalibration(store, until_ms);
    ResidualOptions o;
    o.to_ms = until_ms;
    o.calibrate_s = calibrate_s_;
    ResidualSet set = BuildResiduals(store, config_, o);
    // The calibration's steps must all be complete (held back) before it is learned: until then
    // the store is young, which is no error of anyone's.
    const size_t n = set.steps.t_ms.size();
    if (set.calibration_steps < 10) {
      CheckCalibration(set.calibration_steps, set.steps, calibrate_s_);  // too few to learn on
    }
    if (set.calibration_steps >= n || n - set.calibration_steps <= hold) {
      throw InputError({"--calibrate", 0, 0},
                       fmt::format("the detector learns on the store's first {:g} s ({} steps of "
                                   "{:g} s) and judges a step once {} newer ones have samples; the "
                                   "store holds {} steps: nothing to watch yet",
                                   calibrate_s_, set.calibration_steps, set.steps.step_s, hold, n));
    }
    zero_ms_ = set.steps.t_ms.front();
    step_ms_ = std::llround(set.steps.step_s * 1000);
    calibration_steps_ = set.calibration_steps;
    next_ = calibration_steps_;
    for (Residual& r : set.residuals) {
      r.thresholds = Learn(std::span(r.value).first(std::min(calibration_steps_, r.value.size())),
                           r.floor, r.exact);
    }
    Watch(set, calibration_steps_, set.steps.t_ms.size() - hold, 0, true);
    return last_ = Report();
  }
  const auto warmup_steps =
      static_cast<size_t>(std::ceil(warmup_s_ * 1000 / static_cast<double>(step_ms_) - 1e-9));
  const size_t from_step = next_ > warmup_steps ? next_ - warmup_steps : 0;
  ResidualOptions o;
  o.zero_ms = zero_ms_;
  o.from_ms = *zero_ms_ + static_cast<int64_t>(from_step) * step_ms_;
  o.to_ms = until_ms;
  // The series judged are read from the step before the first new one (a counter's rate needs
  // the sample before).
  o.series_from_ms = *zero_ms_ + static_cast<int64_t>(next_ > 0 ? next_ - 1 : 0) * step_ms_;
  o.step_s = static_cast<double>(step_ms_) / 1000;
  // A series new in this window takes its floor from all of it.
  o.calibrate_s = std::numeric_limits<double>::infinity();
  ResidualSet set;
  try {
    set = BuildResiduals(store, config_, o);
  } catch (const InputError& e) {
    // No GPU power sample since the window's start (ingest stopped for longer than the warm-up):
    // nothing new to watch, and what was found stays.
    last_.note = std::string("nothing new was watched: ") + e.what();
    return last_;
  }
  const size_t steps = set.steps.t_ms.size();
  if (steps <= hold || from_step + steps - hold <= next_) {
    last_.note = "";
    return last_;
  }
  Watch(set, next_ - from_step, steps - hold, from_step, false);
  return last_ = Report();
}

void AnomalyWatch::RefuseBeforeTheCalibration(live::Store& store, int64_t until_ms) {
  if (!probe_) {
    for (const live::SeriesInfo& s : store.SeriesOf("gpu")) {
      if (s.key.quantity == "power") {
        probe_ = s.id;
        break;
      }
    }
    if (!probe_) return;  // BuildResiduals says what is missing
  }
  if (!probe_first_ms_) {
    for (const live::SamplePoint& p : store.SamplesSince(*probe_, kNoLimit)) {
      if (std::isfinite(p.value)) {
        probe_first_ms_ = p.t_ms;
        break;
      }
    }
    if (!probe_first_ms_) return;
  }
  const std::optional<live::SamplePoint> newest = store.Newest(*probe_);
  if (!newest) return;
  const double spanned_s =
      static_cast<double>(std::min(newest->t_ms, until_ms) - *probe_first_ms_) / 1000;
  if (spanned_s < calibrate_s_) {
    throw InputError(
        {"--calibrate", 0, 0},
        fmt::format("the detector learns on the store's first {:g} s of GPU power; the "
                    "store holds {:.0f} s: nothing to watch yet",
                    calibrate_s_, std::max(0.0, spanned_s)));
  }
}

void AnomalyWatch::Watch(const ResidualSet& set, size_t from_local, size_t to_local, size_t global0,
                         bool learned) {
  const double nan = std::nan("");
  for (const Residual& r : set.residuals) {
    const Key key{r.entity, r.id, r.quantity};
    auto [it, added] = index_.try_emplace(key, residuals_.size());
    if (added) {
      Residual kept = r;
      kept.value.clear();
      kept.level.clear();
      // A series first seen after the calibration is learned on nothing, as DetectAnomalies
      // learns a series absent from its calibration.
      if (!learned) kept.thresholds = Learn({}, r.floor, r.exact);
      residuals_.push_back(std::move(kept));
      scans_.emplace_back(residuals_.back().thresholds, global0 + from_local, !r.level.empty());
    }
    AlarmScan& scan = scans_[it->second];
    // Steps this series had no residual for (its window lacked an input): unknown.
    while (scan.next_step() < global0 + from_local) scan.Feed(nan);
    for (size_t k = scan.next_step() - global0; k < to_local; ++k) {
      scan.Feed(r.value[k], r.level.empty() ? nan : r.level[k]);
    }
    residuals_[it->second].alarm = scan.alarm();
  }
  next_ = global0 + to_local;
  twin_gpu_from_ = set.twin_gpu_from;
}

AnomalyWatch::Status AnomalyWatch::Report() const {
  Status s;
  Steps steps;
  steps.step_s = static_cast<double>(step_ms_) / 1000;
  steps.t_ms.reserve(next_);
  for (size_t k = 0; k < next_; ++k) {
    steps.t_ms.push_back(*zero_ms_ + static_cast<int64_t>(k) * step_ms_);
  }
  s.findings = Localize(residuals_, steps, Topology::Of(config_));
  s.residuals = residuals_.size();
  s.steps = next_;
  s.calibration_steps = calibration_steps_;
  s.step_s = steps.step_s;
  s.twin_gpu_from = twin_gpu_from_;
  return s;
}

}  // namespace firstwall::ops
