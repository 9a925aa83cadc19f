// `firstwall calibrate`: least-squares fit of named twin parameters to measurements over one window
// (NLopt's BOBYQA, derivative-free, bounded), each parameter a scenario key, so that the fit is
// written back as `--set KEY=VALUE` lines the user applies to the scenario (docs/live.md,
// "Twin against reality").
//
// Objective: the sum over the compared signals of (RMS of measured - predicted / mean measured)^2
// over the fit window's steps, i.e. the sum of each signal's squared CV(RMSE) without the degrees
// of freedom term: every signal weighs alike whatever its unit. Each evaluation loads the scenario
// with the parameters as overrides (scenario/overrides.h) and runs the twin (twin_check.h), so a
// value is checked exactly as if written in the file and the fitted lines reproduce the fit.
#pragma once

#include <string>
#include <vector>

#include "live/twin_check.h"
#include "scenario/overrides.h"

namespace firstwall::live {

// A parameter users know by name, bound to a scenario key.
struct ParameterInfo {
  std::string name;  // node_base_power, psu_efficiency, ...
  std::string key;   // scenario key; {it} / {ups} stand for the stage's name
  std::string unit;  // how the override is written: "W", "K" or "" (a plain number or fraction)
  double lo = 0, hi = 0;  // bounds, in the key's base unit
  // When above 1: the bounds narrowed to [start / span, start x span] (within lo and hi), so that
  // a parameter of any size is searched on the scale of its start value.
  double span = 0;
  std::string description;
};
const std::vector<ParameterInfo>& CalibrationParameters();

// A parameter resolved against one scenario: its key, start value (the scenario's, in base unit)
// and bounds.
struct TwinParameter {
  std::string name, key, unit;
  double start = 0, lo = 0, hi = 0;
  // "KEY=VALUE" as --set takes it.
  std::string SetLine(double value) const;
};

// `name` as above, or efficiency:SLUG for any stage of the power chain (StageSlug). InputError at
// `--fit NAME` for an unknown name, a stage the scenario does not have, or a key without a
// numeric value (cooling_cop on a plant without `cop`).
TwinParameter ResolveParameter(const std::string& name, const std::string& scenario_path,
                               const site::SiteConfig& config,
                               const std::vector<scenario::Override>& sets);

struct CalibrationResult {
  std::vector<TwinParameter> parameters;
  std::vector<double> fitted;  // base units, per parameter
  double objective_start = 0, objective_fitted = 0;
  int evaluations = 0;
  std::string algorithm;  // "NLopt LN_BOBYQA"
  std::string status;     // NLopt's result, in words
};

// Fits `parameters` on the steps of `window`. `sets` are the user's overrides, applied first.
CalibrationResult Calibrate(const std::string& scenario_path,
                            const std::vector<scenario::Override>& sets,
                            const std::vector<TwinParameter>& parameters,
                            const MeasuredSite& measured, const Window& window,
                            int max_evaluations = 200);

// The scenario with `sets` and then each parameter at `values`.
site::SiteConfig ConfigWith(const std::string& scenario_path,
                            const std::vector<scenario::Override>& sets,
                            const std::vector<TwinParameter>& parameters,
                            const std::vector<double>& values);

// The objective above for one configuration.
double CalibrationObjective(const site::SiteConfig& config, const MeasuredSite& measured,
                            const Window& window);

}  // namespace firstwall::live
