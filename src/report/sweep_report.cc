// A sweep in the HTML report (html_report_parts.h): `firstwall sweep`'s manifest.json,
// results.csv and bands.csv as the page draws them.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "report/csv_reader.h"
#include "report/html_report_parts.h"
#include "report/json_shape.h"

namespace firstwall::report {
namespace {

using nlohmann::json;

// The most design points drawn; a larger sweep is drawn from its first ones, and the page says so.
constexpr size_t kMaxDesignPoints = 20000;

json ReadManifest(const std::string& path) {
  const json m = ReadJsonFile(path);
  auto fail = [&](const std::string& what) {
    throw InputError({path, 0, 0},
                     "is not a sweep's manifest.json as `firstwall sweep` writes it: " + what);
  };
  using T = JsonShape::Type;
  const JsonShape shape(path, "a sweep's manifest.json as `firstwall sweep` writes it");
  if (!m.is_object() || shape.Text(m, "schema", "") != "firstwall.sweep-manifest/1") {
    fail("expected \"schema\": \"firstwall.sweep-manifest/1\"");
  }
  shape.Fields(m,
               {{"layout", T::kObject, false, true},
                {"sweep_file", T::kString},
                {"scenario_file", T::kString},
                {"shards", T::kNumber, false}},
               "");
  const json& l = m["layout"];
  shape.Fields(l, {{"banded", T::kBool, false}}, "layout.");
  for (const char* key : {"columns", "design_columns", "band_columns"}) {
    if (!l.contains(key) || !l[key].is_array()) fail(std::string("layout.") + key + " is missing");
    for (const json& c : l[key]) {
      if (!c.is_string()) fail(std::string("layout.") + key + " holds a non-string");
    }
  }
  if (!l.contains("points") || !l["points"].is_number_integer()) fail("layout.points is missing");
  if (m.contains("shards") && m["shards"] != 1) {
    throw InputError({path, 0, 0}, "is a shard's manifest: the report draws the whole sweep",
                     "merge the shards with `firstwall collate DIR...`, then report its --out");
  }
  return m;
}

// A column of outputs: not an input (a scenario key, named with a dot; a user output's JSON
// pointer starts with '/') nor the point's bookkeeping.
bool IsOutput(const std::string& name) {
  if (name == "point" || name == "design" || name == "replica" || name == "seed") return false;
  return name.rfind('/', 0) == 0 || name.find('.') == std::string::npos;
}

}  // namespace

void AddSweep(const ReportFiles& files, const HtmlReportOptions& /*options*/, json& d) {
  if (files.sweep_manifest.empty()) return;
  const json m = ReadManifest(files.sweep_manifest);
  const json& layout = m["layout"];
  json sw;
  sw["sweep_file"] =
      m.contains("sweep_file") && m["sweep_file"].is_string() ? m["sweep_file"] : json("");
  sw["scenario_file"] =
      m.contains("scenario_file") && m["scenario_file"].is_string() ? m["scenario_file"] : json("");
  sw["points"] = layout["points"];
  std::vector<std::string> varied;
  for (const json& c : layout["design_columns"]) {
    if (c != "design") varied.push_back(c.get<std::string>());
  }
  sw["varied"] = varied;
  const bool banded = layout.contains("banded") && layout["banded"] == true;
  if (banded && files.sweep_bands_csv.empty()) {
    throw InputError({files.sweep_manifest, 0, 0},
                     "names a sweep with bands, and bands.csv is not beside it");
  }
  sw["banded"] = banded;
  // Outputs: bands.csv's {name}_mean with _p05 and _p95, or results.csv's own columns.
  std::vector<std::string> outputs;
  for (const json& c : layout["band_columns"]) {
    if (IsOutput(c.get<std::string>())) outputs.push_back(c.get<std::string>());
  }
  if (!banded) {
    outputs.clear();
    for (const json& c : layout["columns"]) {
      if (IsOutput(c.get<std::string>())) outputs.push_back(c.get<std::string>());
    }
  }
  // The table drawn: one row per design point.
  CsvReader table(banded ? files.sweep_bands_csv : files.sweep_results_csv);
  struct Col {
    std::string name;  // as the page names it
    int index;
  };
  std::vector<Col> cols;
  for (const std::string& v : varied) {
    const int i = table.Column(v);
    if (i < 0) throw InputError({table.path(), 1, 1}, "expected a '" + v + "' column");
    cols.push_back({v, i});
  }
  std::vector<std::string> drawn;
  for (const std::string& o : outputs) {
    if (banded) {
      const int mean = table.Column(o + "_mean");
      if (mean < 0) continue;  // a text column (first_wall): counted below
      cols.push_back({o, mean});
      cols.push_back({o + "_p05", table.Column(o + "_p05")});
      cols.push_back({o + "_p95", table.Column(o + "_p95")});
    } else {
      cols.push_back({o, table.Column(o)});
    }
    drawn.push_back(o);
  }
  std::vector<std::vector<double>> values(cols.size());
  std::vector<bool> text(cols.size(), false);  // a column that is not numbers (the first wall)
  // A varied key may take words (facility.cooling.liquid: cold_plate, ...): kept as written.
  std::vector<std::vector<std::string>> words(varied.size());
  std::vector<std::string> f;
  size_t rows = 0;
  while (table.Next(f)) {
    table.CheckWidth(f);
    if (++rows > kMaxDesignPoints) continue;
    for (size_t k = 0; k < cols.size(); ++k) {
      double v = NAN;
      if (cols[k].index >= 0) {
        const std::string& cell = f[static_cast<size_t>(cols[k].index)];
        char* end = nullptr;
        const double x = std::strtod(cell.c_str(), &end);
        if (!cell.empty() && cell != "nan" && end == cell.c_str() + cell.size()) {
          v = x;
        } else if (!cell.empty() && cell != "nan") {
          text[k] = true;
        }
      }
      values[k].push_back(v);
      if (k < varied.size()) words[k].push_back(f[static_cast<size_t>(cols[k].index)]);
    }
  }
  // Drawn: the numeric outputs with a value somewhere.
  json columns = json::object();
  std::vector<std::string> numeric;
  for (size_t k = 0; k < cols.size(); ++k) {
    if (text[k]) {
      if (k < varied.size()) columns[cols[k].name] = words[k];
      continue;
    }
    columns[cols[k].name] = values[k];
    const bool output = std::find(drawn.begin(), drawn.end(), cols[k].name) != drawn.end();
    if (output && std::any_of(values[k].begin(), values[k].end(),
                              [](double v) { return std::isfinite(v); })) {
      numeric.push_back(cols[k].name);
    }
  }
  sw["design_points"] = rows;
  sw["design_points_drawn"] = std::min(rows, kMaxDesignPoints);
  sw["outputs"] = numeric;
  sw["columns"] = std::move(columns);
  // Which wall came first, over every run (results.csv's text columns).
  CsvReader results(files.sweep_results_csv);
  json counts = json::object();
  for (const char* name : {"first_wall", "walls_first"}) counts[name] = json::object();
  const std::pair<const char*, int> text_columns[] = {
      {"first_wall", results.Column("first_wall")}, {"walls_first", results.Column("walls_first")}};
  int64_t runs = 0;
  while (results.Next(f)) {
    results.CheckWidth(f);
    ++runs;
    for (const auto& [name, column] : text_columns) {
      if (column < 0) continue;
      const std::string& wall = f[static_cast<size_t>(column)];
      if (!wall.empty()) counts[name][wall] = counts[name].value(wall, 0) + 1;
    }
  }
  sw["runs"] = runs;
  sw["first_wall_counts"] = std::move(counts);
  d["sweep"] = std::move(sw);
}

}  // namespace firstwall::report
