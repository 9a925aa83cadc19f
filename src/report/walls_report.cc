// The walls against scale in the HTML report (html_report_parts.h): `firstwall walls`'s
// walls.json, walls_curve.csv and walls_hours.csv as the page draws them.
#include <string>
#include <vector>

#include "core/error.h"
#include "report/csv_reader.h"
#include "report/html_report_parts.h"

namespace firstwall::report {
namespace {

using nlohmann::json;

// Checks walls.json's shape where the page reads it, so that a hand-edited file is refused by
// name rather than drawn wrong.
class Shape {
 public:
  explicit Shape(std::string path) : path_(std::move(path)) {}
  const json& Get(const json& o, const char* key, json::value_t type, const std::string& where,
                  bool nullable = false) const {
    if (!o.is_object() || !o.contains(key)) Fail(where + "." + key + " is missing");
    const json& v = o[key];
    const bool number = type == json::value_t::number_float;
    const bool ok = (nullable && v.is_null()) || (number ? v.is_number() : v.type() == type);
    if (!ok) {
      Fail(where + "." + key + " should be " + (number ? "a number" : TypeName(type)) +
           (nullable ? " or null" : "") + ", not " + v.type_name());
    }
    return v;
  }
  [[noreturn]] void Fail(const std::string& what) const {
    throw InputError({path_, 0, 0}, "is not walls.json as `firstwall walls` writes it: " + what);
  }

 private:
  static std::string TypeName(json::value_t t) {
    switch (t) {
      case json::value_t::string:
        return "a string";
      case json::value_t::boolean:
        return "true or false";
      case json::value_t::array:
        return "an array";
      case json::value_t::object:
        return "an object";
      default:
        return "a number";
    }
  }
  std::string path_;
};

constexpr auto kNumber = json::value_t::number_float;
constexpr auto kString = json::value_t::string;

json Wall(const Shape& shape, const json& w, const std::string& where) {
  json out = json::object();
  for (const char* key : {"resource", "kind", "metric", "unit", "limit_unit", "note"}) {
    out[key] = shape.Get(w, key, kString, where);
  }
  out["limit"] = shape.Get(w, "limit", kNumber, where);
  out["binds"] = shape.Get(w, "binds", json::value_t::boolean, where);
  for (const char* key : {"binds_at", "utilization_at_end", "end_at"}) {
    out[key] = shape.Get(w, key, kNumber, where, true);
  }
  out["at_start"] = w.value("at_start", false);
  return out;
}

void AddCurve(const ReportFiles& files, const HtmlReportOptions& options, json& walls) {
  const CsvReader csv(files.walls_curve_csv);
  std::vector<std::string> names;
  for (const std::string& h : csv.header()) {
    const std::string suffix = " utilization";
    if (h.size() > suffix.size() &&
        h.compare(h.size() - suffix.size(), suffix.size(), suffix) == 0) {
      names.push_back(h);
    }
  }
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
  std::vector<std::string> names, resources;
  std::vector<int> index;
  const std::string suffix = " utilization";
  for (size_t i = 0; i < csv.header().size(); ++i) {
    const std::string& h = csv.header()[i];
    if (h.size() > suffix.size() &&
        h.compare(h.size() - suffix.size(), suffix.size(), suffix) == 0) {
      names.push_back(h);
      resources.push_back(h.substr(0, h.size() - suffix.size()));
      index.push_back(static_cast<int>(i));
    }
  }
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
    const Shape shape(files.walls_json);
    if (!j.is_object() || j.value("schema", std::string()) != "firstwall.walls/1") {
      shape.Fail("expected \"schema\": \"firstwall.walls/1\"");
    }
    json w;
    const json& axis = shape.Get(j, "axis", json::value_t::object, "walls");
    w["axis"] = json::object();
    for (const char* key : {"name", "unit"}) w["axis"][key] = shape.Get(axis, key, kString, "axis");
    for (const char* key : {"from", "to", "base"}) {
      w["axis"][key] = shape.Get(axis, key, kNumber, "axis");
    }
    w["runs"] = shape.Get(j, "runs", kNumber, "walls");
    w["site"] = j.value("site", std::string());
    w["scenario_file"] = j.value("scenario_file", std::string());
    json ranking = json::array();
    const json& list = shape.Get(j, "walls", json::value_t::array, "walls");
    for (size_t i = 0; i < list.size(); ++i) {
      ranking.push_back(Wall(shape, list[i], "walls[" + std::to_string(i) + "]"));
    }
    w["headroom"] = json::object();
    if (!list.empty() && list[0].contains("headroom")) {
      const json& h = shape.Get(list[0], "headroom", json::value_t::object, "walls[0]");
      for (const auto& [name, v] : h.items()) {
        if (!v.is_number()) shape.Fail("walls[0].headroom." + name + " should be a number");
        w["headroom"][name] = v;
      }
    }
    w["ranking"] = std::move(ranking);
    json next = json::array();
    if (j.contains("next_walls")) {
      const json& nl = shape.Get(j, "next_walls", json::value_t::array, "walls");
      for (size_t i = 0; i < nl.size(); ++i) {
        const std::string where = "next_walls[" + std::to_string(i) + "]";
        json n;
        for (const char* key : {"raised", "raise_key", "unit", "stop"}) {
          n[key] = shape.Get(nl[i], key, kString, where);
        }
        for (const char* key : {"raised_to", "from", "gain"}) {
          n[key] = shape.Get(nl[i], key, kNumber, where);
        }
        const json& nx = shape.Get(nl[i], "next", json::value_t::object, where, true);
        n["next"] = nx.is_null() ? json(nullptr) : Wall(shape, nx, where + ".next");
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
