#include "study/sweep_results.h"

#include "study/walls.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "core/text_input.h"
#include "report/csv.h"
#include "report/outputs.h"
#include "report/simulate.h"

namespace firstwall::study {
namespace {

using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;

std::string Line(const Json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// The value at `pointer` of the summary, or null when it has none.
Json At(const Json& summary, const std::string& pointer) {
  const Json::json_pointer ptr(pointer);
  return summary.contains(ptr) ? summary.at(ptr) : Json(nullptr);
}

Json Scaled(const Json& summary, const std::string& pointer, double factor) {
  const Json v = At(summary, pointer);
  return v.is_number() ? Json(v.get<double>() * factor) : Json(nullptr);
}

// The headline outputs of one summary.json, named as HeadlineColumns.
Json Headline(const Json& s) {
  Json h;
  h["facility_energy_mwh"] = Scaled(s, "/facility_energy_kwh", 1e-3);
  h["it_energy_mwh"] = Scaled(s, "/it_energy_kwh", 1e-3);
  h["peak_facility_mw"] = Scaled(s, "/peak_facility_power_kw", 1e-3);
  h["peak_it_mw"] = Scaled(s, "/peak_it_power_kw", 1e-3);
  h["peak_grid_mw"] = Scaled(s, "/peak_grid_power_kw", 1e-3);
  h["pue"] = At(s, "/pue");
  h["wue_l_per_kwh"] = At(s, "/wue_l_per_kwh");
  h["energy_cost_usd"] = At(s, "/energy_cost_usd");
  h["carbon_t"] = At(s, "/carbon_t");
  h["mean_gpu_activity"] = At(s, "/mean_gpu_activity");
  const Json jobs = At(s, "/jobs");
  const Json sim_s = At(s, "/sim_time_s");
  Json tokens = nullptr;
  if (jobs.is_array() && !jobs.empty() && sim_s.is_number() && sim_s.get<double>() > 0) {
    double sum = 0;
    for (const Json& j : jobs) sum += j.value("tokens_trained", 0.0);
    tokens = sum / sim_s.get<double>();
  }
  h["training_tokens_per_s"] = tokens;
  h["mfu"] = jobs.is_array() && jobs.size() == 1 ? At(s, "/jobs/0/mfu") : Json(nullptr);
  h["ettr"] = At(s, "/goodput/ettr");
  h["runtime_goodput"] = At(s, "/goodput/runtime_goodput");
  Json slo = nullptr;
  for (const Json& sv : At(s, "/services")) {
    const Json a = sv.contains("slo") ? sv["slo"].value("attainment", Json(nullptr)) : Json();
    if (a.is_number() && (slo.is_null() || a.get<double>() < slo.get<double>())) slo = a;
  }
  h["slo_attainment_min"] = slo;
  h["first_wall"] = At(s, "/resources/0/name");
  h["first_wall_utilization"] = At(s, "/resources/0/peak_utilization");
  return h;
}

std::string CsvCell(const Json& v) {
  if (v.is_null()) return "";
  if (!v.is_string()) return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return report::CsvField(v.get<std::string>());
}

std::string CsvLine(const std::vector<std::string>& cells) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) line += (i ? "," : "") + cells[i];
  return line + "\n";
}

// Linear interpolation between order statistics (numpy's default, Hyndman & Fan type 7).
double Percentile(const std::vector<double>& sorted, double q) {
  const double h = (static_cast<double>(sorted.size()) - 1) * q;
  const auto lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

Json LayoutJson(const Layout& l) {
  return Json{{"columns", l.columns},
              {"design_columns", l.design_columns},
              {"band_columns", l.band_columns},
              {"points", l.points},
              {"banded", l.banded}};
}

Layout LayoutFromJson(const Json& j) {
  Layout l;
  l.columns = j.at("columns").get<std::vector<std::string>>();
  l.design_columns = j.at("design_columns").get<std::vector<std::string>>();
  l.band_columns = j.at("band_columns").get<std::vector<std::string>>();
  l.points = j.at("points").get<int64_t>();
  l.banded = j.at("banded").get<bool>();
  return l;
}

void WriteWhole(const std::string& path, const std::string& text) {
  report::AtomicFile f(path);
  f.Write(text);
  f.Commit();
}

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The rows of a results file or journal. A last line without its newline is a write cut short
// (a crash) and is dropped; any other line that is not a row is an error.
// `skip`: lines before the rows (a journal's manifest).
void ReadRows(const std::string& path, std::map<int64_t, std::string>& rows, int skip = 0) {
  if (!fs::exists(path)) return;
  const std::string text = ReadWhole(path);
  size_t start = 0;
  int number = 0;
  for (; number < skip && start < text.size(); ++number) {
    const size_t nl = text.find('\n', start);
    start = nl == std::string::npos ? text.size() : nl + 1;
  }
  while (start < text.size()) {
    ++number;
    const size_t nl = text.find('\n', start);
    if (nl == std::string::npos) break;  // cut short
    const std::string line = text.substr(start, nl - start + 1);
    start = nl + 1;
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("point") ||
        !j["point"].is_number_integer()) {
      throw InputError({path, number, 1}, "not a row of sweep results",
                       "the file was changed by hand; remove it (its points run again)");
    }
    const int64_t id = j["point"].get<int64_t>();
    const auto [it, added] = rows.emplace(id, line);
    if (!added && it->second != line) {
      throw InputError({path, number, 1}, fmt::format("point {} is here twice, different", id));
    }
  }
}

Json Manifest(const Sweep& s, const Shard& shard) {
  return Json{{"schema", "firstwall.sweep-manifest/1"},
              {"sweep_file", s.file},
              {"scenario_file", s.scenario_file},
              {"hash", s.hash},
              {"shard", shard.index + 1},
              {"shards", shard.count},
              {"layout", LayoutJson(LayoutOf(s))}};
}

}  // namespace

const std::vector<std::string>& HeadlineColumns() {
  static const std::vector<std::string> columns = [] {
    std::vector<std::string> out;
    const Json h = Headline(Json::object());
    for (auto it = h.begin(); it != h.end(); ++it) out.push_back(it.key());
    return out;
  }();
  return columns;
}

std::vector<std::string> WallColumns(const SweepWalls& w) {
  return {"walls_first", "walls_first_binds_at" + w.unit_suffix, "walls_second",
          "walls_second_binds_at" + w.unit_suffix};
}

Layout LayoutOf(const Sweep& s) {
  Layout l;
  l.columns = {"point", "design", "replica", "seed"};
  l.design_columns = {"design"};
  for (const VariedKey& a : s.vary) {
    l.columns.push_back(InputColumn(*a.spec, a.key));
    l.design_columns.push_back(l.columns.back());
  }
  for (const Uncertain& u : s.uncertain) {
    l.columns.push_back(InputColumn(*u.spec, u.key));
    l.band_columns.push_back(l.columns.back());
  }
  for (const std::string& c : HeadlineColumns()) {
    l.columns.push_back(c);
    if (c != "first_wall") l.band_columns.push_back(c);
  }
  for (const OutputPointer& o : s.outputs) {
    l.columns.push_back(o.pointer);
    l.band_columns.push_back(o.pointer);
  }
  if (s.walls) {
    const std::vector<std::string> c = WallColumns(*s.walls);
    l.columns.insert(l.columns.end(), c.begin(), c.end());
    l.band_columns.insert(l.band_columns.end(), {c[1], c[3]});  // where they bind
  }
  l.points = s.points();
  l.banded = s.banded();
  return l;
}

std::string RowLine(const Sweep& s, const Point& p, const Json& summary, const Json& walls) {
  Json row;
  row["point"] = p.id;
  row["design"] = p.design;
  row["replica"] = p.replica;
  row["seed"] = At(summary, "/seed");
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    const Input& in = p.inputs[i];
    const scenario::KeySpec& spec =
        i < s.vary.size() ? *s.vary[i].spec : *s.uncertain[i - s.vary.size()].spec;
    Json v = in.text;
    if (in.number && spec.type == scenario::ValueType::kInt) {
      v = static_cast<int64_t>(std::llround(*in.number));
    } else if (in.number) {
      v = *in.number;
    }
    row[InputColumn(spec, in.key)] = v;
  }
  const Json h = Headline(summary);
  for (auto it = h.begin(); it != h.end(); ++it) row[it.key()] = it.value();
  for (const OutputPointer& o : s.outputs) {
    // A structure is kept as its JSON text, so that every cell of results.csv is one value.
    const Json v = At(summary, o.pointer);
    row[o.pointer] = v.is_structured() ? Json(v.dump()) : v;
  }
  if (s.walls) {
    for (const std::string& c : WallColumns(*s.walls)) row[c] = walls.value(c, Json(nullptr));
  }
  return Line(row);
}

WallsOptions PointWallsOptions(const SweepWalls& sw, const Grower& g) {
  WallsOptions o;
  if (!sw.from.empty()) o.from = g.Parse(sw.from, sw.from_at);
  if (!sw.to.empty()) o.to = g.Parse(sw.to, sw.to_at);
  o.steps = sw.steps;
  o.next_walls = 0;
  o.from_at = sw.from.empty() ? sw.grow_at : sw.from_at;
  o.to_at = sw.to.empty() ? sw.grow_at : sw.to_at;
  o.steps_at = sw.steps_at.file.empty() ? sw.grow_at : sw.steps_at;
  o.from_name = "walls.from", o.to_name = "walls.to", o.steps_name = "walls.steps";
  return o;
}

void CheckPointWalls(const Sweep& s, const Point& p) {
  if (!s.walls) return;
  const SweepWalls& sw = *s.walls;
  const ScenarioSource src{s.scenario_text, s.scenario_file, s.scenario_dir, p.overrides};
  const Grower g(src, ParseAxis(sw.grow, src, sw.grow_at), sw.grow_at);
  (void)AxisEnds(g, PointWallsOptions(sw, g), sw.grow_at);
}

std::string RunPoint(const Sweep& s, int64_t id) {
  const Point p = MakePoint(s, id);
  const scenario::Scenario sc = LoadPoint(s, p);
  const Json summary = report::SummaryJson(report::Simulate(sc.site, sc.file));
  if (!s.walls) return RowLine(s, p, summary);
  // `firstwall walls` from this point's scenario: the first two walls along the axis.
  const SweepWalls& sw = *s.walls;
  const ScenarioSource src{s.scenario_text, s.scenario_file, s.scenario_dir, p.overrides};
  const Grower g(src, ParseAxis(sw.grow, src, sw.grow_at), sw.grow_at);
  const WallsResult r = FindWalls(src, g, PointWallsOptions(sw, g), sw.grow_at);
  Json w;
  const std::vector<std::string> c = WallColumns(sw);
  for (size_t k = 0; k < 2 && k < r.walls.size() && r.walls[k].binds; ++k) {
    w[c[2 * k]] = r.walls[k].resource;
    w[c[2 * k + 1]] = r.walls[k].binds_at;
  }
  return RowLine(s, p, summary, w);
}

Tables MakeTables(const Layout& l, const std::map<int64_t, std::string>& rows) {
  Tables t;
  t.csv = CsvLine(l.columns);
  std::vector<Json> parsed;
  parsed.reserve(rows.size());
  for (const auto& [id, line] : rows) {
    t.jsonl += line;
    parsed.push_back(Json::parse(line));
    std::vector<std::string> cells;
    for (const std::string& c : l.columns) {
      cells.push_back(CsvCell(parsed.back().value(c, Json(nullptr))));
    }
    t.csv += CsvLine(cells);
  }
  if (!l.banded) return t;
  std::vector<std::string> header = l.design_columns;
  header.push_back("n");
  for (const std::string& c : l.band_columns) {
    for (const char* stat : {"_mean", "_p05", "_p95"}) header.push_back(c + stat);
  }
  t.bands = CsvLine(header);
  // Rows are sorted by point id, so a design point's replicas are adjacent.
  for (size_t i = 0; i < parsed.size();) {
    const int64_t design = parsed[i]["design"].get<int64_t>();
    size_t end = i;
    while (end < parsed.size() && parsed[end]["design"].get<int64_t>() == design) ++end;
    std::vector<std::string> cells;
    for (const std::string& c : l.design_columns) {
      cells.push_back(CsvCell(parsed[i].value(c, Json(nullptr))));
    }
    cells.push_back(std::to_string(end - i));
    for (const std::string& c : l.band_columns) {
      std::vector<double> x;
      double sum = 0;
      for (size_t k = i; k < end; ++k) {
        const Json v = parsed[k].value(c, Json(nullptr));
        if (v.is_number()) {
          x.push_back(v.get<double>());
          sum += x.back();
        }
      }
      if (x.empty()) {
        cells.insert(cells.end(), {"", "", ""});
        continue;
      }
      std::sort(x.begin(), x.end());
      for (double v :
           {sum / static_cast<double>(x.size()), Percentile(x, 0.05), Percentile(x, 0.95)}) {
        cells.push_back(CsvCell(Json(v)));
      }
    }
    t.bands += CsvLine(cells);
    i = end;
  }
  return t;
}

std::string Shard::Tag() const {
  return count == 1 ? "" : fmt::format(".shard-{}-of-{}", index + 1, count);
}

Shard ParseShard(const std::string& text, const SourceLocation& where) {
  const size_t slash = text.find('/');
  const auto i = text::WholeNumber(text.substr(0, slash));
  const auto n =
      slash == std::string::npos ? std::nullopt : text::WholeNumber(text.substr(slash + 1));
  if (!i || !n || *n < 1 || *n > 1'000'000 || *i < 1 || *i > *n) {
    throw InputError(where, "'" + text + "' is not a shard",
                     "write I/N with 1 <= I <= N, e.g. --shard 2/8 for the second of 8 parts");
  }
  return {static_cast<int>(*i - 1), static_cast<int>(*n)};
}

ResultStore::ResultStore(std::string dir, const Sweep& s, Shard shard, bool resume)
    : dir_(std::move(dir)), tag_(shard.Tag()), layout_(LayoutOf(s)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (!fs::is_directory(dir_)) {
    throw InputError({dir_, 0, 0}, "cannot create the output directory",
                     ec ? ec.message() : "a file of that name is in the way");
  }
  const std::string manifest = dir_ + "/manifest" + tag_ + ".json";
  const std::string results = dir_ + "/results" + tag_ + ".jsonl";
  const std::string journal = results + ".part";
  manifest_ = Line(Manifest(s, shard));
  // Nothing in DIR is removed here: the finished set of an earlier run stays whole until Finish
  // replaces it, so a run that fails or is interrupted leaves it as it was. What --resume takes
  // is told by hashes: the journal's rows when its first line is this sweep's manifest, the
  // finished results when their manifest is; never rows of another sweep.
  if (resume) {
    const auto hash_of = [](const std::string& manifest_line) {
      const Json m = Json::parse(manifest_line, nullptr, false);
      return m.is_object() ? m.value("hash", "") : std::string();
    };
    const auto refuse = [&](const std::string& path) {
      throw InputError({s.file, 0, 0},
                       "cannot resume: " + path +
                           " is of another sweep (the sweep file or its scenario "
                           "changed since those results were written)",
                       "run without --resume to start over, or give another --out");
    };
    const bool has_journal = fs::exists(journal);
    if (has_journal) {
      const std::string text = ReadWhole(journal);
      const size_t nl = text.find('\n');
      if (nl == std::string::npos || hash_of(text.substr(0, nl)) != s.hash) refuse(journal);
      ReadRows(journal, rows_, 1);
    }
    if (fs::exists(manifest)) {
      if (hash_of(ReadWhole(manifest)) == s.hash) {
        ReadRows(results, rows_);
      } else if (!has_journal) {
        refuse(manifest);
      }  // else the finished set of the sweep before, which this one replaces at Finish
    }
    for (const auto& [id, line] : rows_) {
      if (id < 0 || id >= s.points() || !shard.Has(id)) {
        throw InputError({results, 0, 0}, fmt::format("point {} is not one of this sweep's", id),
                         "remove the file; its points run again");
      }
    }
  }
  // The journal restarts with its manifest and the rows kept, so an append never follows a line
  // cut short.
  std::string kept = manifest_;
  for (const auto& [id, line] : rows_) kept += line;
  WriteWhole(journal, kept);
  journal_ = std::fopen(journal.c_str(), "ab");
  if (!journal_) throw InputError({journal, 0, 0}, "cannot write output file");
}

ResultStore::~ResultStore() {
  if (journal_) std::fclose(journal_);
}

void ResultStore::Add(int64_t point, const std::string& line) {
  if (std::fwrite(line.data(), 1, line.size(), journal_) != line.size() ||
      std::fflush(journal_) != 0) {
    throw InputError({dir_ + "/results" + tag_ + ".jsonl.part", 0, 0}, "write failed (disk full?)");
  }
  rows_[point] = line;
}

std::vector<std::string> ResultStore::Finish() {
  const Tables t = MakeTables(layout_, rows_);
  // The new set is written aside whole before any of it replaces the earlier one; then each file
  // is renamed into place, the manifest last, and only then is the journal removed, so that a
  // stop in between leaves the journal for --resume to read. (Not report::OutputSet: its staging
  // directory is named by pid, which shards on several machines sharing DIR may have alike.)
  const std::string results = "results" + tag_ + ".jsonl";
  std::vector<std::unique_ptr<report::AtomicFile>> files;
  std::vector<std::string> written;
  auto stage = [&](const std::string& name, const std::string& text) {
    files.push_back(std::make_unique<report::AtomicFile>(dir_ + "/" + name));
    files.back()->Write(text);
    written.push_back(dir_ + "/" + name);
  };
  stage(results, t.jsonl);
  if (tag_.empty()) {
    stage("results.csv", t.csv);
    if (layout_.banded) stage("bands.csv", t.bands);
  }
  stage("manifest" + tag_ + ".json", manifest_);
  written.pop_back();  // the manifest is not a result
  std::error_code ec;
  if (tag_.empty() && !layout_.banded) fs::remove(dir_ + "/bands.csv", ec);  // the earlier set's
  for (const auto& f : files) f->Commit();
  std::fclose(journal_);
  journal_ = nullptr;
  fs::remove(dir_ + "/" + results + ".part");
  return written;
}

CollateResult Collate(const std::vector<std::string>& dirs, const std::string& out) {
  CollateResult r;
  std::map<int64_t, std::string> rows;
  std::optional<Json> first;
  std::string first_from;
  for (const std::string& dir : dirs) {
    if (!fs::is_directory(dir)) throw InputError({dir, 0, 0}, "not a directory");
    std::vector<fs::path> manifests;
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (name.starts_with("manifest") && name.ends_with(".json")) manifests.push_back(e.path());
      if (name.starts_with("results") && name.ends_with(".jsonl.part")) {
        r.unfinished.push_back(e.path().string());
      }
    }
    std::sort(manifests.begin(), manifests.end());
    for (const fs::path& mp : manifests) {
      const Json m = Json::parse(ReadWhole(mp.string()), nullptr, false);
      if (m.is_discarded() || !m.is_object() || !m.contains("hash") || !m.contains("layout")) {
        throw InputError({mp.string(), 0, 0}, "not a sweep manifest");
      }
      if (!first) {
        first = m;
        first_from = mp.string();
      } else if (m["hash"] != (*first)["hash"]) {
        throw InputError({mp.string(), 0, 0},
                         "this manifest is of another sweep than " + first_from,
                         "collate the shards of one sweep (same sweep file and scenario)");
      }
      const std::string name = mp.filename().string();
      const std::string tag = name.substr(8, name.size() - 8 - 5);  // manifest{tag}.json
      ReadRows((mp.parent_path() / ("results" + tag + ".jsonl")).string(), rows);
    }
  }
  if (!first) {
    throw InputError({dirs.empty() ? "" : dirs.front(), 0, 0}, "no sweep results here",
                     "give the --out directories of the sweep's shards");
  }
  std::sort(r.unfinished.begin(), r.unfinished.end());
  const Layout layout = LayoutFromJson((*first)["layout"]);
  r.points = layout.points;
  for (int64_t p = 0; p < layout.points; ++p) {
    if (!rows.count(p)) r.missing.push_back(p);
  }
  // With points missing nothing is written: a partial table must not replace a whole one.
  if (!r.missing.empty()) return r;
  const Tables t = MakeTables(layout, rows);
  std::error_code ec;
  fs::create_directories(out, ec);
  if (!fs::is_directory(out)) {
    throw InputError({out, 0, 0}, "cannot create the output directory",
                     ec ? ec.message() : "a file of that name is in the way");
  }
  Json m = *first;
  m["shard"] = 1;
  m["shards"] = 1;
  auto write = [&](const std::string& name, const std::string& text) {
    WriteWhole(out + "/" + name, text);
    r.written.push_back(out + "/" + name);
  };
  write("results.jsonl", t.jsonl);
  write("results.csv", t.csv);
  if (layout.banded) write("bands.csv", t.bands);
  WriteWhole(out + "/manifest.json", Line(m));
  return r;
}

}  // namespace firstwall::study
