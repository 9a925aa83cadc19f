#include "report/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

#include <fmt/format.h>

#include "core/error.h"
#include "power/swing.h"
#include "report/csv_reader.h"
#include "report/downsample.h"
#include "report/html_report_parts.h"
#include "report/json_shape.h"

namespace firstwall::report {
namespace {

using nlohmann::json;

// Rounds a column to 4 significant digits of its range (max - min): what a chart of it can show,
// and a third of the bytes. Of the values' own digits it would draw a PUE moving between 1.0912 and
// 1.0918 as false steps of 0.001; a flat column keeps 4 significant digits of its value.
json Column(const std::vector<double>& values) {
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  const double span = hi - lo;
  const bool flat = !(span > 0) || !std::isfinite(span);
  const int decimals =
      flat ? 0 : std::clamp(3 - static_cast<int>(std::floor(std::log10(span))), 0, 15);
  json a = json::array();
  for (double v : values) {
    if (!std::isfinite(v)) {
      a.push_back(v);
    } else if (flat) {
      a.push_back(std::strtod(fmt::format("{:.4g}", v).c_str(), nullptr));
    } else {
      a.push_back(std::strtod(fmt::format("{:.{}f}", v, decimals).c_str(), nullptr));
    }
  }
  return a;
}

// The downsampled points as the page reads them: `x`, `rows`, `rows_per_bucket` and `columns`
// {name: values}.
json SeriesJson(const MinMaxDownsampler& down, const std::vector<std::string>& names) {
  const MinMaxDownsampler::Points p = down.Finish();
  json out;
  out["x"] = p.x;
  out["rows"] = p.rows;
  out["rows_per_bucket"] = p.rows_per_bucket;
  json cols = json::object();
  for (size_t k = 0; k < names.size(); ++k) cols[names[k]] = Column(p.columns[k]);
  out["columns"] = std::move(cols);
  return out;
}

// The types of the summary's values the page reads, so that a hand-edited summary.json is refused
// by name rather than drawn as "n/a", drawn broken or failing inside the JSON library.
void CheckSummaryShape(const json& s, const std::string& path) {
  using T = JsonShape::Type;
  const JsonShape shape(path, "summary.json as `firstwall run` writes it (docs/outputs.md)");
  shape.Fields(s,
               {{"sim_time_s", T::kNumber},
                {"tick_s", T::kNumber},
                {"seed", T::kNumber},
                {"gpu_count", T::kNumber},
                {"node_count", T::kNumber},
                {"rack_count", T::kNumber},
                {"facility_energy_kwh", T::kNumber},
                {"it_energy_kwh", T::kNumber},
                {"pue", T::kNumber},
                {"wue_l_per_kwh", T::kNumber},
                {"peak_facility_power_kw", T::kNumber},
                {"peak_it_power_kw", T::kNumber},
                {"peak_grid_power_kw", T::kNumber},
                {"energy_cost_usd", T::kNumber},
                {"carbon_t", T::kNumber},
                {"mean_gpu_activity", T::kNumber},
                {"grid_limit_exceeded_hours", T::kNumber},
                {"nvlink_peak_utilization", T::kNumber},
                {"site", T::kString},
                {"scenario_file", T::kString},
                {"gpu", T::kString},
                {"busiest_resource", T::kString},
                {"goodput", T::kObject},
                {"power_swings", T::kObject},
                {"on_site", T::kObject},
                {"network", T::kObject},
                {"cooling", T::kObject},
                {"torus", T::kObject}},
               "");
  shape.ObjectsIn(s, "resources",
                  {{"name", T::kString, false, true},
                   {"kind", T::kString, false, true},
                   {"unit", T::kString, false, true},
                   {"peak", T::kNumber},
                   {"rating", T::kNumber},
                   {"peak_utilization", T::kNumber}},
                  "");
  const std::initializer_list<JsonShape::Field> percentiles = {{"mean", T::kNumber},
                                                               {"p50", T::kNumber},
                                                               {"p90", T::kNumber},
                                                               {"p99", T::kNumber},
                                                               {"max", T::kNumber}};
  shape.ObjectsIn(s, "services",
                  {{"name", T::kString},
                   {"model", T::kString},
                   {"gpus", T::kNumber},
                   {"replicas", T::kNumber},
                   {"throughput_rps", T::kNumber},
                   {"output_tokens_per_s", T::kNumber},
                   {"goodput_rps", T::kNumber},
                   {"energy_per_output_token_j", T::kNumber},
                   {"facility_energy_per_output_token_j", T::kNumber},
                   {"ttft_s", T::kObject},
                   {"tpot_s", T::kObject},
                   {"itl_s", T::kObject},
                   {"e2e_s", T::kObject},
                   {"slo", T::kObject}},
                  "");
  for (size_t i = 0; s.contains("services") && i < s["services"].size(); ++i) {
    const json& v = s["services"][i];
    const std::string at = "services[" + std::to_string(i) + "].";
    for (const char* key : {"ttft_s", "tpot_s", "itl_s", "e2e_s"}) {
      if (v.contains(key) && v[key].is_object()) shape.Fields(v[key], percentiles, at + key + ".");
    }
    if (v.contains("slo") && v["slo"].is_object()) {
      shape.Fields(v["slo"],
                   {{"ttft_s", T::kNumber}, {"tpot_s", T::kNumber}, {"attainment", T::kNumber}},
                   at + "slo.");
    }
  }
  shape.ObjectsIn(s, "hottest_links",
                  {{"link", T::kString, false, true},
                   {"peak_utilization", T::kNumber, false, true},
                   {"at_s", T::kNumber}},
                  "");
  shape.ObjectsIn(s, "jobs",
                  {{"name", T::kString},
                   {"gpus", T::kNumber},
                   {"gpu_temperature_peak_c", T::kNumber},
                   {"throttled_gpu_hours", T::kNumber},
                   {"thermal_shutdown", T::kBool}},
                  "");
  if (s.contains("cooling") && s["cooling"].is_object()) {
    shape.Fields(s["cooling"], {{"throttled_gpu_hours", T::kNumber}}, "cooling.");
  }
  if (s.contains("goodput") && s["goodput"].is_object()) {
    const json& g = s["goodput"];
    shape.Fields(g,
                 {{"useful_gpu_h", T::kNumber},
                  {"ettr", T::kNumber},
                  {"runtime_goodput", T::kNumber},
                  {"queueing_gpu_h", T::kNumber}},
                 "goodput.");
    shape.NumberMap(g, "badput_gpu_h", "goodput.");
  }
  if (s.contains("power_swings") && s["power_swings"].is_object()) {
    const json& w = s["power_swings"];
    shape.Fields(
        w, {{"start_s", T::kNumber}, {"duration_s", T::kNumber}, {"resolution_s", T::kNumber}},
        "power_swings.");
    shape.NumbersIn(w, "band_hz", "power_swings.");
    shape.ObjectsIn(w, "variants",
                    {{"name", T::kString, false, true},
                     {"swing_mw", T::kNumber},
                     {"peak_mw", T::kNumber},
                     {"trough_mw", T::kNumber},
                     {"max_ramp_mw_per_s", T::kNumber},
                     {"band_energy_share", T::kNumber},
                     {"extra_energy_kwh", T::kNumber}},
                    "power_swings.");
  }
  shape.NumberMap(s, "on_site", "");
  if (s.contains("network") && s["network"].is_object()) {
    shape.Fields(s["network"],
                 {{"technology", T::kString},
                  {"topology", T::kString},
                  {"switch", T::kString},
                  {"optics", T::kString},
                  {"port_gbps", T::kNumber},
                  {"leaf_switches", T::kNumber},
                  {"spine_switches", T::kNumber},
                  {"super_spine_switches", T::kNumber},
                  {"switch_ports_in_use", T::kNumber},
                  {"switch_power_kw", T::kNumber},
                  {"optics_power_kw", T::kNumber},
                  {"network_power_kw", T::kNumber},
                  {"network_power_per_gpu_w", T::kNumber}},
                 "network.");
  }
  if (s.contains("torus") && s["torus"].is_object()) {
    const json& t = s["torus"];
    shape.Fields(t,
                 {{"dims", T::kArray, false, true},
                  {"links_per_chip", T::kNumber},
                  {"link_bytes_per_s", T::kNumber},
                  {"allreduce_busbw_bytes_per_s", T::kNumber},
                  {"bisection_bytes_per_s", T::kNumber},
                  {"twisted", T::kBool}},
                 "torus.");
    shape.NumbersIn(t, "dims", "torus.");
  }
}

json ReadSummary(const std::string& path) {
  const json s = ReadJsonFile(path);
  if (!s.is_object() || !s.contains("schema") || !s["schema"].is_string() ||
      s["schema"] != "firstwall.summary/1") {
    throw InputError({path, 0, 0},
                     "expected a firstwall summary (\"schema\": "
                     "\"firstwall.summary/1\"), as `firstwall run` writes it");
  }
  CheckSummaryShape(s, path);
  return s;
}

std::vector<std::string> TimeSeriesColumns(const std::string& path) {
  std::vector<std::string> names = DrawnColumns();
  const CsvReader csv(path);
  for (const std::string& h : csv.header()) {
    if (h.rfind("link_util_", 0) == 0) names.push_back(h);
  }
  return names;
}

// The keys of `from` that exist, copied.
json Pick(const json& from, std::initializer_list<const char*> keys) {
  json out = json::object();
  for (const char* k : keys) {
    if (from.contains(k)) out[k] = from[k];
  }
  return out;
}

// The hottest links' loads over the run from links.csv (every change of every link, in time
// order): one row per time at which one of them changes, each link holding its last value (0
// before its first row), downsampled like the time series.
json ReadLinkSeries(const std::string& path, const json& hottest, double end_s,
                    size_t max_buckets) {
  std::vector<std::string> names;
  for (const json& l : hottest) names.push_back(l.value("link", ""));
  CsvReader csv(path);
  const int ti = csv.Column("time_s"), li = csv.Column("link"), ui = csv.Column("utilization");
  if (ti < 0 || li < 0 || ui < 0) {
    throw InputError({path, 1, 1}, "expected the columns time_s, link and utilization");
  }
  MinMaxDownsampler down(names.size(), max_buckets);
  std::vector<double> now(names.size(), 0.0);
  std::vector<std::string> f;
  double t_row = 0;
  bool pending = false;
  while (csv.Next(f)) {
    csv.CheckWidth(f);
    const auto it = std::find(names.begin(), names.end(), f[static_cast<size_t>(li)]);
    if (it == names.end()) continue;
    const double t = csv.Number(f, ti);
    if (!(t >= t_row)) {
      throw InputError({path, csv.line(), 1}, "expected time_s not below the previous row's");
    }
    if (pending && t > t_row) down.Add(t_row, now);
    t_row = t;
    pending = true;
    now[static_cast<size_t>(it - names.begin())] = csv.Number(f, ui);
  }
  if (pending) down.Add(t_row, now);
  if (pending && end_s > t_row) down.Add(end_s, now);
  return SeriesJson(down, names);
}

// The amplitude spectrum of each of swings.csv's columns `names` (MW), from 0 to `hi_hz`
// (power/swing.h, as summary.json's band figures), downsampled like the time series; null when
// the window has more than 2^21 samples (the page says so).
json ReadSpectra(const std::string& path, const std::vector<std::string>& names, double dt_s,
                 double hi_hz, size_t max_buckets) {
  CsvReader csv(path);
  std::vector<int> index;
  std::vector<std::string> found;
  for (const std::string& name : names) {
    const int i = csv.Column(name);
    if (i >= 0) index.push_back(i), found.push_back(name);
  }
  std::vector<std::vector<double>> series(found.size());
  std::vector<std::string> f;
  constexpr size_t kMaxSamples = size_t{1} << 21;
  while (csv.Next(f)) {
    csv.CheckWidth(f);
    if (series.empty() || series[0].size() == kMaxSamples) return nullptr;
    for (size_t k = 0; k < found.size(); ++k) {
      const double v = csv.Number(f, index[k]);
      series[k].push_back(std::isfinite(v) ? v : 0.0);
    }
  }
  if (series.empty() || series[0].size() < 4 || !(dt_s > 0)) return nullptr;
  std::vector<std::vector<double>> spectra;
  for (const auto& s : series) spectra.push_back(power::AmplitudeSpectrum(s));
  const double df = 1.0 / (static_cast<double>(series[0].size()) * dt_s);
  MinMaxDownsampler down(found.size(), max_buckets);
  std::vector<double> row(found.size());
  for (size_t b = 0; b < spectra[0].size() && static_cast<double>(b + 1) * df <= hi_hz; ++b) {
    for (size_t k = 0; k < found.size(); ++k) row[k] = spectra[k][b];
    down.Add(static_cast<double>(b + 1) * df, row);
  }
  return SeriesJson(down, found);
}

}  // namespace

json ReadJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError({path, 0, 0}, "cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  try {
    return json::parse(text.str());
  } catch (const json::parse_error& e) {
    throw InputError({path, 0, 0}, std::string("is not valid JSON: ") + e.what());
  }
}

json ReadSeries(const std::string& path, const std::vector<std::string>& wanted,
                const std::string& x_name, size_t max_buckets, bool wue) {
  CsvReader csv(path);
  const int xi = csv.Column(x_name);
  if (xi < 0) {
    throw InputError({path, 1, 1}, "expected a '" + x_name + "' column in the header");
  }
  std::vector<std::string> names;
  std::vector<int> index;
  for (const std::string& name : wanted) {
    const int i = csv.Column(name);
    if (i >= 0) names.push_back(name), index.push_back(i);
  }
  const int water = csv.Column("water_use_l_per_s"), it = csv.Column("it_power_kw");
  const bool with_wue = wue && water >= 0 && it >= 0;
  if (with_wue) names.push_back("wue_l_per_kwh");
  MinMaxDownsampler down(names.size(), max_buckets);
  std::vector<std::string> fields;
  std::vector<double> values(names.size());
  double last_x = -INFINITY;
  while (csv.Next(fields)) {
    csv.CheckWidth(fields);
    const double x = csv.Number(fields, xi);
    if (!(x >= last_x)) {
      throw InputError({path, csv.line(), 1},
                       "expected '" + x_name + "' to be a number not below the previous row's");
    }
    last_x = x;
    for (size_t k = 0; k < index.size(); ++k) {
      values[k] = csv.Number(fields, index[k]);
    }
    if (with_wue) {
      // Site water per IT energy in the interval: L/s x 3600 s/h / kW = L/kWh.
      const double kw = csv.Number(fields, it);
      values.back() = kw > 0 ? csv.Number(fields, water) * 3600.0 / kw : NAN;
    }
    down.Add(x, values);
  }
  return SeriesJson(down, names);
}

const std::vector<std::string>& DrawnColumns() {
  static const std::vector<std::string> names = {"gpu_power_kw",       "node_base_power_kw",
                                                 "conversion_loss_kw", "cooling_power_kw",
                                                 "facility_power_kw",  "it_power_kw",
                                                 "grid_power_kw",      "generation_kw",
                                                 "battery_power_kw",   "pue",
                                                 "outdoor_dry_bulb_c", "outdoor_wet_bulb_c",
                                                 "economizer_share",   "gpu_coolant_c",
                                                 "mean_gpu_activity",  "running_jobs",
                                                 "queued_jobs",        "peak_rack_power_kw",
                                                 "renewable_power_kw", "curtailed_kw",
                                                 "battery_soc"};
  return names;
}

namespace {
std::string FileIn(const std::filesystem::path& dir, const char* name) {
  std::error_code ec;
  const std::filesystem::path p = dir / name;
  return std::filesystem::is_regular_file(p, ec) ? p.string() : std::string();
}
}  // namespace

ReportFiles ReportFiles::RunIn(const std::filesystem::path& dir) {
  ReportFiles f;
  f.summary_json = FileIn(dir, "summary.json");
  f.timeseries_csv = FileIn(dir, "timeseries.csv");
  f.jobs_csv = FileIn(dir, "jobs.csv");
  f.events_csv = FileIn(dir, "events.csv");
  f.swings_csv = FileIn(dir, "swings.csv");
  f.links_csv = FileIn(dir, "links.csv");
  return f;
}

void ReportFiles::SweepIn(const std::filesystem::path& dir) {
  sweep_manifest = FileIn(dir, "manifest.json");
  sweep_results_csv = FileIn(dir, "results.csv");
  sweep_bands_csv = FileIn(dir, "bands.csv");
  if (sweep_manifest.empty() || sweep_results_csv.empty()) {
    sweep_manifest.clear(), sweep_results_csv.clear(), sweep_bands_csv.clear();
  }
}

void ReportFiles::WallsIn(const std::filesystem::path& dir) {
  walls_curve_csv = FileIn(dir, "walls_curve.csv");
  walls_json = walls_curve_csv.empty() ? std::string() : FileIn(dir, "walls.json");
  walls_hours_csv = FileIn(dir, "walls_hours.csv");
}

ReportFiles ReportFiles::InDir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw InputError({dir.string(), 0, 0}, "is not a directory",
                     "give the output directory of an earlier `firstwall run --out DIR` or "
                     "`firstwall walls --out DIR`");
  }
  ReportFiles f = RunIn(dir);
  f.WallsIn(dir);
  if (!FileIn(dir, "walls.json").empty() && f.walls_curve_csv.empty()) {
    throw InputError({(dir / "walls_curve.csv").string(), 0, 0},
                     "is missing: walls.json's report needs the curve `firstwall walls` writes "
                     "beside it");
  }
  f.SweepIn(dir);
  if (f.sweep_manifest.empty() && f.summary_json.empty() && f.walls_json.empty() &&
      f.walls_hours_csv.empty()) {
    // A sweep's directory without its table: a shard's (results.shard-I-of-N.jsonl), or broken.
    bool shard = false;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      shard = shard || e.path().filename().string().rfind("results.shard-", 0) == 0;
    }
    if (shard) {
      throw InputError({dir.string(), 0, 0},
                       "holds a shard of a sweep: the report draws the whole sweep",
                       "merge the shards with `firstwall collate DIR...`, then report its --out");
    }
    if (!FileIn(dir, "manifest.json").empty()) {
      throw InputError({(dir / "results.csv").string(), 0, 0},
                       "is missing: a sweep's report needs manifest.json and results.csv");
    }
  }
  const bool walls =
      !f.walls_json.empty() || !f.walls_hours_csv.empty() || !f.sweep_manifest.empty();
  // A run's directory needs both of its files; one without the other is a broken run.
  if (f.summary_json.empty() != f.timeseries_csv.empty() || (f.summary_json.empty() && !walls)) {
    const char* missing = f.summary_json.empty() ? "summary.json" : "timeseries.csv";
    throw InputError({(dir / missing).string(), 0, 0},
                     "is missing: a report needs summary.json and timeseries.csv from `firstwall "
                     "run`, or the outputs of `firstwall walls` or `firstwall sweep`");
  }
  return f;
}

namespace {
json RunData(const json& s, const ReportFiles& files, const HtmlReportOptions& options);

// Why walls.json (`walls`) is of another scenario than the run (`meta`): their sites differ, or
// their scenario files do (as written, normalized: "./a.yaml" is "a.yaml", and a relative path
// that ends an absolute one is taken as it). "" when nothing says so. Neither records `--set`
// overrides, so walls of the same file with other overrides are not told apart.
std::string OtherScenario(const json& walls, const json& meta) {
  const auto named = [](const json& v) { return v.is_string() && !v.get<std::string>().empty(); };
  if (named(walls["site"]) && named(meta["site"]) && walls["site"] != meta["site"]) {
    return fmt::format("site {} against {}", walls["site"].dump(), meta["site"].dump());
  }
  if (!walls["scenario_file"].is_string() || !meta["scenario_file"].is_string()) return "";
  namespace fs = std::filesystem;
  const fs::path a = fs::path(walls["scenario_file"].get<std::string>()).lexically_normal();
  const fs::path b = fs::path(meta["scenario_file"].get<std::string>()).lexically_normal();
  const auto ends = [](const fs::path& whole, const fs::path& tail) {
    const std::string w = whole.generic_string(), t = tail.generic_string();
    return w.size() > t.size() && w.ends_with(t) && w[w.size() - t.size() - 1] == '/';
  };
  if (a == b || (a.is_absolute() != b.is_absolute() && (ends(a, b) || ends(b, a)))) return "";
  return fmt::format("file {} against {}", walls["scenario_file"].dump(),
                     meta["scenario_file"].dump());
}
}  // namespace

json ReportData(const ReportFiles& files, const HtmlReportOptions& options) {
  if (files.summary_json.empty() && !files.sweep_manifest.empty()) {
    json d;
    d["meta"] = {{"sweep_only", true}};
    AddSweep(files, options, d);
    d["meta"]["sweep_file"] = d["sweep"]["sweep_file"];
    d["absent"] = json::array();
    return d;
  }
  if (files.summary_json.empty()) {
    json d;
    d["meta"] = {{"walls_only", true}};
    AddWalls(files, options, d);
    if (d.contains("walls")) {
      d["meta"]["site"] = d["walls"]["site"];
      d["meta"]["scenario_file"] = d["walls"]["scenario_file"];
    }
    d["absent"] = json::array();
    return d;
  }
  const json s = ReadSummary(files.summary_json);
  json d;
  try {
    d = RunData(s, files, options);
  } catch (const json::exception& e) {
    // A shape CheckSummaryShape does not look at.
    throw InputError({files.summary_json, 0, 0},
                     std::string("holds a value of another type than a run writes: ") + e.what());
  }
  AddWalls(files, options, d);  // its files' errors name them
  // What the page must say before anything else: the scenario's warnings, as the run printed them,
  // and walls of another scenario than the run's beside it (walls.json names its own).
  json warnings = json::array();
  if (s.contains("warnings") && s["warnings"].is_array()) {
    for (const json& w : s["warnings"]) {
      if (w.is_string()) warnings.push_back(w);
    }
  }
  if (d.contains("walls")) {
    if (const std::string why = OtherScenario(d["walls"], d["meta"]); !why.empty()) {
      warnings.push_back(fmt::format(
          "The walls against scale are of another scenario than this run: {}. walls.json was "
          "written by `firstwall walls` on it, not on the run beside it.",
          why));
    }
  }
  if (!warnings.empty()) d["warnings"] = std::move(warnings);
  if (!d.contains("walls") && !d.contains("walls_hours")) {
    d["absent"].push_back(
        "Walls against scale: `firstwall walls SCENARIO --grow AXIS --report` draws them, or "
        "`firstwall walls ... --out DIR` into this run's directory and `firstwall report DIR`.");
  }
  return d;
}

namespace {
// A run's page data (ReportData) from its summary `s`.
json RunData(const json& s, const ReportFiles& files, const HtmlReportOptions& options) {
  json d;
  json absent = json::array();
  d["meta"] = Pick(s, {"site",
                       "scenario_file",
                       "seed",
                       "sim_time_s",
                       "tick_s",
                       "gpu",
                       "gpu_count",
                       "node_count",
                       "rack_count",
                       "facility_energy_kwh",
                       "it_energy_kwh",
                       "pue",
                       "wue_l_per_kwh",
                       "peak_facility_power_kw",
                       "peak_it_power_kw",
                       "peak_grid_power_kw",
                       "energy_cost_usd",
                       "carbon_t",
                       "mean_gpu_activity",
                       "busiest_resource",
                       "grid_limit_exceeded_hours"});
  d["series"] = ReadSeries(files.timeseries_csv, TimeSeriesColumns(files.timeseries_csv), "time_s",
                           options.max_buckets, true);
  d["resources"] = s.value("resources", json::array());
  if (s.contains("on_site") && s["on_site"].is_object()) d["on_site"] = s["on_site"];
  if (s.contains("network") && s["network"].is_object()) d["network"] = s["network"];
  // Ratings drawn on the facility power chart: the grid connection and the power chain's stages.
  json limits = json::array();
  for (const json& r : d["resources"]) {
    const std::string kind = r.value("kind", "");
    if (r.value("unit", "") == "kW" && r.contains("rating") && r["rating"].is_number() &&
        (kind == "grid" || kind == "power stage")) {
      limits.push_back({{"name", r.value("name", "")}, {"kind", kind}, {"kw", r["rating"]}});
    }
  }
  d["limits"] = std::move(limits);
  AddGantt(files, options, d, absent);
  if (s.contains("goodput") && s["goodput"].is_object()) {
    json g = s["goodput"];
    g.erase("jobs");
    d["goodput"] = std::move(g);
  } else {
    absent.push_back("Goodput and badput: the run has no scheduler: section.");
  }
  if (s.contains("power_swings") && s["power_swings"].is_object()) {
    json w = s["power_swings"];
    if (!files.swings_csv.empty()) {
      std::vector<std::string> names;
      for (const json& v : w.value("variants", json::array())) {
        names.push_back("facility_" + v.value("name", "") + "_mw");
      }
      w["series"] = ReadSeries(files.swings_csv, names, "time_s", options.max_buckets, false);
      const json band = w.value("band_hz", json::array());
      const double hi_hz = band.size() == 2 && band[1].is_number() ? band[1].get<double>() : 20.0;
      w["spectrum"] = ReadSpectra(files.swings_csv, names, w.value("resolution_s", 0.0), hi_hz,
                                  options.max_buckets);
    }
    d["swings"] = std::move(w);
  } else {
    absent.push_back("Power swings: the scenario records no power_swings window.");
  }
  json services = json::array();
  for (const json& v : s.value("services", json::array())) {
    services.push_back(
        Pick(v, {"name", "model", "gpus", "replicas", "ttft_s", "tpot_s", "itl_s", "e2e_s", "slo",
                 "throughput_rps", "output_tokens_per_s", "goodput_rps",
                 "energy_per_output_token_j", "facility_energy_per_output_token_j"}));
  }
  if (services.empty()) {
    absent.push_back("Inference services: the scenario has none.");
  } else {
    d["services"] = std::move(services);
  }
  const json links = s.value("hottest_links", json::array());
  if (links.empty()) {
    absent.push_back("Hottest links: no scale-out link carried traffic.");
  } else {
    d["hottest_links"] = links;
    if (!files.links_csv.empty()) {
      d["link_series"] =
          ReadLinkSeries(files.links_csv, links, s.value("sim_time_s", 0.0), options.max_buckets);
    }
  }
  // The scale-up fabric: the busiest NVLink port, or ICI link of a TPU torus (the "fabric"
  // resource is the scale-out network's).
  if (s.contains("nvlink_peak_utilization") && s["nvlink_peak_utilization"].is_number()) {
    d["scale_up"] = {{"peak_utilization", s["nvlink_peak_utilization"]}};
    if (s.contains("torus")) d["scale_up"]["torus"] = s["torus"];
  }
  json thermal = json::array();
  for (const json& j : s.value("jobs", json::array())) {
    if (j.contains("gpu_temperature_peak_c")) {
      thermal.push_back(Pick(j, {"name", "gpus", "gpu_temperature_peak_c", "throttled_gpu_hours",
                                 "thermal_shutdown"}));
    }
  }
  if (!thermal.empty()) d["thermal"] = std::move(thermal);
  if (s.contains("cooling")) {
    d["meta"]["throttled_gpu_hours"] = s["cooling"].value("throttled_gpu_hours", 0.0);
  }
  d["absent"] = std::move(absent);
  return d;
}

}  // namespace

std::string HtmlReport(const ReportFiles& files, const HtmlReportOptions& options) {
  return RenderHtmlReport(ReportData(files, options));
}

}  // namespace firstwall::report
