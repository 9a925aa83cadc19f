// The HTML report of a run (`firstwall run --report`, `firstwall report OUT_DIR`): one file that
// works offline, with the chart library (uPlot, MIT, embedded at build time from web/'s npm
// package; its license is in the page) and the run's data inside it. docs/outputs.md describes
// what it shows.
//
// Long time series are downsampled for drawing (downsample.h: each bucket's minimum and maximum, at
// most 2 x max_buckets points a series), so the report of a year at 1 s stays a few hundred kB.
// Series values are rounded to 4 significant digits (drawing needs no more); times are kept as
// written. The output depends only on the files read: the same run gives the same bytes.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace firstwall::report {

// The files a report is built from; an empty path is a file the run did not write. A run's report
// needs summary_json and timeseries_csv; a report of `firstwall walls` alone has neither and
// needs walls_json with walls_curve_csv (--grow), or walls_hours_csv (--in-time).
struct ReportFiles {
  std::string summary_json;
  std::string timeseries_csv;
  std::string jobs_csv, events_csv, swings_csv, links_csv;
  std::string walls_json, walls_curve_csv, walls_hours_csv;
  // A sweep (`firstwall sweep`): manifest.json and results.csv, with bands.csv where it has
  // replicas or uncertain inputs.
  std::string sweep_manifest, sweep_results_csv, sweep_bands_csv;

  // The files of an earlier output directory: a run's (`firstwall run`), with the walls' where
  // `firstwall walls` wrote into it too, the walls' alone, or a sweep's (manifest.json and
  // results.csv). Throws InputError when `dir` is not a directory, or holds none of these.
  static ReportFiles InDir(const std::filesystem::path& dir);
  // Without checks: the run's files `dir` holds (RunIn), and the walls' (WallsIn; walls.json
  // only with walls_curve.csv), for a command that writes the other kind into `dir`.
  static ReportFiles RunIn(const std::filesystem::path& dir);
  void WallsIn(const std::filesystem::path& dir);
  void SweepIn(const std::filesystem::path& dir);  // manifest.json only with results.csv
};

struct HtmlReportOptions {
  size_t max_buckets = 2000;      // per time series: at most 4,000 points drawn
  size_t max_job_lanes = 200;     // the Gantt chart's jobs, the most GPU-hours first
  size_t max_job_events = 20000;  // markers on it; checkpoints are thinned first
};

// The timeseries.csv columns the page draws, besides every link_util_* column and the WUE it
// computes per row (wue_l_per_kwh: water_use_l_per_s x 3600 / it_power_kw).
const std::vector<std::string>& DrawnColumns();

// The data the page draws, as embedded in it (a JSON object: `meta`, `series`, `limits`,
// `resources`, and where the run has them `gantt`, `goodput`, `swings`, `services`,
// `hottest_links`, `thermal`, `walls`, `walls_hours`; `absent` lists, as sentences, the sections
// left out and why). A report of the walls alone has `meta` {walls_only: true, site,
// scenario_file} and `walls` and/or `walls_hours`; a sweep's, `meta` {sweep_only: true} and
// `sweep` (html_report_parts.h, AddSweep).
// Throws InputError naming file:line on a malformed file.
nlohmann::json ReportData(const ReportFiles& files, const HtmlReportOptions& options = {});

// The whole page for `data` (ReportData's).
std::string RenderHtmlReport(const nlohmann::json& data);

// ReportData then RenderHtmlReport.
std::string HtmlReport(const ReportFiles& files, const HtmlReportOptions& options = {});

}  // namespace firstwall::report
