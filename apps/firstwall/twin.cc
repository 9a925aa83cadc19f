// The twin against reality (docs/live.md, "Twin against reality"):
//   firstwall compare --db DB --scenario SCENARIO [--window DURATION] [--json] [--out DIR] ...
//   firstwall calibrate --db DB --scenario SCENARIO --fit PARAM [--fit PARAM ...] ...
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "apps/firstwall/commands.h"
#include "apps/firstwall/duration_option.h"
#include "apps/firstwall/scenario_arg.h"
#include "live/calibrate.h"
#include "live/store.h"
#include "live/twin_check.h"
#include "report/output_set.h"
#include "report/outputs.h"
#include "report/text_format.h"
#include "units/parse.h"

namespace firstwall::cli {
namespace {

using nlohmann::json;

// The options compare and calibrate share.
struct TwinArgs {
  std::string db, scenario, window, step, average = "1 h", out, gpu_temperature = "coolant",
                                          settle = "5 min";
  std::vector<std::string> sets, signals;
  int params = 1;
  double drift_cv_pct = 10, drift_nmbe_pct = 5;
  bool json = false, per_gpu = false;
  // calibrate
  std::vector<std::string> fit;
  int max_evaluations = 200;
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What a run of compare or calibrate reads: the store's signals on common steps and the scenario.
struct Loaded {
  std::unique_ptr<live::Store> store;
  scenario::Scenario scenario;
  std::vector<scenario::Override> sets;
  live::MeasuredSite measured;
  live::JudgeOptions judge;
  double window_s = 0;
};

// The option to blame when the store's steps are too few to judge: the one the user chose that
// shaped them (a window, else a step), else the store.
const char* ShortOption(const TwinArgs& a) {
  return !a.window.empty() ? "--window" : !a.step.empty() ? "--step" : "--db";
}

Loaded Load(const TwinArgs& a) {
  Loaded l;
  // The options first: a bad one is reported before the store is read.
  l.judge.average_s = DurationOption("--average", a.average);
  l.judge.p_params = a.params;
  l.judge.drift_cv = a.drift_cv_pct / 100;
  l.judge.drift_nmbe = a.drift_nmbe_pct / 100;
  // CLI11's range check lets NaN through (every comparison with it is false).
  for (const auto& [option, value] : {std::pair{"--drift-cv-rmse", a.drift_cv_pct},
                                      std::pair{"--drift-nmbe", a.drift_nmbe_pct}}) {
    if (std::isnan(value)) {
      throw InputError({option, 0, 0}, "NaN is no threshold", "a percentage from 0 to 1000");
    }
  }
  if (!a.window.empty()) l.window_s = DurationOption("--window", a.window);
  const double settle_s = DurationOption("--settle", a.settle, true);
  l.sets = ParseSets(a.sets);
  l.scenario = LoadScenarioArg(a.scenario, a.sets);
  l.store = live::OpenExistingStore(a.db);
  live::AssembleOptions ao;
  if (!a.step.empty()) {
    ao.step_s = DurationOption("--step", a.step);
    if (ao.step_s < 1e-3) {
      throw InputError(
          {"--step", 0, 0},
          fmt::format("'{}' is shorter than 1 ms, the store's time resolution", a.step),
          "a step of 1 ms or more");
    }
  }
  ao.signals = a.signals;
  ao.gpu_temperature_is_die = a.gpu_temperature == "die";
  ao.settle_s = settle_s;
  ao.per_gpu = a.per_gpu;
  l.measured = live::AssembleMeasured(*l.store, l.scenario.site, ao);
  // Shorter than the step, a window holds at most one step (and a 1 ms typo for 1 min made
  // millions of windows, gigabytes of them).
  if (l.window_s > 0 && l.window_s < l.measured.step_s) {
    throw InputError(
        {"--window", 0, 0},
        fmt::format("'{}' is shorter than the step ({:g} s)", a.window, l.measured.step_s),
        "a multiple of the step, e.g. 1 h; or a shorter --step");
  }
  return l;
}

double Rel(const live::MeasuredSite& m, int64_t t_ms) {
  return static_cast<double>(t_ms - m.t_ms.front()) / 1000;
}

json StatsJson(const live::FitStats& s) {
  return {{"n", s.n}, {"mean_measured", s.mean_measured}, {"cv_rmse", s.cv_rmse}, {"nmbe", s.nmbe}};
}

json FitJson(const live::SignalFit& f) {
  return {{"signal", f.signal},
          {"unit", f.unit},
          {"native", StatsJson(f.native)},
          {"averaged", StatsJson(f.averaged)},
          {"judged_on", f.judged_on},
          {"verdict", f.verdict},
          {"drift", f.drift},
          {"reason", f.reason}};
}

std::string Pct(double v) { return std::isfinite(v) ? fmt::format("{:.3f}", 100 * v) : "n/a"; }

std::string FitTable(const std::vector<live::SignalFit>& fits) {
  std::string out = fmt::format("  {:<22} {:>6} {:>11} {:>9} {:>6} {:>11} {:>9}  {:<8} {:<6} {}\n",
                                "signal", "n", "CV(RMSE) %", "NMBE %", "n avg", "CV avg %",
                                "NMBE avg %", "judged", "ASHRAE", "drift");
  for (const live::SignalFit& f : fits) {
    out += fmt::format("  {:<22} {:>6} {:>11} {:>9} {:>6} {:>11} {:>9}  {:<8} {:<6} {}\n", f.signal,
                       f.native.n, Pct(f.native.cv_rmse), Pct(f.native.nmbe), f.averaged.n,
                       Pct(f.averaged.cv_rmse), Pct(f.averaged.nmbe),
                       f.judged_on.empty() ? "-" : f.judged_on, f.verdict,
                       f.drift ? "DRIFT: " + f.reason : "no");
  }
  return out;
}

std::string Header(const TwinArgs& a, const Loaded& l, const live::JudgeOptions& judge) {
  const site::ClusterConfig& c = l.scenario.site.cluster;
  std::string out = fmt::format(
      "twin against {}: scenario {}, {} steps of {:g} s\n  IT load: {} GPU power series + {} "
      "unmeasured GPUs at idle + {} nodes x {:g} W node base power\n  GPU power: {}\n  outdoor "
      "air: {}\n  GPU "
      "temperature streams report the {}\n  cooling loops start settled at the mean heat of "
      "the first {:g} s\n",
      a.db, l.scenario.file, l.measured.t_ms.size(), l.measured.step_s, l.measured.measured_gpus,
      c.gpu_count() - l.measured.measured_gpus, c.nodes, units::ToWatts(c.node_base_power),
      l.measured.gpu_from, l.measured.outdoor_from, a.gpu_temperature, l.measured.settle_s);
  for (const auto& s : l.measured.signals) out += fmt::format("  {}: {}\n", s.spec.name, s.from);
  out += fmt::format(
      "  ASHRAE Guideline 14 (hourly): CV(RMSE) <= {:g} %, |NMBE| <= {:g} %, judged on averages "
      "over {:g} s when there are more than p = {} of them, else at the step; drift: CV(RMSE) > "
      "{:g} % or |NMBE| > {:g} %; NMBE > 0: the twin predicts too little\n",
      100 * judge.cv_limit, 100 * judge.nmbe_limit, judge.average_s, judge.p_params,
      100 * judge.drift_cv, 100 * judge.drift_nmbe);
  return out;
}

void WriteOutputs(const std::string& dir,
                  const std::vector<std::pair<std::string, std::string>>& files) {
  if (dir.empty()) return;
  std::vector<std::string> names;
  for (const auto& f : files) names.push_back(f.first);
  report::OutputSet outputs(dir, names);
  for (const auto& [name, body] : files) {
    report::AtomicFile f(outputs.Stage(name));
    f.Write(body);
    f.Commit();
  }
  outputs.Commit();
}

int Compare(const TwinArgs& a) {
  Loaded l = Load(a);
  const auto predicted = live::PredictSignals(l.scenario.site, l.measured);
  const std::vector<live::Window> windows = live::SplitWindows(l.measured, l.window_s);
  json j = {
      {"scenario", l.scenario.file},
      {"sets", a.sets},
      {"step_s", l.measured.step_s},
      {"steps", l.measured.t_ms.size()},
      {"it_load",
       {{"gpu_power_series", l.measured.measured_gpus}, {"gpu_power_from", l.measured.gpu_from}}},
      {"outdoor", l.measured.outdoor_from},
      {"gpu_temperature", a.gpu_temperature},
      {"settle_s", l.measured.settle_s},
      {"limits",
       {{"ashrae_cv_rmse", l.judge.cv_limit},
        {"ashrae_nmbe", l.judge.nmbe_limit},
        {"drift_cv_rmse", l.judge.drift_cv},
        {"drift_nmbe", l.judge.drift_nmbe},
        {"average_s", l.judge.average_s},
        {"p_params", l.judge.p_params}}},
      {"windows", json::array()}};
  std::string text = Header(a, l, l.judge);
  const int64_t run_ms = NowMs();
  std::vector<live::DriftRecord> drift;
  int judged = 0;
  for (size_t i = 0; i < windows.size(); ++i) {
    const live::Window& w = windows[i];
    const std::vector<live::SignalFit> fits = live::JudgeWindow(l.measured, predicted, w, l.judge);
    text += fmt::format("window {}: {:g} s to {:g} s ({} steps)\n", i + 1,
                        Rel(l.measured, w.start_ms), Rel(l.measured, w.end_ms), w.last - w.first);
    text += FitTable(fits);
    json wj = {{"start_ms", w.start_ms},
               {"end_ms", w.end_ms},
               {"steps", w.last - w.first},
               {"signals", json::array()}};
    for (const live::SignalFit& f : fits) {
      wj["signals"].push_back(FitJson(f));
      judged += f.judged_on.empty() ? 0 : 1;
      drift.push_back({run_ms, f.signal, w.start_ms, w.end_ms, f.cv(), f.nmbe(), l.judge.drift_cv,
                       l.judge.drift_nmbe, f.drift,
                       f.judged_on.empty() ? "not computable: too few steps" : f.reason});
    }
    j["windows"].push_back(wj);
  }
  if (judged == 0) {
    throw InputError({ShortOption(a), 0, 0},
                     fmt::format("no signal could be judged: no window has more steps with both "
                                 "measurement and prediction than p ({} step(s) of {:g} s in all)",
                                 l.measured.t_ms.size(), l.measured.step_s),
                     "a longer --window, a shorter --step, or a store with more samples");
  }
  const json params = {{"scenario", l.scenario.file}, {"sets", a.sets}};
  l.store->PutTwinRun({run_ms, "compare", windows.front().start_ms, windows.back().end_ms,
                       params.dump(), j.dump()});
  l.store->PutDrift(drift);
  l.store->Flush();
  const std::string body = txt::json_text(j) + "\n";
  WriteOutputs(a.out, {{"compare.json", body}, {"compare.txt", text}});
  std::cout << (a.json ? body : text);
  return kOk;
}

int Calibrate(const TwinArgs& a) {
  if (a.scenario.empty()) {
    throw InputError({"--scenario", 0, 0}, "calibrate needs a scenario file",
                     "the fitted values are written as --set lines for it");
  }
  Loaded l = Load(a);
  std::vector<live::TwinParameter> params;
  for (const std::string& name : a.fit) {
    if (std::count(a.fit.begin(), a.fit.end(), name) > 1) {
      throw InputError({"--fit " + name, 0, 0}, "the parameter is named twice",
                       "give each --fit once");
    }
    params.push_back(live::ResolveParameter(name, a.scenario, l.scenario.site, l.sets));
    for (size_t k = 0; k + 1 < params.size(); ++k) {
      if (params[k].key == params.back().key) {
        throw InputError({"--fit " + name, 0, 0},
                         fmt::format("the parameter sets {}, as --fit {} does", params.back().key,
                                     params[k].name),
                         "fit each scenario key once");
      }
    }
    if (name == "chip_to_coolant" && a.gpu_temperature != "die") {
      throw InputError({"--fit " + name, 0, 0},
                       "chip_to_coolant acts only on the GPU die's temperature",
                       "add --gpu-temperature die (the store's GPU temperature is the die's)");
    }
  }
  const double window_s =
      l.window_s > 0
          ? l.window_s
          : std::max(1e-3, static_cast<double>(l.measured.t_ms.size()) * l.measured.step_s / 2);
  const std::vector<live::Window> windows = live::SplitWindows(l.measured, window_s);
  const size_t least = params.size() + 2;
  if (windows.size() < 2 || windows[0].last - windows[0].first < least ||
      windows[1].last - windows[1].first < least) {
    throw InputError(
        {ShortOption(a), 0, 0},
        fmt::format("calibrate needs two windows of at least {} steps (a fit window "
                    "and the next to check it); the store gives {} window(s) of {:g} s ({} "
                    "step(s) of {:g} s in all)",
                    least, windows.size(), window_s, l.measured.t_ms.size(), l.measured.step_s),
        "a shorter --window, a shorter --step, or a store with more samples");
  }
  live::JudgeOptions judge = l.judge;
  judge.p_params = std::max(judge.p_params, static_cast<int>(params.size()));
  const auto t0 = std::chrono::steady_clock::now();
  const live::CalibrationResult r =
      live::Calibrate(a.scenario, l.sets, params, l.measured, windows[0], a.max_evaluations);
  const double fit_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<double> start;
  for (const auto& p : params) start.push_back(p.start);
  const auto before =
      live::PredictSignals(live::ConfigWith(a.scenario, l.sets, params, start), l.measured);
  const auto after =
      live::PredictSignals(live::ConfigWith(a.scenario, l.sets, params, r.fitted), l.measured);

  std::string text = Header(a, l, judge);
  text += fmt::format(
      "fit on window 1 ({:g} s to {:g} s), checked on window 2 ({:g} s to {:g} s); "
      "{}, {} evaluations, {}; objective {:.6g} -> {:.6g}\n",
      Rel(l.measured, windows[0].start_ms), Rel(l.measured, windows[0].end_ms),
      Rel(l.measured, windows[1].start_ms), Rel(l.measured, windows[1].end_ms), r.algorithm,
      r.evaluations, r.status, r.objective_start, r.objective_fitted);
  text += fmt::format("  {:<20} {:<42} {:>14} {:>14} {:>24}\n", "parameter", "scenario key",
                      "start", "fitted", "bounds");
  json pj = json::array();
  std::string sets;
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    text += fmt::format("  {:<20} {:<42} {:>14.6g} {:>14.6g} {:>24}\n", p.name, p.key, p.start,
                        r.fitted[i], fmt::format("{:g} .. {:g}", p.lo, p.hi));
    pj.push_back({{"name", p.name},
                  {"key", p.key},
                  {"unit", p.unit},
                  {"start", p.start},
                  {"fitted", r.fitted[i]},
                  {"lo", p.lo},
                  {"hi", p.hi},
                  {"set", p.SetLine(r.fitted[i])}});
    sets += fmt::format("--set \"{}\"\n", p.SetLine(r.fitted[i]));
  }
  json wj = json::array();
  for (size_t i = 0; i < 2; ++i) {
    const auto b = live::JudgeWindow(l.measured, before, windows[i], judge);
    const auto f = live::JudgeWindow(l.measured, after, windows[i], judge);
    text += fmt::format("window {} ({}), before:\n{}  after:\n{}", i + 1, i == 0 ? "fit" : "check",
                        FitTable(b), FitTable(f));
    json w = {{"role", i == 0 ? "fit" : "check"},
              {"start_ms", windows[i].start_ms},
              {"end_ms", windows[i].end_ms},
              {"before", json::array()},
              {"after", json::array()}};
    for (const auto& x : b) w["before"].push_back(FitJson(x));
    for (const auto& x : f) w["after"].push_back(FitJson(x));
    wj.push_back(w);
  }
  text += "fitted values, as scenario overrides:\n" + sets;
  const json j = {{"scenario", l.scenario.file},
                  {"sets", a.sets},
                  {"algorithm", r.algorithm},
                  {"status", r.status},
                  {"evaluations", r.evaluations},
                  {"objective_start", r.objective_start},
                  {"objective_fitted", r.objective_fitted},
                  {"p_params", judge.p_params},
                  {"parameters", pj},
                  {"windows", wj}};
  l.store->PutTwinRun({NowMs(), "calibrate", windows[0].start_ms, windows[1].end_ms,
                       json{{"scenario", l.scenario.file}, {"sets", a.sets}, {"fitted", pj}}.dump(),
                       j.dump()});
  l.store->Flush();
  const std::string body = txt::json_text(j) + "\n";
  WriteOutputs(a.out,
               {{"calibration.json", body}, {"calibration.txt", text}, {"overrides.txt", sets}});
  std::cout << (a.json ? body : text);
  std::cerr << fmt::format("calibrate: {} evaluations in {:.2f} s\n", r.evaluations, fit_s);
  return kOk;
}

void AddShared(CLI::App* cmd, TwinArgs& a) {
  cmd->add_option("--db", a.db, "SQLite store written by firstwall ingest")->required();
  cmd->add_option("--scenario", a.scenario, "Scenario YAML file of the site")
      ->required()
      ->check(NonEmptyScenarioPath(false));
  AddSetOption(cmd, a.sets);
  cmd->add_option("--step", a.step,
                  "Common step the streams are averaged to (default: the median spacing of the GPU "
                  "power samples)");
  cmd->add_option("--average", a.average,
                  "Averaging period of the ASHRAE judgement (Guideline 14's limits are for hourly "
                  "data)")
      ->capture_default_str();
  cmd->add_option("--signals", a.signals,
                  "Only these signals (facility_power, it_input_power, cooling_power, pue, "
                  "stage_input:SLUG, gpu_temperature); default: all the store has")
      ->delimiter(',');
  cmd->add_option("--params", a.params,
                  "p of ASHRAE's degrees of freedom n - p (calibrate: at least the number fitted)")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  cmd->add_option("--drift-cv-rmse", a.drift_cv_pct, "Drift threshold on CV(RMSE), percent")
      ->check(CLI::Range(0.0, 1000.0))
      ->capture_default_str();
  cmd->add_option("--drift-nmbe", a.drift_nmbe_pct, "Drift threshold on |NMBE|, percent")
      ->check(CLI::Range(0.0, 1000.0))
      ->capture_default_str();
  cmd->add_option("--gpu-temperature", a.gpu_temperature,
                  "What the GPU temperature streams report: coolant (firstwall emulate) or die "
                  "(a real GPU's DCGM_FI_DEV_GPU_TEMP; the twin adds chip_to_coolant x power)")
      ->check(CLI::IsMember({"coolant", "die"}))
      ->capture_default_str();
  cmd->add_option("--settle", a.settle,
                  "The cooling loops start settled at the mean heat of this first stretch of "
                  "measurements (0 s: the first step's)")
      ->capture_default_str();
  cmd->add_flag("--per-gpu", a.per_gpu,
                "Read every GPU's power samples instead of the rollup firstwall ingest keeps "
                "(slower on a large site; also includes samples that came after their bucket)");
  cmd->add_flag("--json", a.json, "Print the JSON instead of the table");
}

}  // namespace

Action RegisterCompare(CLI::App& app) {
  auto a = std::make_shared<TwinArgs>();
  CLI::App* cmd = app.add_subcommand(
      "compare",
      "Run the twin on a store's measured GPU power and outdoor air and compare its facility "
      "power, PUE, UPS load, cooling power and coolant temperature with the measurements: "
      "CV(RMSE) and NMBE per signal and window against ASHRAE Guideline 14; stores the run and "
      "its drift events (docs/live.md)");
  AddShared(cmd, *a);
  cmd->add_option("--window", a->window, "Length of each window (default: one window of all)");
  cmd->add_option("--out", a->out, "Also write DIR/compare.json and DIR/compare.txt");
  return [a] { return Compare(*a); };
}

Action RegisterCalibrate(CLI::App& app) {
  auto a = std::make_shared<TwinArgs>();
  CLI::App* cmd = app.add_subcommand(
      "calibrate",
      "Fit named twin parameters by least squares (NLopt) on the first window of a store's "
      "measurements, check them on the next, and write them as --set lines (docs/live.md)");
  AddShared(cmd, *a);
  cmd->add_option(
         "--fit", a->fit,
         "Parameter to fit, repeatable: node_base_power, psu_efficiency, ups_efficiency, "
         "ups_fixed_loss, cooling_capacity, pump_share, crah_fan_share, sink_fan_share, "
         "tower_approach, cdu_effectiveness, chip_to_coolant, cooling_cop, efficiency:STAGE")
      ->required()
      ->allow_extra_args(false);
  cmd->add_option("--window", a->window,
                  "Length of the fit window and of the check window after it (default: half of "
                  "the store's span)");
  cmd->add_option("--max-evaluations", a->max_evaluations,
                  "Most twin runs the fit may take, its starting point included")
      ->check(CLI::Range(2, 100000))
      ->capture_default_str();
  cmd->add_option("--out", a->out,
                  "Also write DIR/calibration.json, DIR/calibration.txt and DIR/overrides.txt");
  return [a] { return Calibrate(*a); };
}

}  // namespace firstwall::cli
