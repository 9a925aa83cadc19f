#include "report/flexibility_report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "report/text_format.h"

namespace firstwall::report {
namespace {

double Hours(SimTime t) { return static_cast<double>(t.ns()) / 3.6e12; }

double Share(double saved, double base) { return base != 0 ? saved / base : 0; }

nlohmann::ordered_json RunJson(const FlexRun& r) {
  return {
      {"energy_cost_usd", r.energy_cost_usd},
      {"carbon_t", r.carbon_kg / 1e3},
      {"facility_energy_mwh", r.facility_energy_j / 3.6e9},
      {"grid_energy_mwh", r.grid_energy_j / 3.6e9},
      {"peak_facility_mw", r.peak_facility_w / 1e6},
      {"peak_grid_mw", r.peak_grid_w / 1e6},
      {"useful_gpu_h", r.useful_gpu_h},
      {"jobs_completed", r.jobs_completed},
      // null when no useful work was done: the energy bought nothing, no price per GPU-hour.
      {"cost_per_useful_gpu_h_usd",
       r.useful_gpu_h > 0 ? nlohmann::json(r.energy_cost_usd / r.useful_gpu_h) : nlohmann::json()}};
}

}  // namespace

std::string DescribeSignals(const site::FlexibilityConfig& c) {
  std::vector<std::string> parts;
  if (c.price_above)
    parts.push_back(fmt::format("price > {:g} USD/MWh", c.price_above->base() * 3.6e9));
  if (c.carbon_above) {
    parts.push_back(
        fmt::format("carbon > {:g} g/kWh", units::ToGramsPerKilowattHour(*c.carbon_above)));
  }
  if (c.grid_margin) {
    parts.push_back(fmt::format("grid import within {:g} % of its limit", 100 * *c.grid_margin));
  }
  if (c.stage_margin) {
    parts.push_back(
        fmt::format("a power-chain stage within {:g} % of its rating", 100 * *c.stage_margin));
  }
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? " or " : "") + parts[i];
  return s;
}

std::vector<SimTime> FirstStarts(const scheduler::ClusterLife& life) {
  std::vector<SimTime> out(life.jobs().size());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = life.job_life(static_cast<scheduler::JobId>(i)).first_start;
  }
  return out;
}

FlexibilitySummary SummarizeFlexibility(const site::FlexibilityConfig& config,
                                        const scheduler::ClusterLife& life, SimTime end,
                                        const site::FlexStats& stats, FlexRun run,
                                        FlexRun baseline) {
  FlexibilitySummary s;
  s.signals = DescribeSignals(config);
  s.defer = config.defer;
  s.cap_gpu_w = config.cap_gpu_power ? units::ToWatts(*config.cap_gpu_power) : 0;
  s.max_delay_h = Hours(config.max_delay);
  s.gate = stats;
  const scheduler::FlexibleHold* hold = life.flexible_hold();
  std::vector<double> delays;
  double other = 0;
  int others = 0;
  const size_t n =
      std::min({life.jobs().size(), run.first_start.size(), baseline.first_start.size()});
  for (size_t i = 0; i < n; ++i) {
    const scheduler::JobSpec& j = life.jobs()[i];
    const auto id = static_cast<scheduler::JobId>(i);
    if (j.flexible && j.submit < end) ++s.flexible_jobs;
    if (hold != nullptr && i < hold->records().size() &&
        hold->records()[i].held_at != SimTime::Never()) {
      ++s.held_jobs;
      if (hold->records()[i].by_deadline) ++s.released_by_max_delay;
      if (hold->records()[i].by_latest_start) ++s.released_for_deadline;
      s.deferred_gpu_h += j.gpus * hold->HeldSeconds(id, end) / 3600;
    }
    const SimTime a = run.first_start[i], b = baseline.first_start[i];
    if (j.flexible && a == SimTime::Never() && b != SimTime::Never()) ++s.not_started_in_run;
    if (a == SimTime::Never() || b == SimTime::Never()) continue;
    const double d = Hours(a) - Hours(b);
    if (j.flexible) {
      delays.push_back(d);
    } else {
      other += d;
      ++others;
    }
  }
  std::sort(delays.begin(), delays.end());
  s.delay_jobs = static_cast<int>(delays.size());
  if (!delays.empty()) {
    double sum = 0;
    for (double d : delays) sum += d;
    s.start_delay_mean_h = sum / static_cast<double>(delays.size());
    const auto rank = static_cast<size_t>(std::ceil(0.95 * static_cast<double>(delays.size())));
    s.start_delay_p95_h = delays[std::max<size_t>(rank, 1) - 1];
    s.start_delay_max_h = delays.back();
  }
  s.other_start_delay_mean_h = others > 0 ? other / others : 0;
  s.run = std::move(run);
  s.baseline = std::move(baseline);
  return s;
}

nlohmann::ordered_json FlexibilityJson(const FlexibilitySummary& s) {
  nlohmann::ordered_json j;
  j["signals"] = s.signals;
  j["defer"] = s.defer;
  j["cap_gpu_w"] = s.cap_gpu_w;
  j["max_delay_h"] = s.max_delay_h;
  j["gate_closed_h"] = {{"any", s.gate.closed_h},
                        {"price", s.gate.closed_price_h},
                        {"carbon", s.gate.closed_carbon_h},
                        {"grid", s.gate.closed_grid_h},
                        {"stage", s.gate.closed_stage_h}};
  j["flexible_jobs"] = s.flexible_jobs;
  j["held_jobs"] = s.held_jobs;
  j["released_by_max_delay"] = s.released_by_max_delay;
  j["released_for_deadline"] = s.released_for_deadline;
  j["deferred_gpu_h"] = s.deferred_gpu_h;
  j["capped_jobs"] = s.gate.capped_jobs;
  j["capped_gpu_h"] = s.gate.capped_gpu_h;
  j["badput_caps_gpu_h"] = s.gate.cap_slowdown_gpu_h;
  // No flexible job started in both runs: no delay to state (null, not zero).
  auto delay = [&](double h) { return s.delay_jobs > 0 ? nlohmann::json(h) : nlohmann::json(); };
  j["start_delay_h"] = {{"jobs", s.delay_jobs},
                        {"mean", delay(s.start_delay_mean_h)},
                        {"p95", delay(s.start_delay_p95_h)},
                        {"max", delay(s.start_delay_max_h)},
                        {"not_started_in_run", s.not_started_in_run},
                        {"other_jobs_mean", s.other_start_delay_mean_h}};
  j["run"] = RunJson(s.run);
  j["baseline"] = RunJson(s.baseline);
  j["saved"] = {{"energy_cost_usd", s.saved_cost_usd()},
                {"energy_cost_share", Share(s.saved_cost_usd(), s.baseline.energy_cost_usd)},
                {"carbon_t", s.saved_carbon_kg() / 1e3},
                {"carbon_share", Share(s.saved_carbon_kg(), s.baseline.carbon_kg)},
                {"peak_facility_mw", (s.baseline.peak_facility_w - s.run.peak_facility_w) / 1e6},
                {"useful_gpu_h", s.baseline.useful_gpu_h - s.run.useful_gpu_h}};
  return j;
}

std::string FlexibilityText(const FlexibilitySummary& s) {
  std::string t;
  auto out = std::back_inserter(t);
  txt::format_to(out, "\nflexibility ({}; gate closed {:.1f} h):\n", s.signals, s.gate.closed_h);
  const txt::PowerUnit peak_unit =
      txt::PowerUnitFor(std::max(s.baseline.peak_facility_w, s.run.peak_facility_w));
  txt::format_to(out,
                 "  vs the same run without it: energy cost {:.2f} USD saved ({:.1f} %), carbon "
                 "{:.3f} t saved ({:.1f} %), peak facility {} -> {}\n",
                 s.saved_cost_usd(), 100 * Share(s.saved_cost_usd(), s.baseline.energy_cost_usd),
                 s.saved_carbon_kg() / 1e3, 100 * Share(s.saved_carbon_kg(), s.baseline.carbon_kg),
                 txt::power_in(peak_unit, s.baseline.peak_facility_w),
                 txt::power_in(peak_unit, s.run.peak_facility_w));
  txt::format_to(
      out,
      "  {} of {} flexible jobs held ({} by max delay{}), {:.1f} GPU-h deferred; first "
      "start delayed {}{}; {:.1f} GPU-h capped ({:.1f} GPU-h slowdown)\n",
      s.held_jobs, s.flexible_jobs, s.released_by_max_delay,
      s.released_for_deadline > 0
          ? fmt::format(", {} at their latest start for a deadline", s.released_for_deadline)
          : "",
      s.deferred_gpu_h,
      s.delay_jobs > 0 ? fmt::format("mean {:.2f} h, p95 {:.2f} h, max {:.2f} h",
                                     s.start_delay_mean_h, s.start_delay_p95_h, s.start_delay_max_h)
                       : std::string("none (no flexible job started in both runs)"),
      s.not_started_in_run > 0
          ? fmt::format(" ({} started without flexibility but not with it)", s.not_started_in_run)
          : "",
      s.gate.capped_gpu_h, s.gate.cap_slowdown_gpu_h);
  // A saving bought by doing less work is no saving: the cost per useful GPU-hour says which.
  auto per_gpu_h = [](const FlexRun& r) {
    return r.useful_gpu_h > 0 ? fmt::format("{:.4f} USD", r.energy_cost_usd / r.useful_gpu_h)
                              : std::string("none (no useful work)");
  };
  txt::format_to(
      out,
      "  useful work {:.1f} GPU-h (without: {:.1f}), jobs completed {} ({}); energy cost "
      "per useful GPU-h {} (without: {})\n",
      s.run.useful_gpu_h, s.baseline.useful_gpu_h, s.run.jobs_completed, s.baseline.jobs_completed,
      per_gpu_h(s.run), per_gpu_h(s.baseline));
  return t;
}

}  // namespace firstwall::report
