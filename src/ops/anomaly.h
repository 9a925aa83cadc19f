// Anomaly detection (docs/operations.md, "Anomalies"): residuals of measured series against what
// the twin expects, thresholds learned on a calibration window (k-sigma on the residual's robust
// standard deviation, and a two-sided CUSUM), alarms localized through the site's topology
// (gpu -> node -> rack -> cdu; chiller, pdu, nic, facility) into ops::Finding rows.
//
// Residual r = measured - expected, in the quantity's base unit (W, C, %), per step of the twin's
// common steps (live::AssembleMeasured):
//   gpu/ID power, utilization   minus the median of the GPUs' at that step (its siblings: in
//                               lockstep training every GPU does the same work), the median taken
//                               again without the GPUs more than 4 spreads (1.4826 MAD) from the
//                               first; power relative to that median
//   gpu/ID temperature          minus the twin's GPU coolant temperature (live::PredictSignals,
//                               driven by the measured GPU power and outdoor air)
//   cdu/ID temperature          minus the twin's GPU coolant temperature
//   chiller_power, cooling_power (twin signals) minus the twin's prediction
//   pdu/ID power                minus the rate of the same PDU's energy counter (pdu/ID energy)
//   nic/ID link_rate            minus the scenario's NIC rate (cluster.nic_bandwidth, Gb/s); an
//                               exact expectation (Residual::exact), sigma 0.5 % of that rate
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "live/store.h"
#include "ops/finding.h"
#include "site/site_config.h"

namespace firstwall::ops {

// A residual's thresholds, learned from its first `calibration` steps.
struct Thresholds {
  double offset = 0;    // median residual of the calibration (the twin's steady bias), base unit
  double sigma = 1;     // robust std: max(1.4826 x MAD, floor), base unit
  double k = 5;         // k-sigma: |z| > k alarms; max(5, 1.2 x max |z| of the calibration)
  double drift = 1;     // CUSUM allowance in sigmas: max(1, 2 x std of 10-step block means of z)
  double h = 8;         // CUSUM threshold in sigmas: max(8, 1.5 x largest CUSUM of the calibration)
  int calibration = 0;  // steps with a residual that it was learned on
};

// `floor`: the least sigma (a sensor's resolution, a share of the level). NaN residuals are
// skipped. Needs at least 10 finite residuals (else calibration = the count and the defaults).
// `exact`: the expectation has no bias to learn (Residual::exact): calibration = the count, sigma
// = floor and the defaults, whatever the residuals show.
Thresholds Learn(std::span<const double> residual, double floor, bool exact = false);

// The first alarm of a residual after `from_step` (the calibration's end): k-sigma when |z| > k on
// two consecutive steps (one wild sample is no alarm), CUSUM on z clipped to [-k, k] (so one wild
// sample adds at most k - drift < h).
struct Alarm {
  bool raised = false;
  std::string detector;  // "k_sigma" or "cusum"
  size_t start = 0;      // step the evidence starts: the CUSUM's last zero, or the k-sigma step
  size_t step = 0;       // step it was raised at
  double residual = 0;   // mean of r - offset over [start, step], base unit
  double score = 0;      // that mean over sigma
};
Alarm FirstAlarm(std::span<const double> residual, const Thresholds& t, size_t from_step);

// FirstAlarm fed one step at a time, from `from_step` on (what AnomalyWatch keeps between
// updates): the same alarm as FirstAlarm over the same residuals. `relative`: the residual is a
// fraction of a level (Residual::level), and the alarm's residual is turned back into the base
// unit by the level's mean over the alarm (NaN levels skipped; NaN when none).
class AlarmScan {
 public:
  AlarmScan() = default;
  AlarmScan(const Thresholds& t, size_t from_step, bool relative = false);
  // The residual and level of step next_step() (NaN: unknown). Once raised, the alarm stays as it
  // was raised.
  void Feed(double residual, double level = std::numeric_limits<double>::quiet_NaN());
  const Alarm& alarm() const { return alarm_; }
  size_t next_step() const { return next_; }

 private:
  // The sums over a stretch of steps from `start`: of r - offset (finite r) and of the level.
  struct Evidence {
    size_t start = 0;
    double sum = 0, level_sum = 0;
    int n = 0, level_n = 0;
  };
  void Step(double residual, double level);
  void Raise(const char* detector, const Evidence& e);
  Thresholds t_;
  bool relative_ = false;
  size_t next_ = 0;
  double up_ = 0, down_ = 0;
  size_t beyond_ = 0;
  int side_ = 0;
  Evidence up_e_, down_e_, beyond_e_;
  Alarm alarm_;
};

// One measured series against its expectation.
struct Residual {
  std::string entity, id, quantity, unit;
  std::string expected;       // what it is compared with, for people
  std::vector<double> value;  // per step; NaN where unknown
  // When not empty, `value` is relative to this expected level (a fraction: GPU power, whose
  // spread grows with its level) and the alarm's residual is turned back into the base unit by
  // the level's mean over the alarm.
  std::vector<double> level;
  double floor = 0;  // least sigma
  // The expectation is exact, not a model with a bias (a port's rate is its nominal rate when
  // healthy): nothing is learned, so a fault already on in the calibration window is still found.
  // Offset 0, sigma = floor, k, drift and h their least values.
  bool exact = false;
  Thresholds thresholds;
  Alarm alarm;
};

// Where the twin's steps are.
struct Steps {
  std::vector<int64_t> t_ms;  // start of each step
  double step_s = 0;
};

struct Topology {
  int nodes = 0, gpus_per_node = 1, nodes_per_rack = 1, racks_per_cdu = 1;
  static Topology Of(const site::SiteConfig& config);
};

// Localization: alarms of GPU series are grouped by class (power and utilization: work;
// temperature: heat). A node explains its GPUs' alarms when at least half of its GPUs (and two)
// alarmed; a rack when at least half of its nodes (and two) are explained; for heat, a CDU when
// its own supply series alarmed or at least half of its nodes (and two) are. Each alarm is
// reported once, by the widest of these that explains it, else by its GPU; a chiller alarm
// explains the cooling plant's; other entities report themselves (a NIC whose rate fell:
// degraded_nic). Findings come sorted by
// detection time, then target.
std::vector<Finding> Localize(const std::vector<Residual>& residuals, const Steps& steps,
                              const Topology& topology);

struct AnomalyOptions {
  double calibrate_s = 3600;  // the calibration window, from the first step
  int64_t from_ms = std::numeric_limits<int64_t>::min();
  int64_t to_ms = std::numeric_limits<int64_t>::max();
  double step_s = 0;  // 0: the twin's (median spacing of the GPU power samples)
};

struct AnomalyReport {
  Steps steps;
  size_t calibration_steps = 0;
  std::vector<Residual> residuals;
  std::vector<Finding> findings;
};

// A store's residuals on the twin's steps, without thresholds or alarms.
struct ResidualOptions {
  int64_t from_ms = std::numeric_limits<int64_t>::min();
  int64_t to_ms = std::numeric_limits<int64_t>::max();
  double step_s = 0;  // 0: the twin's (median spacing of the GPU power samples)
  // The store's time zero and the steps' grid (live::AssembleOptions::zero_ms); else the first
  // GPU power sample in the window.
  std::optional<int64_t> zero_ms;
  // When set, the series compared (every GPU's, the CDUs', NICs' and PDUs') are read from here on
  // only, their steps before it unknown, and the twin's inputs (from from_ms) take ingest's GPU
  // rollup where the store has one (live::AssembleOptions::per_gpu false): AnomalyWatch's window,
  // whose steps before this are the twin's warm-up and are not judged.
  std::optional<int64_t> series_from_ms;
  // Each residual's floor is taken over its first calibrate_s (over all its steps when it has no
  // measurement there): a threshold learned on the calibration looks at nothing after it.
  double calibrate_s = 3600;
};
struct ResidualSet {
  Steps steps;
  size_t calibration_steps = 0;  // ceil(calibrate_s / step), however many steps there are
  std::vector<Residual> residuals;
  std::string twin_gpu_from;  // where the twin's GPU power came from (live::MeasuredSite)
};
ResidualSet BuildResiduals(live::Store& store, const site::SiteConfig& config,
                           const ResidualOptions& options);

// InputError (at "--calibrate") unless `calibration_steps` is at least 10 and leaves a step of
// `steps` to watch.
void CheckCalibration(size_t calibration_steps, const Steps& steps, double calibrate_s);

// Builds the residuals from a store, learns each one's thresholds on the first calibrate_s,
// watches the rest and localizes the alarms. InputError (at "--calibrate") when the calibration
// window leaves fewer than 10 steps to learn on or nothing to watch; the store's errors as
// live::AssembleMeasured has them.
AnomalyReport DetectAnomalies(live::Store& store, const site::SiteConfig& config,
                              const AnomalyOptions& options);

// Each step's mean of a series' samples on `steps` (NaN where none): [t_ms[k], t_ms[k] + step).
std::vector<double> OnSteps(std::span<const live::SamplePoint> samples, const Steps& steps);

}  // namespace firstwall::ops
