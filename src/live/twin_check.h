// The twin against reality (issue #13, docs/live.md "Twin against reality"): the design models of
// the facility driven by measured inputs, their predictions compared with measured signals, and the
// statistics of ASHRAE Guideline 14-2014 per signal and window.
//
// Inputs, read from a Store by entity and quantity (tests/inputs/live-site-map.yaml binds them):
//   GPU power      every series entity=gpu, quantity=power (W), summed per step; by default from
//                  ingest's rollup of them (gpu_rollup.h) where it holds every GPU
//   outdoor air    the first series entity=weather_station, quantity=temperature (C); none: the
//                  scenario's weather (said in MeasuredSite::outdoor_from)
// The twin's IT load per step is the measured GPU power, plus the idle power of GPUs the scenario
// has and the store does not, plus cluster.nodes x the node's non-GPU power (node_base_power and
// its share of the fabric's switches, site::NodeFixedWatts; neither is metered by DCGM). The
// measured IT input meter is compared, not used as input, so that node base power and the
// IT-equipment stages (PSUs) can be judged and calibrated.
//
// Compared signals (name: entity / id / quantity, unit -> what the twin predicts):
//   facility_power        facility / any / power, W      -> conversion chain input + cooling power
//   it_input_power        meter / it-input / power, W    -> input of the IT-equipment stages
//   cooling_power         meter / cooling / power, W     -> the cooling plant's electricity
//   pue                   facility / any / pue, ratio    -> facility / IT input power
//   stage_input:SLUG      ups|transformer|pdu|meter / SLUG / power, W -> that stage's input, for
//                         each stage of facility.power_chain, SLUG its name in lower case with
//                         blanks as '-' ("UPS" -> ups, "rack PSU" -> rack-psu)
//   gpu_temperature       gpu / any / temperature, C (mean over GPUs) -> the GPU coolant
//                         temperature of the plant (what `firstwall emulate` serves as
//                         DCGM_FI_DEV_GPU_TEMP), or with AssembleOptions::gpu_temperature_is_die
//                         the die's: coolant + chip_to_coolant x the mean measured GPU power,
//                         relaxing with chip_time_constant (site/site.h's chip model)
//   chiller_power         chiller / any / power, W       -> the chillers' electricity
// The physics is the design side's: power::ConversionChain and thermal::CoolingPlant, stepped over
// the measured steps as site::Site steps them over its windows.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "live/store.h"
#include "site/site_config.h"

namespace firstwall::live {

// ASHRAE Guideline 14-2014's goodness of fit of predictions p to measurements m over the n pairs
// where both are finite, with p_params the number of parameters (degrees of freedom n - p_params):
//   CV(RMSE) = sqrt(sum (m_i - p_i)^2 / (n - p_params)) / mean(m)
//   NMBE     = sum (m_i - p_i) / ((n - p_params) mean(m))
// as fractions (0.1 = 10 %). Sign: measured minus predicted, so a positive NMBE is a twin that
// predicts too little. NaN when n <= p_params or mean(m) is 0.
struct FitStats {
  int n = 0;
  double mean_measured = std::numeric_limits<double>::quiet_NaN();
  double cv_rmse = std::numeric_limits<double>::quiet_NaN();
  double nmbe = std::numeric_limits<double>::quiet_NaN();
};
FitStats GoodnessOfFit(std::span<const double> measured, std::span<const double> predicted,
                       int p_params);

// One signal the twin predicts and a store may hold.
struct SignalSpec {
  std::string name;    // facility_power, pue, stage_input:ups, ...
  std::string entity;  // entity kinds that may carry it, '|'-separated
  std::string id;      // "" for any id
  std::string quantity, unit;
  bool mean_over_series = false;  // gpu_temperature: the mean of all matching series
};
std::vector<SignalSpec> SignalSpecs(const site::SiteConfig& config);
// Whether a stored series carries the signal (its entity among the spec's kinds, its id when the
// spec names one, its quantity).
bool SignalMatches(const SignalSpec& spec, const SeriesKey& key);
// "UPS" -> "ups", "rack PSU" -> "rack-psu".
std::string StageSlug(const std::string& stage_name);

// Measured inputs and signals on common steps.
struct MeasuredSite {
  std::vector<int64_t> t_ms;  // start of each step
  double step_s = 0;
  std::vector<double> gpu_w;      // summed GPU power per step; NaN where a GPU stream is missing
  std::vector<double> outdoor_c;  // NaN where not measured (the scenario's weather then)
  int measured_gpus = 0;
  std::string gpu_from;                 // where gpu_w came from: ingest's rollup or every series
  std::string outdoor_from;             // the series, or "scenario weather"
  bool gpu_temperature_is_die = false;  // AssembleOptions
  double settle_s = 0;                  // AssembleOptions
  int64_t zero_ms = 0;                  // the scenario's time zero: AssembleOptions, else t_ms[0]
  struct Signal {
    SignalSpec spec;
    std::string from;           // the series read ("facility/site/power <- metric")
    std::vector<double> value;  // per step; NaN where missing
  };
  std::vector<Signal> signals;  // those the store has, in SignalSpecs order
};

struct AssembleOptions {
  double step_s = 0;  // 0: the median spacing of the GPU power samples; else at least 1 ms
  // Samples outside [from_ms, to_ms] are not read.
  int64_t from_ms = std::numeric_limits<int64_t>::min();
  int64_t to_ms = std::numeric_limits<int64_t>::max();
  std::vector<std::string> signals;  // names to compare; empty: every one the store has
  int max_hold_steps = 5;            // a stream's last value fills at most this many empty steps
  // What the GPU temperature streams report: the die (a real GPU's DCGM_FI_DEV_GPU_TEMP) or, by
  // default, the coolant (what `firstwall emulate` serves).
  bool gpu_temperature_is_die = false;
  // The cooling plant's water loops start settled at the mean heat of the steps in the first
  // settle_s (0: the first step's heat, as site::Site starts): what the loops carried before the
  // first sample is unknown, and one step's noise would bias the first loop time constants.
  double settle_s = 300;
  // The scenario's time zero (its weather's clock) and the steps' grid: the steps start at
  // zero_ms + k step, the first at or after from_ms. Else the first GPU power sample in
  // [from_ms, to_ms] is both. A window of a longer store (ops/anomaly_watch.h) gives the store's,
  // so that its steps fall on the whole store's.
  std::optional<int64_t> zero_ms;
  // Read every GPU's samples even when ingest kept a rollup (gpu_rollup.h). By default the GPU
  // power (and the mean GPU temperature) come from the rollup's buckets that count every GPU
  // power (temperature) series, when the step is a whole number of buckets: at the rollup's step
  // the same figures as the per-GPU path's up to the first step's alignment (buckets start at
  // multiples of their length since the epoch, the per-GPU steps at the first sample), without
  // samples that reached ingest after their bucket was stored.
  bool per_gpu = false;
  // When set, the samples of every series read are left here by series id (each from from_ms on,
  // in time order), so that a caller needing them too (the anomaly detector: every GPU's power
  // and temperature, 20,000 series for 10,000 GPUs) does not read them again.
  std::map<int64_t, std::vector<SamplePoint>>* read_points = nullptr;
};

// Each series' samples are averaged per step [t0 + k step, t0 + (k+1) step), t0 the first GPU
// power sample; a step without samples takes the stream's last value up to max_hold_steps.
// InputError (at "--db") when the store has no GPU power series or no samples, when it holds more
// GPUs than the scenario, or when a signal named in options.signals is unknown or absent; at
// "--step" when the steps would be more than 10 million.
MeasuredSite AssembleMeasured(Store& store, const site::SiteConfig& config,
                              const AssembleOptions& options);

// The twin's predictions, per signal name of `measured.signals`, on its steps (NaN where the
// inputs are missing).
std::map<std::string, std::vector<double>> PredictSignals(const site::SiteConfig& config,
                                                          const MeasuredSite& measured);

// Consecutive windows of `window_s` from the first step (0: one window of everything).
struct Window {
  int64_t start_ms = 0, end_ms = 0;  // [start, end)
  size_t first = 0, last = 0;        // steps [first, last)
};
std::vector<Window> SplitWindows(const MeasuredSite& measured, double window_s);

struct JudgeOptions {
  double average_s = 3600;                    // averaging period of the ASHRAE judgement (hourly)
  int p_params = 1;                           // degrees of freedom term
  double cv_limit = 0.30, nmbe_limit = 0.10;  // ASHRAE Guideline 14, hourly
  double drift_cv = 0.10, drift_nmbe = 0.05;  // drift thresholds
};

// One signal over one window.
struct SignalFit {
  std::string signal, unit;
  FitStats native;        // at the step
  FitStats averaged;      // of the averages over average_s (bins from the window's start)
  std::string judged_on;  // "averaged", "native", or "" when neither is computable
  std::string verdict;    // "pass", "fail", "n/a" against the ASHRAE limits
  bool drift = false;
  std::string reason;  // why it drifted, "" otherwise
  double cv() const { return judged_on == "averaged" ? averaged.cv_rmse : native.cv_rmse; }
  double nmbe() const { return judged_on == "averaged" ? averaged.nmbe : native.nmbe; }
};

std::vector<SignalFit> JudgeWindow(const MeasuredSite& measured,
                                   const std::map<std::string, std::vector<double>>& predicted,
                                   const Window& window, const JudgeOptions& options);

}  // namespace firstwall::live
