// firstwall walls [SCENARIO] --grow AXIS [--from X] [--to Y] [--steps N] [--json] [--out DIR]
#include <unistd.h>

#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "apps/firstwall/commands.h"
#include "apps/firstwall/scenario_arg.h"
#include "report/csv.h"
#include "report/html_report.h"
#include "report/output_set.h"
#include "report/outputs.h"
#include "report/text_format.h"
#include "study/point_runner.h"
#include "study/walls.h"
#include "units/parse.h"

namespace firstwall::cli {
namespace {

struct WallsCliOptions {
  std::string scenario;
  std::vector<std::string> sets;
  std::string grow;
  std::string from, to;
  int steps = 20;
  double raise_pct = 25;
  int next = 3;
  int threads = 1;
  double slo_floor_pct = 90, ettr_floor_pct = 90;
  bool in_time = false;
  bool json = false;
  bool quiet = false;
  bool report = false;
  std::string out;
};

nlohmann::ordered_json WallJson(const study::Wall& w, const study::Grower& g) {
  nlohmann::ordered_json j;
  j["resource"] = w.resource;
  j["kind"] = w.kind;
  j["metric"] = w.metric;
  j["unit"] = g.axis().unit;  // of binds_at and holds_at
  j["limit"] = w.limit;
  j["limit_unit"] = w.unit;
  j["binds"] = w.binds;
  j["binds_at"] = w.binds ? nlohmann::ordered_json(w.binds_at) : nlohmann::ordered_json();
  j["holds_at"] =
      w.binds && !w.at_start ? nlohmann::ordered_json(w.holds_at) : nlohmann::ordered_json();
  j["binds_at_text"] = w.binds ? g.Format(w.binds_at) : "";
  j["at_start"] = w.at_start;
  j["monotone"] = w.monotone;
  j["utilization_at_end"] =
      w.binds ? nlohmann::ordered_json() : nlohmann::ordered_json(w.utilization_at_end);
  j["end_at"] = w.binds ? nlohmann::ordered_json() : nlohmann::ordered_json(w.end_at);
  j["note"] = w.note;
  j["raise_key"] = w.raise_key;
  if (w.binds) {
    nlohmann::ordered_json h = nlohmann::ordered_json::object();
    for (const auto& [name, headroom] : w.headroom) h[name] = headroom;
    j["headroom"] = h;
  }
  return j;
}

nlohmann::ordered_json ResultJson(const study::WallsResult& r, const study::Grower& g,
                                  const std::string& site, const std::string& scenario_file) {
  nlohmann::ordered_json j;
  j["schema"] = "firstwall.walls/1";
  j["site"] = site;
  j["scenario_file"] = scenario_file;
  j["axis"] = {{"name", r.axis.name},
               {"unit", r.axis.unit},
               {"from", r.from},
               {"to", r.to},
               {"base", r.base}};
  j["runs"] = r.runs;
  nlohmann::ordered_json walls = nlohmann::ordered_json::array();
  for (size_t i = 0; i < r.walls.size(); ++i) {
    walls.push_back(WallJson(r.walls[i], g));
  }
  j["walls"] = walls;
  nlohmann::ordered_json next = nlohmann::ordered_json::array();
  for (const study::NextWall& n : r.next_walls) {
    nlohmann::ordered_json x;
    x["raised"] = n.raised;
    x["raise_key"] = n.raise_key;
    x["raised_to"] = n.raised_to;
    x["unit"] = n.unit;
    x["from"] = n.from;
    x["next"] = n.next ? WallJson(*n.next, g) : nlohmann::ordered_json();
    x["gain"] = n.gain;
    x["stop"] = n.stop;
    next.push_back(x);
  }
  j["next_walls"] = next;
  return j;
}

// The curve: one row per run, each resource's utilization (>= 1: bound).
std::string CurveCsv(const study::WallsResult& r) {
  std::vector<std::string> names;
  for (const study::WallPoint& p : r.curve) {
    for (const study::Limit& l : p.limits) {
      if (std::find(names.begin(), names.end(), l.resource) == names.end()) {
        names.push_back(l.resource);
      }
    }
  }
  std::string out =
      report::CsvField(r.axis.name + (r.axis.unit.empty() ? "" : " (" + r.axis.unit + ")"));
  for (const std::string& n : names) out += "," + report::CsvField(n + " utilization");
  out += ",scenario_refused\n";
  for (const study::WallPoint& p : r.curve) {
    out += units::ShortestDouble(p.x);
    for (const std::string& n : names) {
      out += ",";
      for (const study::Limit& l : p.limits) {
        if (l.resource == n) out += fmt::format("{:.6g}", l.utilization);
      }
    }
    out += p.ok ? ",\n" : "," + report::CsvField(p.error) + "\n";
  }
  return out;
}

std::string RankingCsv(const study::WallsResult& r) {
  std::string out =
      "rank,resource,kind,metric,limit,limit_unit,binds,binds_at,holds_at,axis_unit,monotone,"
      "headroom_at_first_wall,utilization_at_end,note\n";
  for (size_t i = 0; i < r.walls.size(); ++i) {
    const study::Wall& w = r.walls[i];
    std::string headroom;
    for (const auto& [name, h] : r.headroom) {
      if (name == w.resource) headroom = fmt::format("{:.6g}", h);
    }
    out += fmt::format(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", i + 1, report::CsvField(w.resource),
        report::CsvField(w.kind), report::CsvField(w.metric), fmt::format("{:.6g}", w.limit),
        report::CsvField(w.unit), w.binds ? "true" : "false",
        w.binds ? units::ShortestDouble(w.binds_at) : "",
        w.binds && !w.at_start ? units::ShortestDouble(w.holds_at) : "",
        report::CsvField(r.axis.unit), w.monotone ? "true" : "false", headroom,
        w.binds ? "" : fmt::format("{:.6g}", w.utilization_at_end), report::CsvField(w.note));
  }
  return out;
}

std::string RankingText(const study::WallsResult& r, const study::Grower& g) {
  std::string t =
      fmt::format("walls along {} from {} to {} ({} runs; the scenario is at {})\n", r.axis.name,
                  g.Format(r.from), g.Format(r.to), r.runs, g.Format(r.base));
  int rank = 0;
  for (const study::Wall& w : r.walls) {
    ++rank;
    if (w.binds) {
      const std::string what = w.kind == "scenario"
                                   ? w.metric
                                   : fmt::format("{}, limit {:.6g} {}", w.metric, w.limit, w.unit);
      t += fmt::format("  {:2}. {:<24} binds at {}{} ({}){}\n", rank, w.resource,
                       g.Format(w.binds_at), w.at_start ? " (already at the start)" : "", what,
                       w.note.empty() ? "" : "; " + w.note);
    } else {
      t += fmt::format("  {:2}. {:<24} holds to the end: {:.0f}% of its limit at {}{}\n", rank,
                       w.resource, 100 * w.utilization_at_end, g.Format(w.end_at),
                       w.note.empty() ? "" : "; " + w.note);
    }
  }
  if (!r.walls.empty() && r.walls.front().binds) {
    t += fmt::format("headroom at the first wall ({} at {}):\n", r.walls.front().resource,
                     g.Format(r.walls.front().binds_at));
    for (const auto& [name, h] : r.headroom) {
      if (name != r.walls.front().resource) t += fmt::format("  {:<24} {:6.1f}%\n", name, 100 * h);
    }
  }
  for (const study::NextWall& n : r.next_walls) {
    if (n.raise_key.empty() || (!n.next && !n.stop.empty() && n.raised_to == 0)) {
      t += "next: " + n.stop + "\n";
      continue;
    }
    t += fmt::format("raise {} by a step to {:.6g} {} ({}): ", n.raised, n.raised_to, n.unit,
                     n.raise_key);
    if (n.next) {
      t += fmt::format("next wall {} at {} (+{})\n", n.next->resource, g.Format(n.next->binds_at),
                       g.Format(n.gain));
    } else {
      t += n.stop + "\n";
    }
  }
  return t;
}

std::string HoursCsv(const study::HoursResult& h) {
  std::string out = "hour,first_wall,utilization";
  for (const std::string& n : h.resources) out += "," + report::CsvField(n + " utilization");
  out += "\n";
  for (const study::HourWall& w : h.hours) {
    out += fmt::format("{},{},{:.6g}", w.hour, report::CsvField(w.first), w.utilization);
    for (double v : w.per_resource) out += fmt::format(",{:.6g}", v);
    out += "\n";
  }
  return out;
}

std::string HoursText(const study::HoursResult& h) {
  std::string t = fmt::format("walls in time over {} hours (closest to its limit, and bound):\n",
                              h.hours.size());
  for (size_t i = 0; i < h.resources.size(); ++i) {
    t += fmt::format("  {:<24} first in {:6} h, at or over its limit in {:6} h\n", h.resources[i],
                     h.first_hours[i], h.bound_hours[i]);
  }
  return t;
}

int Walls(const WallsCliOptions& o) {
  const SourceLocation grow_at{"--grow", 0, 0};
  if (o.in_time && (!o.grow.empty() || !o.from.empty() || !o.to.empty())) {
    throw InputError({"--in-time", 0, 0},
                     "--in-time reads the scenario's own run: it grows nothing",
                     "leave out --grow, --from and --to, or run without --in-time");
  }
  // An unquoted `--to 80 C` leaves the unit over, and CLI11 takes it for the scenario's path.
  if ((!o.from.empty() || !o.to.empty()) &&
      (units::DimensionOfUnit(o.scenario) || o.scenario == "GPUs" || o.scenario == "GPU")) {
    const std::string opt = o.to.empty() ? "--from" : "--to";
    throw InputError({o.scenario, 0, 0},
                     fmt::format("'{}' is a unit, not a scenario file", o.scenario),
                     fmt::format("quote a value with its unit: {} '{} {}' (a scenario file of "
                                 "that name: ./{})",
                                 opt, o.to.empty() ? o.from : o.to, o.scenario, o.scenario));
  }
  study::ScenarioSource source = study::ScenarioSource::FromFile(o.scenario);
  source.overrides = ParseSets(o.sets);
  // The scenario as given must load first: its own errors come before the axis's.
  const scenario::Scenario given =
      scenario::LoadScenarioText(source.text, source.file, source.base_dir, source.overrides);

  study::LimitOptions limits;
  limits.slo_attainment_floor = o.slo_floor_pct / 100;
  limits.ettr_floor = o.ettr_floor_pct / 100;

  const std::string out_dir = o.out.empty() ? std::string("out/walls") : o.out;
  // report.html is ours only with --report: a run's report in DIR stays otherwise.
  std::vector<std::string> names = {"walls.json", "walls.csv", "walls_curve.csv",
                                    "walls_hours.csv"};
  if (o.report) names.push_back("report.html");
  report::OutputSet outputs(out_dir, names);
  const auto write = [&](const std::string& name, const std::string& text) {
    report::AtomicFile file(outputs.Stage(name));
    file.Write(text);
    file.Commit();
  };
  // From the staged files, as `firstwall report DIR` reads them afterwards: with a run's in DIR,
  // the run's sections too.
  const auto write_report = [&] {
    if (!o.report) return;
    report::ReportFiles files = report::ReportFiles::RunIn(out_dir);
    if (files.summary_json.empty() || files.timeseries_csv.empty()) files = {};
    if (!o.in_time) {
      files.walls_json = outputs.Stage("walls.json");
      files.walls_curve_csv = outputs.Stage("walls_curve.csv");
    } else {
      files.walls_hours_csv = outputs.Stage("walls_hours.csv");
    }
    write("report.html", report::HtmlReport(files));
  };
  if (o.in_time) {
    const study::HoursResult h = study::WallsInTime(source);
    write("walls_hours.csv", HoursCsv(h));
    write_report();
    outputs.Commit();
    if (o.json) {
      nlohmann::ordered_json j;
      j["schema"] = "firstwall.walls_hours/1";
      j["hours"] = h.hours.size();
      nlohmann::ordered_json rs = nlohmann::ordered_json::array();
      for (size_t i = 0; i < h.resources.size(); ++i) {
        rs.push_back({{"resource", h.resources[i]},
                      {"first_hours", h.first_hours[i]},
                      {"bound_hours", h.bound_hours[i]}});
      }
      j["resources"] = rs;
      std::cout << j.dump(2) << "\n";
    } else if (!o.quiet) {
      std::cout << HoursText(h);
    }
    return kOk;
  }
  if (o.grow.empty()) {
    throw InputError(grow_at, "no axis to grow",
                     "give --grow gpus (or it_power, rate:SERVICE, job_size:JOB, "
                     "outdoor_temperature, a numeric key), or --in-time");
  }
  const study::Axis axis = study::ParseAxis(o.grow, source, grow_at);
  const study::Grower grower(source, axis, grow_at);
  study::WallsOptions w;
  if (!o.from.empty()) w.from = grower.Parse(o.from, {"--from", 0, 0});
  if (!o.to.empty()) w.to = grower.Parse(o.to, {"--to", 0, 0});
  w.from_at = {"--from", 0, 0}, w.to_at = {"--to", 0, 0}, w.steps_at = {"--steps", 0, 0};
  w.steps = o.steps;
  w.raise = o.raise_pct / 100;
  w.next_walls = o.next;
  w.threads = o.threads > 0 ? o.threads : study::AvailableCpus();
  w.limits = limits;
  const bool bar = !o.quiet && !o.json && isatty(STDERR_FILENO);
  if (bar) {
    w.progress = [](int runs) { std::cerr << fmt::format("\r{} runs", runs) << std::flush; };
  }
  const study::WallsResult r = study::FindWalls(source, grower, w, grow_at);
  if (bar) std::cerr << "\n";
  const std::string json = ResultJson(r, grower, given.site.name, source.file).dump(2) + "\n";
  write("walls.json", json);
  write("walls.csv", RankingCsv(r));
  write("walls_curve.csv", CurveCsv(r));
  write_report();
  outputs.Commit();
  if (o.json) {
    std::cout << json;
  } else if (!o.quiet) {
    std::cout << RankingText(r, grower);
  }
  return kOk;
}

}  // namespace

Action RegisterWalls(CLI::App& app) {
  auto o = std::make_shared<WallsCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "walls",
      "Who is the first wall: grow the site along an axis and find where each rated resource "
      "reaches its limit (the simulation judges), ranked, with the headroom of the others and what "
      "raising the first wall buys. Writes DIR/walls.json, DIR/walls.csv (the ranking) and "
      "DIR/walls_curve.csv (every run's utilizations); with --in-time, DIR/walls_hours.csv; with "
      "--report, DIR/report.html");
  cmd->add_option("scenario", o->scenario, "Scenario YAML file (default: the built-in scenario)")
      ->check(NonEmptyScenarioPath());
  AddSetOption(cmd, o->sets);
  cmd->add_option("--grow", o->grow,
                  "What grows: gpus (whole racks, with the jobs, services and traces scaled "
                  "alike), it_power (the same, in MW of nameplate IT), rate:SERVICE, job_size:JOB, "
                  "outdoor_temperature, or a numeric scenario key (cluster.rack_power_limit)");
  cmd->add_option("--from", o->from,
                  "Start of the axis: a number in its unit or with it, quoted ('2048 GPUs', "
                  "'8 MW', '35 C', a key's value as '20 kW'); default: the scenario's value");
  cmd->add_option("--to", o->to,
                  "End of the axis, as --from (default: 4 times the scenario's value)");
  cmd->add_option("--steps", o->steps,
                  "Evenly spaced runs along the axis before bisecting, 2 to 1000")
      ->capture_default_str();
  cmd->add_option(
         "--raise", o->raise_pct,
         "Next walls: raise the first wall's rating by this many percent, then search again")
      ->check(CLI::Range(1.0, 1000.0))
      ->capture_default_str();
  cmd->add_option("--next", o->next, "Rounds of raising the first wall, 0 to 10")
      ->check(CLI::Range(0, 10))
      ->capture_default_str();
  cmd->add_option("--threads", o->threads,
                  "Runs in parallel, up to 256 (0: the CPUs this process may use)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  cmd->add_option("--slo-floor", o->slo_floor_pct,
                  "A service's SLO attainment below this many percent is a wall")
      ->check(CLI::Range(0.0, 99.999))
      ->capture_default_str();
  cmd->add_option("--ettr-floor", o->ettr_floor_pct,
                  "With failures, an ETTR below this many percent is a wall")
      ->check(CLI::Range(0.0, 99.999))
      ->capture_default_str();
  cmd->add_flag("--in-time", o->in_time,
                "Instead of growing: over the scenario's own run, which resource is closest to "
                "its limit in each hour (DIR/walls_hours.csv)");
  cmd->add_option("--out", o->out, "Output directory (default out/walls)");
  cmd->add_flag("--report", o->report,
                "Also write DIR/report.html: the walls against scale (or in time) drawn, one file "
                "that works offline (docs/outputs.md)");
  cmd->add_flag("--json", o->json, "Print walls.json instead of the ranking");
  cmd->add_flag("--quiet", o->quiet, "Print nothing (outputs are still written)");
  return [o] { return Walls(*o); };
}

}  // namespace firstwall::cli
