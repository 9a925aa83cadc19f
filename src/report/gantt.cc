#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/error.h"
#include "report/csv_reader.h"
#include "report/html_report_parts.h"

namespace firstwall::report {
namespace {

using nlohmann::json;

int Code(const std::string& word, std::initializer_list<const char*> words) {
  int k = 0;
  for (const char* w : words) {
    if (word == w) return k;
    ++k;
  }
  return -1;
}

// The columns `names` of `csv`, or InputError naming the first missing one.
std::vector<size_t> Columns(const CsvReader& csv, std::initializer_list<const char*> names) {
  std::vector<size_t> out;
  for (const char* n : names) {
    const int i = csv.Column(n);
    if (i < 0) throw InputError({csv.path(), 1, 1}, fmt::format("expected a '{}' column", n));
    out.push_back(static_cast<size_t>(i));
  }
  return out;
}

const std::string& Field(const CsvReader& csv, const std::vector<std::string>& fields, size_t i) {
  csv.CheckWidth(fields);
  return fields[i];
}

struct Attempt {
  std::string job;
  double start = 0, end = 0, gpus = 0;
  int ended = 0;
};

}  // namespace

void AddGantt(const ReportFiles& files, const HtmlReportOptions& options, json& d, json& absent) {
  if (files.jobs_csv.empty()) {
    absent.push_back(
        "Jobs over time (Gantt): no jobs.csv (written only with a scheduler: section).");
    return;
  }
  std::vector<Attempt> attempts;
  std::map<std::string, double> gpu_s, first_start;
  {
    CsvReader csv(files.jobs_csv);
    const auto c = Columns(csv, {"job", "gpus", "start_s", "end_s", "ended"});
    std::vector<std::string> f;
    while (csv.Next(f)) {
      csv.CheckWidth(f);
      Attempt a;
      a.job = Field(csv, f, c[0]);
      a.gpus = csv.Number(f, static_cast<int>(c[1]));
      a.start = csv.Number(f, static_cast<int>(c[2]));
      a.end = csv.Number(f, static_cast<int>(c[3]));
      a.ended = Code(Field(csv, f, c[4]), {"completed", "failed", "preempted", "released", "cut"});
      if (a.ended < 0) {
        throw InputError({csv.path(), csv.line(), 1},
                         fmt::format("expected 'ended' to be completed, failed, preempted, "
                                     "released or cut, found '{}'",
                                     f[c[4]]));
      }
      if (!(a.end >= a.start) || !(a.gpus >= 0)) {
        throw InputError({csv.path(), csv.line(), 1},
                         "expected gpus >= 0 and end_s not before start_s");
      }
      gpu_s[a.job] += a.gpus * (a.end - a.start);
      auto [it, fresh] = first_start.emplace(a.job, a.start);
      if (!fresh) it->second = std::min(it->second, a.start);
      attempts.push_back(std::move(a));
    }
  }
  // The lanes: the most GPU-hours first (then by name), drawn in order of first start.
  std::vector<std::string> lanes;
  for (const auto& [job, s] : gpu_s) lanes.push_back(job);
  std::stable_sort(lanes.begin(), lanes.end(),
                   [&](const std::string& a, const std::string& b) { return gpu_s[a] > gpu_s[b]; });
  const size_t jobs_total = lanes.size();
  if (lanes.size() > options.max_job_lanes) lanes.resize(options.max_job_lanes);
  std::stable_sort(lanes.begin(), lanes.end(), [&](const std::string& a, const std::string& b) {
    return first_start[a] < first_start[b];
  });
  std::map<std::string, int> lane_of;
  for (size_t i = 0; i < lanes.size(); ++i) lane_of[lanes[i]] = static_cast<int>(i);

  json g;
  g["lanes"] = lanes;
  g["jobs_total"] = jobs_total;
  json rows = json::array();
  for (const Attempt& a : attempts) {
    const auto it = lane_of.find(a.job);
    if (it == lane_of.end()) continue;
    rows.push_back({it->second, a.start, a.end, a.ended, a.gpus});
  }
  g["attempts"] = std::move(rows);

  // Events on the shown lanes: failures (on each job they hit), restarts, preemptions and host
  // stops all, up to the limit; checkpoints thinned evenly into what is left.
  std::vector<std::array<double, 3>> marks, checkpoints;
  std::vector<std::array<double, 4>> slow;
  size_t events_total = 0, slow_total = 0;
  if (!files.events_csv.empty()) {
    CsvReader csv(files.events_csv);
    const auto c = Columns(csv, {"time_s", "event", "job", "jobs_hit"});
    const int speed_col = csv.Column("effect"), length_col = csv.Column("repair_s");
    std::vector<std::string> f;
    while (csv.Next(f)) {
      csv.CheckWidth(f);
      const double t = csv.Number(f, static_cast<int>(c[0]));
      if (Field(csv, f, c[1]) == "slowdown" && speed_col >= 0 && length_col >= 0) {
        // A slowed stretch: from t for repair_s seconds at `effect` of nominal speed at the lowest.
        const auto it = lane_of.find(Field(csv, f, c[2]));
        if (it == lane_of.end()) continue;
        ++slow_total;
        if (slow.size() < options.max_job_events) {
          slow.push_back(
              {double(it->second), t, t + csv.Number(f, length_col), csv.Number(f, speed_col)});
        }
        continue;
      }
      const int kind = Code(Field(csv, f, c[1]),
                            {"failure", "restart", "checkpoint", "preemption", "host_stop"});
      if (kind < 0) continue;
      std::vector<std::string> jobs;
      if (kind == 0) {
        const std::string& hit = Field(csv, f, c[3]);
        size_t from = 0;
        while (from <= hit.size() && !hit.empty()) {
          const size_t to = std::min(hit.find(';', from), hit.size());
          jobs.push_back(hit.substr(from, to - from));
          from = to + 1;
        }
      } else {
        jobs.push_back(Field(csv, f, c[2]));
      }
      for (const std::string& j : jobs) {
        const auto it = lane_of.find(j);
        if (it == lane_of.end()) continue;
        ++events_total;
        (kind == 2 ? checkpoints : marks).push_back({double(it->second), t, double(kind)});
      }
    }
  }
  if (marks.size() > options.max_job_events) marks.resize(options.max_job_events);
  const size_t room = options.max_job_events - marks.size();
  if (checkpoints.size() > room) {
    std::vector<std::array<double, 3>> kept;
    for (size_t i = 0; i < room; ++i) kept.push_back(checkpoints[i * checkpoints.size() / room]);
    checkpoints = std::move(kept);
  }
  marks.insert(marks.end(), checkpoints.begin(), checkpoints.end());
  json ev = json::array();
  for (const auto& m : marks) ev.push_back({int(m[0]), m[1], int(m[2])});
  g["events_total"] = events_total;
  g["events_shown"] = ev.size();
  g["events"] = std::move(ev);
  g["has_events"] = !files.events_csv.empty();
  json sl = json::array();
  for (const auto& x : slow) sl.push_back({int(x[0]), x[1], x[2], x[3]});
  g["slowdowns"] = std::move(sl);
  g["slowdowns_total"] = slow_total;
  d["gantt"] = std::move(g);
}

}  // namespace firstwall::report
