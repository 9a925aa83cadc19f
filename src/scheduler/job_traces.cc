#include "scheduler/job_traces.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/text_input.h"

namespace firstwall::scheduler {
namespace {

// No trace spans more than 20 years; beyond, a time is a damaged field (and nanoseconds in an
// int64 would overflow for spans past 292 years).
constexpr double kMaxTraceSeconds = 20 * 365.25 * 86400;
// A scaled submit time past this (about 63 years) lands beyond any simulation: outside the window.
constexpr double kMaxScaledSeconds = 2e9;
constexpr int64_t kMaxGpus = 100'000'000;

enum class Ending { kOk, kFailed, kCancelled };

// A job the trace ran, in trace time, before the options apply.
struct Row {
  JobSpec spec;
  double submit_s = 0;
  double work_s = 0;
  Ending ending = Ending::kOk;
  bool censored = false;
  int line = 0, submit_column = 0;  // for messages about the submit time
};

// Where a row's fields are, for messages.
struct At {
  const std::string& path;
  int line;
  [[noreturn]] void Fail(int column, const std::string& message,
                         const std::string& hint = {}) const {
    throw InputError({path, line, column}, message, hint);
  }
  int64_t Whole(const text::Field& f, int64_t lo, int64_t hi, const std::string& what) const {
    const auto v = text::WholeNumber(f.text);
    if (!v || *v < lo || *v > hi) {
      Fail(f.column, "expected " + what + " as a whole number from " + std::to_string(lo) + " to " +
                         std::to_string(hi) + ", got '" + std::string(f.text) + "'");
    }
    return *v;
  }
  double Seconds(const text::Field& f, const std::string& what) const {
    const auto v = text::FiniteNumber(f.text);
    if (!v || *v < 0 || *v > kMaxTraceSeconds) {
      Fail(f.column, "expected " + what + " in seconds from 0 to " +
                         std::to_string(static_cast<int64_t>(kMaxTraceSeconds)) + ", got '" +
                         std::string(f.text) + "'");
    }
    return *v;
  }
  int64_t Date(const text::Field& f, const std::string& what) const {
    const auto v = text::DateTimeSeconds(f.text);
    if (!v) {
      Fail(f.column, "expected " + what + " as a date and time 'YYYY-MM-DD HH:MM:SS', got '" +
                         std::string(f.text) + "'");
    }
    return *v;
  }
  // end >= start, both in seconds; the message names the fields.
  void Ordered(double start, double end, int end_column, const std::string& start_name,
               const std::string& end_name) const {
    if (end < start) {
      Fail(end_column, end_name + " is before " + start_name,
           "expected a job to end at or after it starts");
    }
    if (end - start > kMaxTraceSeconds) {
      Fail(end_column, "a job running more than 20 years from " + start_name + " to " + end_name,
           "expected a damaged time to be fixed or the row removed");
    }
  }
};

std::string Join(const std::vector<const char*>& names) {
  std::string s;
  for (const char* n : names) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

// The options, in the order the header promises; `origin` is trace time zero in the rows' clock.
JobTrace Finish(std::vector<Row> rows, TraceSummary summary, double origin_s, const TraceOptions& o,
                const std::string& path) {
  FW_CHECK(std::isfinite(o.rate_factor) && o.rate_factor > 0, "rate factor must be positive");
  FW_CHECK(o.window_from <= o.window_to && o.window_from >= SimTime(), "bad trace window");
  FW_CHECK(o.max_gpus >= 0, "max_gpus must be >= 0");
  JobTrace out;
  out.jobs.reserve(rows.size());
  for (Row& r : rows) {
    const double t = r.submit_s - origin_s;
    if (t > kMaxTraceSeconds) {
      throw InputError({path, r.line, r.submit_column},
                       "submit time more than 20 years after the trace's start",
                       "expected a damaged time to be fixed or the row removed");
    }
    if (r.work_s <= 0) {
      ++summary.zero_length;
      continue;
    }
    const SimTime at = SimTime::FromNanoseconds(std::llround(t * 1e9));
    const double scaled_s = (at - o.window_from).seconds() / o.rate_factor;
    if (at < o.window_from || at >= o.window_to || scaled_s > kMaxScaledSeconds) {
      ++summary.outside_window;
      continue;
    }
    if (r.ending == Ending::kFailed) ++summary.failed;
    if (r.ending == Ending::kCancelled) ++summary.cancelled;
    if ((r.ending == Ending::kFailed && !o.keep_failed) ||
        (r.ending == Ending::kCancelled && !o.keep_cancelled)) {
      ++summary.dropped_status;
      continue;
    }
    if (o.max_gpus > 0 && r.spec.gpus > o.max_gpus) {
      if (o.oversize == TraceOptions::Oversize::kSkip) {
        ++summary.oversize_skipped;
        continue;
      }
      r.spec.gpus = o.max_gpus;
      ++summary.oversize_clipped;
    }
    r.spec.submit = SimTime::FromNanoseconds(std::llround(scaled_s * 1e9));
    r.spec.work = SimTime::FromNanoseconds(std::llround(r.work_s * 1e9));
    if (r.censored) ++summary.censored;
    summary.gpu_hours += r.spec.gpus * r.work_s / 3600.0;
    out.jobs.push_back(std::move(r.spec));
  }
  std::stable_sort(out.jobs.begin(), out.jobs.end(),
                   [](const JobSpec& a, const JobSpec& b) { return a.submit < b.submit; });
  summary.jobs = static_cast<int64_t>(out.jobs.size());
  out.summary = summary;
  return out;
}

void RefuseEmpty(const std::vector<text::Line>& lines, const std::string& path,
                 const std::string& what, const std::string& expected) {
  if (text::Blank(lines)) throw InputError({path, 1, 0}, "the " + what + " is empty", expected);
}

void RefuseNoRows(const TraceSummary& s, int last_line, const std::string& path) {
  if (s.rows == 0) throw InputError({path, last_line, 0}, "the trace has no jobs");
}

// Reads a CSV file: header(line 1) checks the header and returns how many fields a row has; then
// row(at, fields) for each non-blank line after it. Returns the last non-blank line's number.
template <class Header, class PerRow>
int ForEachCsvRow(const std::string& text, const std::string& path, const std::string& what,
                  const std::string& expected, Header header, PerRow row) {
  const std::vector<text::Line> lines = text::Lines(text, path);
  if (text::Blank(lines)) throw InputError({path, 1, 0}, "the " + what + " is empty", expected);
  size_t fields = 0;
  int last_line = 1;
  for (const text::Line& l : lines) {
    if (l.number == 1) {
      fields = header(l.text);
      continue;
    }
    if (text::Blank(l.text)) continue;
    last_line = l.number;
    const At at{path, l.number};
    const std::vector<text::Field> f = text::Split(l.text, ',');
    if (f.size() != fields) {
      at.Fail(1, "expected " + std::to_string(fields) +
                     " comma-separated fields as in the header, got " + std::to_string(f.size()));
    }
    row(at, f);
  }
  return last_line;
}

// The header check of a CSV file whose header is fixed.
auto ExactHeader(const std::string& path, const std::string& header, const std::string& what) {
  return [&path, &header, what](std::string_view line) {
    if (line != header) {
      throw InputError({path, 1, 1}, "expected the " + what + " header '" + header + "', got '" +
                                         std::string(line) + "'");
    }
    return text::Split(header, ',').size();
  };
}

// Kubernetes QoS classes and Alibaba's latency-sensitive class, lowest priority first.
struct Qos {
  const char* name;
  int priority;
};
constexpr Qos kQos[] = {{"BE", 0}, {"Burstable", 1}, {"LS", 2}, {"Guaranteed", 3}};

}  // namespace

// ---- Alibaba GPU v2023 ----------------------------------------------------------------------

JobTrace ParseAlibabaPods(const std::string& text, const std::string& path,
                          const TraceOptions& options) {
  const std::string header =
      "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,"
      "deletion_time,scheduled_time";
  std::vector<Row> rows;
  std::vector<double> running_until;  // the deletion of each Running pod kept, else -1
  TraceSummary s;
  double last_deletion = 0;
  const std::string what = "Alibaba pod list";
  const int last_line = ForEachCsvRow(
      text, path, what, "expected the " + what + " header '" + header + "'",
      ExactHeader(path, header, what), [&](const At& at, const std::vector<text::Field>& f) {
        ++s.rows;
        at.Whole(f[1], 0, 100'000'000, "cpu_milli");
        at.Whole(f[2], 0, 1'000'000'000, "memory_mib");
        const int64_t gpus = at.Whole(f[3], 0, kMaxGpus, "num_gpu");
        const int64_t milli = at.Whole(f[4], 0, 1000, "gpu_milli");
        const Qos* qos = nullptr;
        for (const Qos& q : kQos) {
          if (f[6].text == q.name) qos = &q;
        }
        if (qos == nullptr) {
          at.Fail(f[6].column, "expected qos BE, Burstable, LS or Guaranteed, got '" +
                                   std::string(f[6].text) + "'");
        }
        const std::string_view phase = f[7].text;
        if (phase != "Pending" && phase != "Running" && phase != "Succeeded" && phase != "Failed") {
          at.Fail(f[7].column, "expected pod_phase Pending, Running, Succeeded or Failed, got '" +
                                   std::string(phase) + "'");
        }
        const double created = at.Seconds(f[8], "creation_time");
        const double deleted = at.Seconds(f[9], "deletion_time");
        const bool placed = !f[10].text.empty();
        const double scheduled = placed ? at.Seconds(f[10], "scheduled_time") : 0;
        last_deletion = std::max(last_deletion, deleted);
        if (gpus == 0) {
          ++s.cpu_only;
          return;
        }
        if (gpus > 1 && milli != 1000) {
          at.Fail(f[4].column,
                  "expected gpu_milli 1000 for a pod of " + std::to_string(gpus) + " GPUs, got " +
                      std::string(f[4].text),
                  "GPU sharing (gpu_milli below 1000) applies to one-GPU pods");
        }
        if (milli == 0) {
          at.Fail(f[4].column, "expected gpu_milli from 1 to 1000 for a GPU pod, got 0");
        }
        if (!placed || phase == "Pending") {
          ++s.never_ran;
          return;
        }
        at.Ordered(scheduled, deleted, f[9].column, "scheduled_time", "deletion_time");
        Row r;
        r.spec.name = std::string(f[0].text);
        r.spec.tenant = qos->name;
        r.spec.priority = qos->priority;
        r.spec.preemptible = qos->priority == 0;
        r.spec.gpus = static_cast<int>(gpus);
        r.spec.gpu_activity = static_cast<double>(milli) / 1000.0;
        r.submit_s = created;
        r.work_s = deleted - scheduled;
        r.ending = phase == "Failed" ? Ending::kFailed : Ending::kOk;
        r.line = at.line;
        r.submit_column = f[8].column;
        rows.push_back(std::move(r));
        running_until.push_back(phase == "Running" ? deleted : -1);
      });
  RefuseNoRows(s, last_line, path);
  // Pods still Running at the last deletion in the file were cut by the trace's end.
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].censored = running_until[i] >= last_deletion;
  }
  return Finish(std::move(rows), s, 0, options, path);
}

TraceCluster ParseAlibabaNodes(const std::string& text, const std::string& path) {
  const std::string header = "sn,cpu_milli,memory_mib,gpu,model";
  TraceCluster c;
  auto node = [&](const At& at, const std::vector<text::Field>& f) {
    at.Whole(f[1], 0, 100'000'000, "cpu_milli");
    at.Whole(f[2], 0, 1'000'000'000, "memory_mib");
    const auto gpus = static_cast<int>(at.Whole(f[3], 0, 1024, "gpu"));
    if (gpus > 0 && f[4].text.empty()) {
      at.Fail(f[4].column, "expected the GPU model of a node with GPUs");
    }
    if (c.gpus > kMaxGpus) at.Fail(f[3].column, "more than 100,000,000 GPUs in the node list");
    ++c.nodes;
    if (gpus > 0) {
      ++c.gpu_nodes;
      c.gpus += gpus;
      c.gpus_by_model[std::string(f[4].text)] += gpus;
    }
  };
  const std::string what = "Alibaba node list";
  const int last_line =
      ForEachCsvRow(text, path, what, "expected the " + what + " header '" + header + "'",
                    ExactHeader(path, header, what), node);
  if (c.nodes == 0) throw InputError({path, last_line, 0}, "the node list has no nodes");
  return c;
}

// ---- Philly -----------------------------------------------------------------------------------

namespace {

// Byte offsets to line:col (1-based) over the file's lines.
class Places {
 public:
  Places(const std::string& text, const std::vector<text::Line>& lines, const std::string& path)
      : path_(path) {
    for (const text::Line& l : lines) {
      starts_.push_back(static_cast<size_t>(l.text.data() - text.data()));
    }
  }
  SourceLocation At(size_t offset) const {
    const auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
    if (it == starts_.begin()) return {path_, 1, 1};
    const auto line = static_cast<size_t>(it - starts_.begin());
    return {path_, static_cast<int>(line), static_cast<int>(offset - starts_[line - 1]) + 1};
  }
  [[noreturn]] void Fail(size_t offset, const std::string& message,
                         const std::string& hint = {}) const {
    throw InputError(At(offset), message, hint);
  }

 private:
  const std::string& path_;
  std::vector<size_t> starts_;
};

size_t SkipSpace(const std::string& t, size_t i) {
  while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) ++i;
  return i;
}

// The end (one past the closing brace) of the JSON object opening at `begin`, or npos when the
// text ends first. Strings are skipped whole, so braces inside them do not count.
size_t ObjectEnd(const std::string& t, size_t begin) {
  int depth = 0;
  for (size_t i = begin; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '"') {
      for (++i; i < t.size() && t[i] != '"'; ++i) {
        if (t[i] == '\\') ++i;
      }
      if (i >= t.size()) return std::string::npos;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string::npos;
}

}  // namespace

JobTrace ParsePhillyJobLog(const std::string& text, const std::string& path,
                           const TraceOptions& options) {
  const std::vector<text::Line> lines = text::Lines(text, path);  // refuses NUL bytes
  RefuseEmpty(lines, path, "job log",
              "expected a JSON list of jobs as in Philly's cluster_job_log");
  const Places places(text, lines, path);
  // Each job is parsed on its own, so a 100 MB log never becomes one tree in memory and every
  // message can point into its job.
  size_t i = SkipSpace(text, text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0);
  if (i >= text.size() || text[i] != '[') {
    places.Fail(i, "expected a JSON list of jobs ('[') as in Philly's cluster_job_log");
  }
  i = SkipSpace(text, i + 1);
  std::vector<Row> rows;
  TraceSummary s;
  double origin = std::numeric_limits<double>::infinity();
  while (i < text.size() && text[i] != ']') {
    if (text[i] != '{') places.Fail(i, "expected a job object ('{') or the end of the list (']')");
    const size_t begin = i, end = ObjectEnd(text, i);
    if (end == std::string::npos)
      places.Fail(begin, "this job object is not closed before the file ends");
    nlohmann::json job;
    try {
      job = nlohmann::json::parse(text.begin() + static_cast<std::ptrdiff_t>(begin),
                                  text.begin() + static_cast<std::ptrdiff_t>(end));
    } catch (const nlohmann::json::parse_error& e) {
      places.Fail(begin + (e.byte > 0 ? e.byte - 1 : 0), "expected a JSON job object");
    } catch (const nlohmann::json::out_of_range&) {
      places.Fail(begin, "a number in this job is out of range");
    }
    const std::string_view span(text.data() + begin, end - begin);
    // The offset of the n-th (0-based) "key" in this job, or of the job.
    auto key_at = [&](const char* key, int nth = 0) {
      const std::string quoted = std::string("\"") + key + "\"";
      size_t at = 0;
      for (int k = 0; k <= nth; ++k) {
        at = span.find(quoted, k == 0 ? 0 : at + 1);
        if (at == std::string_view::npos) return begin;
      }
      return begin + at;
    };
    auto field = [&](const nlohmann::json& obj, const char* key, bool (nlohmann::json::*is)() const,
                     const char* type, int nth = 0) -> const nlohmann::json& {
      const auto it = obj.find(key);
      if (it == obj.end()) places.Fail(key_at(key, nth), std::string("missing '") + key + "'");
      if (!((*it).*is)()) {
        places.Fail(key_at(key, nth),
                    std::string("expected '") + key + "' as " + type + ", got " + it->dump());
      }
      return *it;
    };
    // A time, or nullopt where the log has none (null, "" or "None", its logging gaps).
    auto time = [&](const nlohmann::json& obj, const char* key, int nth) -> std::optional<double> {
      const auto it = obj.find(key);
      if (it == obj.end()) places.Fail(key_at(key, nth), std::string("missing '") + key + "'");
      if (it->is_null()) return std::nullopt;
      if (it->is_string()) {
        const std::string& v = it->get_ref<const std::string&>();
        if (v.empty() || v == "None") return std::nullopt;
        if (const auto t = text::DateTimeSeconds(v)) return static_cast<double>(*t);
      }
      places.Fail(key_at(key, nth),
                  std::string("expected '") + key +
                      "' as a date and time \"YYYY-MM-DD HH:MM:SS\" or null, got " + it->dump());
    };
    if (!job.is_object()) places.Fail(begin, "expected a job object");
    ++s.rows;
    const auto& status = field(job, "status", &nlohmann::json::is_string, "a string");
    const std::string& st = status.get_ref<const std::string&>();
    if (st != "Pass" && st != "Killed" && st != "Failed") {
      places.Fail(key_at("status"), "expected 'status' Pass, Killed or Failed, got \"" + st + "\"");
    }
    const auto& vc = field(job, "vc", &nlohmann::json::is_string, "a string");
    const auto& id = field(job, "jobid", &nlohmann::json::is_string, "a string");
    field(job, "user", &nlohmann::json::is_string, "a string");
    const auto& attempts = field(job, "attempts", &nlohmann::json::is_array, "a list");
    const std::optional<double> submitted = time(job, "submitted_time", 0);
    if (!submitted) places.Fail(key_at("submitted_time"), "missing 'submitted_time' (null)");
    origin = std::min(origin, *submitted);
    // Read every attempt, so a damaged one is refused wherever it sits.
    int64_t gpus = 0;
    std::optional<double> first_start, last_start, last_end;
    for (size_t a = 0; a < attempts.size(); ++a) {
      const auto& attempt = attempts[a];
      const int nth = static_cast<int>(a);
      if (!attempt.is_object())
        places.Fail(key_at("attempts"), "expected each attempt as an object");
      const auto start = time(attempt, "start_time", nth);
      const auto stop = time(attempt, "end_time", nth);
      if (start && stop && *stop < *start) {
        places.Fail(key_at("end_time", nth),
                    "attempt " + std::to_string(a + 1) + ": end_time is before start_time",
                    "expected an attempt to end at or after it starts");
      }
      const auto& detail = field(attempt, "detail", &nlohmann::json::is_array, "a list", nth);
      for (const auto& machine : detail) {
        const auto g = machine.is_object() ? machine.find("gpus") : machine.end();
        if (!machine.is_object() || g == machine.end() || !g->is_array()) {
          places.Fail(key_at("detail", nth),
                      "expected 'detail' as a list of {\"ip\": ..., \"gpus\": [...]}");
        }
        if (a == 0) gpus = std::min<int64_t>(gpus + static_cast<int64_t>(g->size()), kMaxGpus);
      }
      if (a == 0) first_start = start;
      last_start = start;
      last_end = stop;
    }
    if (attempts.empty() || !first_start || !last_start) {
      ++s.never_ran;
    } else if (!last_end) {
      ++s.unfinished;
    } else if (gpus == 0) {
      ++s.cpu_only;
    } else {
      Row r;
      r.spec.name = id.get<std::string>();
      r.spec.tenant = vc.get<std::string>();
      r.spec.gpus = static_cast<int>(gpus);
      r.spec.observed_restarts = static_cast<int>(attempts.size()) - 1;
      r.submit_s = *submitted;
      r.work_s = *last_end - *last_start;
      if (r.work_s > kMaxTraceSeconds)
        places.Fail(key_at("end_time"), "an attempt of more than 20 years");
      r.ending =
          st == "Failed" ? Ending::kFailed : (st == "Killed" ? Ending::kCancelled : Ending::kOk);
      const SourceLocation where = places.At(key_at("submitted_time"));
      r.line = where.line;
      r.submit_column = where.column;
      rows.push_back(std::move(r));
    }
    i = SkipSpace(text, end);
    if (i < text.size() && text[i] == ',') {
      i = SkipSpace(text, i + 1);
      if (i < text.size() && text[i] == ']') places.Fail(i, "expected another job after ','");
    } else if (i < text.size() && text[i] != ']') {
      places.Fail(i, "expected ',' or ']' after a job");
    }
  }
  if (i >= text.size()) places.Fail(text.size(), "the list of jobs is not closed (']')");
  if (SkipSpace(text, i + 1) < text.size())
    places.Fail(SkipSpace(text, i + 1), "text after the list of jobs");
  if (s.rows == 0) places.Fail(i, "the trace has no jobs");
  return Finish(std::move(rows), s, origin, options, path);
}

// ---- Helios -----------------------------------------------------------------------------------

JobTrace ParseHeliosLog(const std::string& text, const std::string& path,
                        const TraceOptions& options) {
  const std::vector<const char*> required = {"job_id", "user",        "vc",         "gpu_num",
                                             "state",  "submit_time", "start_time", "end_time"};
  const std::vector<const char*> optional = {"jobname", "cpu_num", "node_num", "duration", "queue"};
  const std::string expected = "expected Helios' cluster_log.csv header with " + Join(required);
  // Column of each name in the header.
  std::map<std::string, size_t, std::less<>> column;
  auto header = [&](std::string_view line) {
    const std::vector<text::Field> h = text::Split(line, ',');
    for (size_t c = 0; c < h.size(); ++c) {
      const bool known = std::any_of(required.begin(), required.end(),
                                     [&](const char* n) { return h[c].text == n; }) ||
                         std::any_of(optional.begin(), optional.end(),
                                     [&](const char* n) { return h[c].text == n; });
      if (!known || !column.emplace(std::string(h[c].text), c).second) {
        throw InputError({path, 1, h[c].column},
                         std::string(known ? "repeated" : "unknown") + " column '" +
                             std::string(h[c].text) + "'",
                         expected + " (and optionally " + Join(optional) + ")");
      }
    }
    for (const char* n : required) {
      if (!column.count(n)) {
        throw InputError({path, 1, 1}, std::string("the header has no '") + n + "' column",
                         expected);
      }
    }
    return h.size();
  };
  std::vector<Row> rows;
  TraceSummary s;
  double origin = std::numeric_limits<double>::infinity();
  auto row = [&](const At& at, const std::vector<text::Field>& f) {
    auto get = [&](const char* name) -> const text::Field& { return f[column.find(name)->second]; };
    ++s.rows;
    const int64_t gpus = at.Whole(get("gpu_num"), 0, kMaxGpus, "gpu_num");
    const text::Field& state = get("state");
    Ending ending = Ending::kOk;
    if (state.text == "FAILED" || state.text == "TIMEOUT" || state.text == "NODE_FAIL") {
      ending = Ending::kFailed;
    } else if (state.text == "CANCELLED") {
      ending = Ending::kCancelled;
    } else if (state.text != "COMPLETED" && state.text != "SUSPENDED") {
      at.Fail(
          state.column,
          "expected state COMPLETED, CANCELLED, FAILED, TIMEOUT, NODE_FAIL or SUSPENDED, got '" +
              std::string(state.text) + "'");
    }
    const double submit = static_cast<double>(at.Date(get("submit_time"), "submit_time"));
    origin = std::min(origin, submit);
    const text::Field &start_f = get("start_time"), &end_f = get("end_time");
    const bool started = !start_f.text.empty(), ended = !end_f.text.empty();
    const double start = started ? static_cast<double>(at.Date(start_f, "start_time")) : 0;
    const double stop = ended ? static_cast<double>(at.Date(end_f, "end_time")) : 0;
    if (started && ended) at.Ordered(start, stop, end_f.column, "start_time", "end_time");
    if (gpus == 0) {
      ++s.cpu_only;
      return;
    }
    if (!started) {
      ++s.never_ran;
      return;
    }
    if (!ended) {
      ++s.unfinished;
      return;
    }
    Row r;
    r.spec.name = std::string(get("job_id").text);
    r.spec.tenant = std::string(get("vc").text);
    r.spec.gpus = static_cast<int>(gpus);
    r.submit_s = submit;
    r.work_s = stop - start;
    r.ending = ending;
    r.line = at.line;
    r.submit_column = get("submit_time").column;
    rows.push_back(std::move(r));
  };
  const int last_line = ForEachCsvRow(text, path, "job log", expected, header, row);
  RefuseNoRows(s, last_line, path);
  return Finish(std::move(rows), s, std::isfinite(origin) ? origin : 0, options, path);
}

// ---- SWF 2.2 ----------------------------------------------------------------------------------

JobTrace ParseSwf(const std::string& text, const std::string& path, const TraceOptions& options) {
  FW_CHECK(std::isfinite(options.gpus_per_processor) && options.gpus_per_processor > 0,
           "gpus_per_processor must be positive");
  constexpr size_t kFields = 18;
  const std::vector<text::Line> lines = text::Lines(text, path);
  RefuseEmpty(lines, path, "workload log",
              "expected SWF: ';' header comments, then 18 whitespace-separated fields a job");
  std::vector<Row> rows;
  TraceSummary s;
  int last_line = 1;
  auto gpus_of = [&](double processors) {
    return std::ceil(processors * options.gpus_per_processor - 1e-9);
  };
  for (const text::Line& l : lines) {
    const std::string_view line = l.text;
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos) continue;
    last_line = l.number;
    const At at{path, l.number};
    if (line[first] == ';') {
      // "; MaxProcs: 128": the machine's processors (the header's other comments describe it).
      const std::vector<text::Field> words = text::SplitWhitespace(line.substr(first + 1));
      if (words.size() >= 2 && words[0].text == "MaxProcs:") {
        const text::Field value{words[1].text, words[1].column + static_cast<int>(first) + 1};
        const int64_t procs = at.Whole(value, 1, kMaxGpus, "MaxProcs");
        s.trace_gpus =
            static_cast<int>(std::min<double>(gpus_of(static_cast<double>(procs)), kMaxGpus));
      }
      continue;
    }
    const std::vector<text::Field> f = text::SplitWhitespace(line);
    if (f.size() != kFields) {
      at.Fail(1,
              "expected 18 whitespace-separated fields (SWF 2.2), got " + std::to_string(f.size()));
    }
    double v[kFields];
    for (size_t k = 0; k < kFields; ++k) {
      const auto n = text::FiniteNumber(f[k].text);
      if (!n || (*n < 0 && *n != -1)) {
        at.Fail(f[k].column, "expected field " + std::to_string(k + 1) +
                                 " as a non-negative number or -1 (missing), got '" +
                                 std::string(f[k].text) + "'");
      }
      v[k] = *n;
    }
    const int64_t status = at.Whole(f[10], -1, 5, "the status (field 11)");
    if (status >= 2 && status <= 4) {
      ++s.partial_lines;
      continue;
    }
    ++s.rows;
    if (v[1] < 0) {
      at.Fail(f[1].column, "expected the submit time (field 2) in seconds, got -1 (missing)",
              "a job without a submit time cannot be replayed");
    }
    const double submit = at.Seconds(f[1], "the submit time (field 2)");
    const text::Field& procs_f = v[4] >= 0 ? f[4] : f[7];
    const double procs =
        v[4] >= 0 || v[7] >= 0
            ? static_cast<double>(
                  at.Whole(procs_f, 0, kMaxGpus,
                           "the processors (field " + std::to_string(v[4] >= 0 ? 5 : 8) + ")"))
            : 0;
    if (v[3] < 0 || procs == 0) {
      ++s.never_ran;
      continue;
    }
    const double run = at.Seconds(f[3], "the run time (field 4)");
    const double gpus = gpus_of(procs);
    if (gpus > kMaxGpus) at.Fail(procs_f.column, "more than 100,000,000 GPUs");
    Row r;
    r.spec.name = "job" + std::string(f[0].text);
    constexpr int64_t kMaxId = 1'000'000'000'000;
    const int64_t user = at.Whole(f[11], -1, kMaxId, "the user id (field 12)");
    const int64_t group = at.Whole(f[12], -1, kMaxId, "the group id (field 13)");
    r.spec.tenant = user >= 0 ? "u" + std::to_string(user)
                              : (group >= 0 ? "g" + std::to_string(group) : "unknown");
    r.spec.gpus = std::max(1, static_cast<int>(gpus));
    r.submit_s = submit;
    r.work_s = run;
    r.ending = status == 0 ? Ending::kFailed : (status == 5 ? Ending::kCancelled : Ending::kOk);
    r.line = l.number;
    r.submit_column = f[1].column;
    rows.push_back(std::move(r));
  }
  RefuseNoRows(s, last_line, path);
  return Finish(std::move(rows), s, 0, options, path);
}

// ---- files and summaries ----------------------------------------------------------------------

JobTrace ReadAlibabaPods(const std::string& path, const TraceOptions& options) {
  return ParseAlibabaPods(text::ReadFile(path, "trace file"), path, options);
}
TraceCluster ReadAlibabaNodes(const std::string& path) {
  return ParseAlibabaNodes(text::ReadFile(path, "trace file"), path);
}
JobTrace ReadPhillyJobLog(const std::string& path, const TraceOptions& options) {
  return ParsePhillyJobLog(text::ReadFile(path, "trace file"), path, options);
}
JobTrace ReadHeliosLog(const std::string& path, const TraceOptions& options) {
  return ParseHeliosLog(text::ReadFile(path, "trace file"), path, options);
}
JobTrace ReadSwf(const std::string& path, const TraceOptions& options) {
  return ParseSwf(text::ReadFile(path, "trace file"), path, options);
}

std::string Describe(const TraceSummary& s) {
  char gpu_h[64];
  std::snprintf(gpu_h, sizeof gpu_h, "%.1f", s.gpu_hours);
  std::string out =
      std::to_string(s.jobs) + " jobs of " + std::to_string(s.rows) + " rows (" + gpu_h + " GPU-h)";
  // "; <title>: n what, ..." over the counts that are not zero.
  auto list = [&](const char* title, std::initializer_list<std::pair<int64_t, const char*>> items) {
    std::string part;
    for (const auto& [n, what] : items) {
      if (n > 0) part += (part.empty() ? "" : ", ") + std::to_string(n) + " " + what;
    }
    if (!part.empty()) out += std::string("; ") + title + ": " + part;
  };
  list("skipped", {{s.cpu_only, "CPU-only"},
                   {s.never_ran, "never ran"},
                   {s.unfinished, "unfinished"},
                   {s.zero_length, "ran 0 s"},
                   {s.dropped_status, "failed or cancelled (dropped)"},
                   {s.outside_window, "outside the window"},
                   {s.oversize_skipped, "wider than the site"}});
  list("of the jobs that ran", {{s.failed, "failed"},
                                {s.cancelled, "cancelled"},
                                {s.censored, "cut by the trace's end"},
                                {s.oversize_clipped, "clipped to the site"},
                                {s.partial_lines, "partial-execution lines"}});
  return out;
}

}  // namespace firstwall::scheduler
