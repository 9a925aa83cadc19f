// The anomaly detector of a server that asks again and again (the dashboard's /api/anomalies):
// DetectAnomalies' findings kept up to date by reading only what is new (docs/operations.md,
// "Anomalies").
//
// DetectAnomalies reads the whole store each time: a day's store of 10,000 GPUs is 24 times the
// work of an hour's, and a server asking every minute spends a growing share of a core. The watch
// learns each residual's thresholds once, on the store's first calibrate_s as DetectAnomalies
// does, and then feeds each residual's detectors (AlarmScan) the steps that are new since its last
// update. A residual's steps are DetectAnomalies' (the same grid from the first GPU power sample,
// the same expectations), except:
// - The twin's expectations (the GPU coolant temperature, the chiller and cooling power) are run
//   over a window that starts `warmup_s` before the first new step, the plant's loops settled at
//   that window's first heat (AssembleOptions::settle_s) where a whole-store run carries them from
//   the store's first step. anomaly_watch_test compares the two.
// - A step is watched once `holdback_steps` newer steps have a GPU power sample: samples of one
//   scrape reach the store series by series, and a step read while it fills would be judged on
//   part of it (DetectAnomalies judges it again at its next call; the watch would not).
// - Samples that reach the store for a step already judged are not judged: ones stamped more than
//   holdback_steps behind the newest, as a second `firstwall ingest --speed` writes when its clock
//   starts again inside the first one's times (docs/live.md). A whole-store run sees them.
// A series that first reports after the calibration is learned on nothing (Learn's defaults, its
// floor from its first window), as DetectAnomalies learns it on its calibration's missing values.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "live/store.h"
#include "ops/anomaly.h"
#include "site/site_config.h"

namespace firstwall::ops {

class AnomalyWatch {
 public:
  // `calibrate_s`, `warmup_s` in s, both > 0; `holdback_steps` >= 1.
  AnomalyWatch(site::SiteConfig config, double calibrate_s, double warmup_s = 1800,
               int holdback_steps = 2);

  struct Status {
    std::vector<Finding> findings;  // every alarm so far, as Localize reports them
    size_t residuals = 0;           // series watched
    size_t steps = 0;               // steps watched, the calibration's included
    size_t calibration_steps = 0;
    double step_s = 0;
    std::string note;           // why nothing new was watched at the last update, when so
    std::string twin_gpu_from;  // the last window's twin input (ingest's rollup, or every GPU)
  };
  // Reads the store's new steps (its samples up to `until_ms`, ms since the Unix epoch) and
  // returns the findings so far. Until the store spans the calibration and one step to watch,
  // DetectAnomalies' InputError (and the next call tries again); the store's errors as
  // live::AssembleMeasured has them. A store with nothing new returns the last status.
  Status Update(live::Store& store, int64_t until_ms = std::numeric_limits<int64_t>::max());

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // entity, id, quantity
  // Feeds the set's steps [from_local, to_local) (step global0 + k of the grid); `learned`: its
  // residuals carry their thresholds (the calibration's set), else new series learn on nothing.
  void Watch(const ResidualSet& set, size_t from_local, size_t to_local, size_t global0,
             bool learned);
  Status Report() const;
  // Before the first update that learns: InputError while one GPU power series spans less than
  // the calibration (the whole store is read only once it may be enough).
  void RefuseBeforeTheCalibration(live::Store& store, int64_t until_ms);

  site::SiteConfig config_;
  double calibrate_s_, warmup_s_;
  int holdback_steps_;
  // The grid, once the calibration is learned: steps at zero_ms_ + k step_ms_.
  std::optional<int64_t> zero_ms_;
  int64_t step_ms_ = 0;
  size_t calibration_steps_ = 0;
  size_t next_ = 0;  // the first step not yet watched
  // Each series watched (without its values: its thresholds and alarm), its detectors alongside.
  std::vector<Residual> residuals_;
  std::vector<AlarmScan> scans_;
  std::map<Key, size_t> index_;
  Status last_;
  std::optional<int64_t> probe_, probe_first_ms_;
  std::string twin_gpu_from_;  // the last window's (Status::twin_gpu_from)  // that GPU power
                               // series, its first sample
};

}  // namespace firstwall::ops
