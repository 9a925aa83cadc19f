// Anomalies of a live site's telemetry (docs/operations.md, "Anomalies"):
//   firstwall anomalies --db STORE --scenario SCENARIO [--calibrate DURATION] [--from T] [--to T]
//                       [--step DURATION] [--json]
#include <cmath>
#include <ctime>
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "apps/firstwall/commands.h"
#include "apps/firstwall/duration_option.h"
#include "apps/firstwall/scenario_arg.h"
#include "core/error.h"
#include "live/store.h"
#include "ops/anomaly.h"
#include "ops/finding_json.h"

namespace firstwall::cli {
namespace {

struct AnomalyArgs {
  std::string db, scenario, calibrate = "1 h", from, to, step;
  bool json = false;
};

// Milliseconds since the Unix epoch, or an ISO 8601 UTC time 2026-12-01T10:00:00Z.
int64_t TimeOption(const std::string& option, const std::string& text) {
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (digits && text.size() <= 15) return std::stoll(text);
  std::tm tm{};
  char z = 0;
  int used = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z, &used) == 7 &&
      z == 'Z' && static_cast<size_t>(used) == text.size() && tm.tm_year >= 1970 &&
      tm.tm_year <= 2200 && tm.tm_mon >= 1 && tm.tm_mon <= 12 && tm.tm_mday >= 1 &&
      tm.tm_mday <= 31 && tm.tm_hour < 24 && tm.tm_min < 60 && tm.tm_sec < 61) {
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return static_cast<int64_t>(timegm(&tm)) * 1000;
  }
  throw InputError({option, 0, 0}, fmt::format("'{}' is not a time", text),
                   "milliseconds since the Unix epoch (as the store keeps them) or a UTC time "
                   "such as 2026-12-01T10:00:00Z");
}

std::string Utc(int64_t ms) {
  const std::time_t s = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int Anomalies(const AnomalyArgs& a) {
  ops::AnomalyOptions o;
  o.calibrate_s = DurationOption("--calibrate", a.calibrate);
  if (!a.step.empty()) o.step_s = DurationOption("--step", a.step);
  if (!a.from.empty()) o.from_ms = TimeOption("--from", a.from);
  if (!a.to.empty()) o.to_ms = TimeOption("--to", a.to);
  if (o.to_ms <= o.from_ms) {
    throw InputError({"--to", 0, 0}, fmt::format("'{}' is not after --from '{}'", a.to, a.from),
                     "a --to later than --from");
  }
  const scenario::Scenario sc = LoadScenarioArg(a.scenario, {});
  std::unique_ptr<live::Store> store = live::OpenExistingStore(a.db);
  const ops::AnomalyReport rep = ops::DetectAnomalies(*store, sc.site, o);
  size_t alarms = 0;
  for (const auto& r : rep.residuals) alarms += r.alarm.raised ? 1 : 0;
  if (a.json) {
    nlohmann::json findings = nlohmann::json::array();
    for (const ops::Finding& f : rep.findings) findings.push_back(ops::FindingJson(f));
    const nlohmann::json j = {{"scenario", sc.file},
                              {"steps", rep.steps.t_ms.size()},
                              {"step_s", rep.steps.step_s},
                              {"calibration_steps", rep.calibration_steps},
                              {"residual_series", rep.residuals.size()},
                              {"alarmed_series", alarms},
                              {"findings", findings}};
    std::cout << j.dump(2) << "\n";
    return kOk;
  }
  std::cout << fmt::format(
      "anomalies in {}: scenario {}, {} steps of {:g} s from {}, thresholds learned on the "
      "first {} steps\n  {} residual series, {} alarmed, {} findings\n",
      a.db, sc.file, rep.steps.t_ms.size(), rep.steps.step_s, Utc(rep.steps.t_ms.front()),
      rep.calibration_steps, rep.residuals.size(), alarms, rep.findings.size());
  for (const ops::Finding& f : rep.findings) {
    std::cout << fmt::format("  {}  {:<18} {:<14} {:<8} from {}  {}\n", Utc(f.detected_ms),
                             f.target, f.cause, f.detector, Utc(f.start_ms), f.detail);
  }
  return kOk;
}

}  // namespace

Action RegisterAnomalies(CLI::App& app) {
  auto a = std::make_shared<AnomalyArgs>();
  CLI::App* cmd = app.add_subcommand(
      "anomalies",
      "Residuals of a store's GPU, CDU, PDU and chiller series against the twin's expectation, "
      "thresholds learned on a calibration window (k-sigma, CUSUM), alarms localized to the "
      "narrowest GPU, node, rack, CDU, PDU or chiller (docs/operations.md)");
  cmd->add_option("--db", a->db, "The store: an SQLite file or a postgresql:// URL")->required();
  cmd->add_option("--scenario", a->scenario, "The site's scenario (its topology and the twin)")
      ->required();
  cmd->add_option("--calibrate", a->calibrate,
                  "Length of the calibration window from the first step")
      ->capture_default_str();
  cmd->add_option("--from", a->from,
                  "Read samples from this time (ms since the epoch or UTC "
                  "2026-12-01T10:00:00Z)");
  cmd->add_option("--to", a->to, "Read samples up to this time");
  cmd->add_option("--step", a->step,
                  "Step of the residuals (default: the median spacing of the GPU power samples)");
  cmd->add_flag("--json", a->json, "Write the findings as JSON");
  return [a] { return Anomalies(*a); };
}

}  // namespace firstwall::cli
