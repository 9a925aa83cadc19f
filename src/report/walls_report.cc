// The walls against scale in the HTML report (html_report_parts.h): `firstwall walls`'s
// walls.json, walls_curve.csv and walls_hours.csv as the page draws them.
#include <string>
#include <vector>

#include "core/error.h"
#include "report/csv_reader.h"
#include "report/html_report_parts.h"
#include "report/json_shape.h"

namespace firstwall::report {
namespace {

using nlohmann::json;

using T = JsonShape::Type;

json Wall(const JsonShape& shape, const json& w, const std::string& where) {
  shape.Fields(w,
               {{"resource", T::kString, false, true},
                {"kind", T::kString, false, true},
                {"metric", T::kString, false, true},
                {"unit", T::kString, false, true},
                {"limit_unit", T::kString, false, true},
                {"note", T::kString, false, true},
                {"limit", T::kNumber, false, true},
                {"binds", T::kBool, false, true},
                {"binds_at", T::kNumber, true, true},
                {"utilization_at_end", T::kNumber, true, true},
                {"end_at", T::kNumber, true, true},
                {"at_start", T::kBool, false}},
               where);
  json out = json::object();
  for (const char* key : {"resource", "kind", "metric", "unit", "limit_unit", "note", "limit",
                          "binds", "binds_at", "utilization_at_end", "end_at"}) {
    out[key] = w[key];
  }
  out["at_start"] = w.contains("at_start") && w["at_start"].get<bool>();
  return out;
}

// The '<resource> utilization' columns of a walls CSV (walls_curve.csv, walls_hours.csv).
struct UtilizationColumns {
  std::vector<std::string> names, resources;
  std::vector<int> index;
};
UtilizationColumns UtilizationColumnsOf(const CsvReader& csv) {
  const std::string suffix = " utilization";
  UtilizationColumns u;
  for (size_t i = 0; i < csv.header().size(); ++i) {
    const std::string& h = csv.header()[i];
    if (h.size() > suffix.size() &&
        h.compare(h.size() - suffix.size(), suffix.size(), suffix) == 0) {
      u.names.push_back(h);
      u.resources.push_back(h.substr(0, h.size() - suffix.size()));
      u.index.push_back(static_cast<int>(i));
    }
  }
  return u;
}

void AddCurve(const ReportFiles& files, const HtmlReportOptions& options, json& walls) {
  const CsvReader csv(files.walls_curve_csv);
  const std::vector<std::string> names = UtilizationColumnsOf(csv).names;
  if (names.empty()) {
    throw InputError({files.walls_curve_csv, 1, 1},
                     "expected '<resource> utilization' columns after the axis column");
  }
  walls["curve"] =
      ReadSeries(files.walls_curve_csv, names, csv.header().front(), options.max_buckets, false);
}

void AddHours(const ReportFiles& files, const HtmlReportOptions& options, json& d) {
  CsvReader csv(files.walls_hours_csv);
  const int hour = csv.Column("hour"), first = csv.Column("first_wall");
  if (hour < 0 || first < 0) {
    throw InputError({files.walls_hours_csv, 1, 1}, "expected the columns hour and first_wall");
  }
  const UtilizationColumns u = UtilizationColumnsOf(csv);
  const std::vector<std::string>& names = u.names;
  const std::vector<std::string>& resources = u.resources;
  const std::vector<int>& index = u.index;
  // Hours each resource was the closest to its limit, and at or over it.
  std::vector<int> first_hours(names.size(), 0), bound_hours(names.size(), 0);
  std::vector<std::string> f;
  while (csv.Next(f)) {
    csv.CheckWidth(f);
    for (size_t k = 0; k < names.size(); ++k) {
      if (f[static_cast<size_t>(first)] == resources[k]) ++first_hours[k];
      if (csv.Number(f, index[k]) >= 1.0) ++bound_hours[k];
    }
  }
  json rs = json::array();
  for (size_t k = 0; k < names.size(); ++k) {
    rs.push_back({{"resource", resources[k]},
                  {"first_hours", first_hours[k]},
                  {"bound_hours", bound_hours[k]}});
  }
  d["walls_hours"] = {
      {"series", ReadSeries(files.walls_hours_csv, names, "hour", options.max_buckets, false)},
      {"resources", std::move(rs)}};
}

}  // namespace

void AddWalls(const ReportFiles& files, const HtmlReportOptions& options, json& d) {
  if (!files.walls_json.empty()) {
    const json j = ReadJsonFile(files.walls_json);
    const JsonShape shape(files.walls_json, "walls.json as `firstwall walls` writes it");
    if (!j.is_object() || shape.Text(j, "schema", "") != "firstwall.walls/1") {
      shape.Fail("expected \"schema\": \"firstwall.walls/1\"");
    }
    shape.Fields(j,
                 {{"axis", T::kObject, false, true},
                  {"runs", T::kNumber, false, true},
                  {"walls", T::kArray, false, true},
                  {"next_walls", T::kArray, false},
                  {"site", T::kString},
                  {"scenario_file", T::kString}},
                 "");
    json w;
    const json& axis = j["axis"];
    shape.Fields(axis,
                 {{"name", T::kString, false, true},
                  {"unit", T::kString, false, true},
                  {"from", T::kNumber, false, true},
                  {"to", T::kNumber, false, true},
                  {"base", T::kNumber, false, true}},
                 "axis.");
    w["axis"] = json::object();
    for (const char* key : {"name", "unit", "from", "to", "base"}) w["axis"][key] = axis[key];
    w["runs"] = j["runs"];
    w["site"] = shape.Text(j, "site", "");
    w["scenario_file"] = shape.Text(j, "scenario_file", "");
    json ranking = json::array();
    const json& list = j["walls"];
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string where = "walls[" + std::to_string(i) + "]";
      if (!list[i].is_object()) shape.Fail(where + " should be an object");
      ranking.push_back(Wall(shape, list[i], where + "."));
    }
    shape.NumberMap(list.empty() ? json::object() : list[0], "headroom", "walls[0].");
    w["headroom"] = list.empty() || !list[0].contains("headroom") || list[0]["headroom"].is_null()
                        ? json::object()
                        : list[0]["headroom"];
    w["ranking"] = std::move(ranking);
    json next = json::array();
    if (j.contains("next_walls")) {
      const json& nl = j["next_walls"];
      for (size_t i = 0; i < nl.size(); ++i) {
        const std::string where = "next_walls[" + std::to_string(i) + "].";
        if (!nl[i].is_object())
          shape.Fail(where.substr(0, where.size() - 1) + " should be an object");
        shape.Fields(nl[i],
                     {{"raised", T::kString, false, true},
                      {"raise_key", T::kString, false, true},
                      {"unit", T::kString, false, true},
                      {"stop", T::kString, false, true},
                      {"raised_to", T::kNumber, false, true},
                      {"from", T::kNumber, false, true},
                      {"gain", T::kNumber, false, true},
                      {"next", T::kObject, true, true}},
                     where);
        json n;
        for (const char* key :
             {"raised", "raise_key", "unit", "stop", "raised_to", "from", "gain"}) {
          n[key] = nl[i][key];
        }
        n["next"] =
            nl[i]["next"].is_null() ? json(nullptr) : Wall(shape, nl[i]["next"], where + "next.");
        next.push_back(std::move(n));
      }
    }
    w["next_walls"] = std::move(next);
    AddCurve(files, options, w);
    d["walls"] = std::move(w);
  }
  if (!files.walls_hours_csv.empty()) AddHours(files, options, d);
}

}  // namespace firstwall::report
