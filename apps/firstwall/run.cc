// firstwall run [SCENARIO] [--out DIR] [--json] [--quiet]
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "apps/firstwall/commands.h"
#include "apps/firstwall/scenario_arg.h"
#include "report/html_report.h"
#include "report/output_set.h"
#include "report/outputs.h"
#include "report/simulate.h"
#include "report/text_format.h"

namespace firstwall::cli {
namespace {

struct RunOptions {
  std::string scenario;
  std::string out = "out";
  bool json = false;
  bool quiet = false;
  bool links = false;
  bool report = false;
  int hot_links = 3;
  std::vector<std::string> sets;
};

// A progress line on stderr: simulated time, speed against real time, and the time left.
class Progress {
 public:
  explicit Progress(SimTime end) : end_(end), start_(Clock::now()), last_(start_) {}
  void Update(SimTime now) {
    const auto t = Clock::now();
    if (t - last_ < std::chrono::milliseconds(100) && now < end_) return;
    last_ = t;
    const double wall = std::chrono::duration<double>(t - start_).count();
    const double frac = now.seconds() / end_.seconds();
    const double speed = wall > 0 ? now.seconds() / wall : 0;
    const double eta = speed > 0 ? (end_ - now).seconds() / speed : 0;
    const int width = 30;
    const int filled = static_cast<int>(frac * width);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    std::cerr << txt::format("\r[{}] {:6.2f} h of {:.2f} h  x{:.0f} real time  ETA {:.1f} s ", bar,
                             now.seconds() / 3600, end_.seconds() / 3600, speed, eta)
              << std::flush;
  }
  ~Progress() { std::cerr << "\n"; }

 private:
  using Clock = std::chrono::steady_clock;
  SimTime end_;
  Clock::time_point start_, last_;
};

int Run(const RunOptions& o) {
  scenario::Scenario sc = LoadScenarioArg(o.scenario, o.sets);
  report::CheckTimeSeriesSize(sc.site.duration.seconds(), sc.output_interval.seconds(), o.hot_links,
                              sc.max_output_bytes, sc.output_at);
  report::OutputSet outputs(o.out);

  report::SimulateOptions sim;
  sim.timeseries_csv = outputs.Stage("timeseries.csv");
  sim.output_interval = sc.output_interval;
  std::unique_ptr<Progress> progress;
  if (!o.quiet && isatty(STDERR_FILENO)) {
    progress = std::make_unique<Progress>(sc.site.duration);
    sim.progress = [&](SimTime t) { progress->Update(t); };
  }
  std::string links_csv;
  if (o.links) sim.link_table = &links_csv;
  sim.hot_link_columns = o.hot_links;
  std::string swings_csv;
  sim.swing_table = &swings_csv;
  std::string jobs_csv, events_csv;
  sim.jobs_table = &jobs_csv;
  sim.events_table = &events_csv;
  const report::Summary summary = report::Simulate(sc.site, sc.file, sim);
  progress.reset();
  auto write = [&](const std::string& name, const std::string& text) {
    report::AtomicFile file(outputs.Stage(name));
    file.Write(text);
    file.Commit();
  };
  if (summary.swings) write("swings.csv", swings_csv);
  if (o.links) write("links.csv", links_csv);
  if (summary.life) {
    write("jobs.csv", jobs_csv);
    write("events.csv", events_csv);
  }
  // Names are UTF-8 (the loader refuses other bytes), but a scenario's path comes from the
  // command line: a byte that is not UTF-8 is written as U+FFFD rather than failing the run.
  const std::string json = txt::json_text(report::SummaryJson(summary)) + "\n";
  write("summary.json", json);
  if (o.report) {
    // From the staged files, as `firstwall report` reads them from DIR afterwards.
    report::ReportFiles files;
    files.summary_json = outputs.Stage("summary.json");
    files.timeseries_csv = outputs.Stage("timeseries.csv");
    if (summary.life) files.jobs_csv = outputs.Stage("jobs.csv");
    if (summary.life) files.events_csv = outputs.Stage("events.csv");
    if (summary.swings) files.swings_csv = outputs.Stage("swings.csv");
    if (o.links) files.links_csv = outputs.Stage("links.csv");
    files.WallsIn(o.out);  // `firstwall walls` outputs in DIR are drawn too, as `report DIR` does
    write("report.html", report::HtmlReport(files));
  }
  outputs.Commit();
  if (o.json) {
    std::cout << json;
  } else if (!o.quiet) {
    std::cout << report::SummaryText(summary) << "\nwrote " << o.out << "/summary.json, " << o.out
              << "/timeseries.csv" << (summary.swings ? ", " + o.out + "/swings.csv" : "")
              << (o.links ? ", " + o.out + "/links.csv" : "")
              << (summary.life ? ", " + o.out + "/jobs.csv, " + o.out + "/events.csv" : "")
              << (o.report ? ", " + o.out + "/report.html" : "") << "\n";
  }
  return kOk;
}

}  // namespace

// A whole number from 0 to `max`, written as digits: CLI::Range read "1e3" as 1000 and then
// failed to convert it, and "nan" got CLI11's own wording.
CLI::Validator WholeNumberUpTo(int max) {
  return CLI::Validator(
      [max](std::string& text) -> std::string {
        const bool digits = !text.empty() && text.size() <= 9 &&
                            text.find_first_not_of("0123456789") == std::string::npos;
        if (digits && std::stoi(text) <= max) return {};
        return "expected a whole number from 0 to " + std::to_string(max) + ", got '" + text + "'";
      },
      "");
}

Action RegisterRun(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd =
      app.add_subcommand("run",
                         "Simulate a scenario; prints a summary and writes DIR/summary.json, "
                         "DIR/timeseries.csv, DIR/swings.csv (when the scenario records power "
                         "swings), DIR/jobs.csv and DIR/events.csv (with a scheduler) and "
                         "DIR/links.csv (with --links) and DIR/report.html (with --report). The "
                         "files of one run replace "
                         "all of an earlier run's together, and only when the run completes.");
  cmd->add_option("scenario", o->scenario,
                  "Scenario YAML file (default: the built-in 1,024-GPU H100 hall, "
                  "examples/default.yaml)")
      ->check(NonEmptyScenarioPath());
  cmd->add_option("--out", o->out, "Output directory")->capture_default_str();
  AddSetOption(cmd, o->sets);
  cmd->add_flag("--json", o->json, "Print summary.json to stdout instead of the text summary");
  cmd->add_flag("--quiet", o->quiet, "Print nothing (outputs are still written)");
  cmd->add_flag("--links", o->links,
                "Also write DIR/links.csv: every change of every fabric link's load over the run");
  cmd->add_flag("--report", o->report,
                "Also write DIR/report.html: the run's charts in one HTML file that works offline "
                "(docs/outputs.md)");
  cmd->add_option("--hot-links", o->hot_links,
                  "Columns in timeseries.csv for the N most loaded scale-out links "
                  "(link_util_<link>, the highest load over each output interval, "
                  "simulation.output_interval), 0 to 1000")
      ->check(WholeNumberUpTo(1000))
      ->capture_default_str();
  return [o] { return Run(*o); };
}

}  // namespace firstwall::cli
