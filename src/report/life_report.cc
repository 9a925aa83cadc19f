#include "report/life_report.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "report/csv.h"
#include "report/text_format.h"

namespace firstwall::report {
namespace {
using namespace scheduler;

double Seconds(SimTime t) { return static_cast<double>(t.ns()) / 1e9; }

// Seconds, or empty for Never (a job that never started or never ended).
std::string SecondsOrEmpty(SimTime t) {
  return t == SimTime::Never() ? std::string() : txt::format("{:.3f}", Seconds(t));
}

}  // namespace

LifeSummary SummarizeLife(const ClusterLife& life, Policy policy, size_t workloads,
                          std::vector<std::string> traces, int gpus_per_node,
                          std::string failure_model) {
  LifeSummary s;
  s.failure_model = std::move(failure_model);
  // Each job's last attempt, for its state at the end.
  std::vector<const Attempt*> last(life.jobs().size(), nullptr);
  for (const Attempt& a : life.attempts()) {
    last[static_cast<size_t>(a.job)] = &a;
    const SimTime end = a.end == SimTime::Never() ? a.start : a.end;
    s.stranded_gpu_h +=
        static_cast<double>(a.nodes * gpus_per_node - a.gpus) * Seconds(end - a.start) / 3600;
  }
  s.policy = std::string(PolicyName(policy));
  s.stats = life.stats();
  s.goodput = life.goodput();
  s.traces = std::move(traces);
  for (size_t j = 0; j < workloads && j < life.jobs().size(); ++j) {
    const JobSpec& spec = life.jobs()[j];
    const JobLife& l = life.job_life(static_cast<JobId>(j));
    const Attempt* a = last[j];
    const std::string state = l.completed                       ? "completed"
                              : a == nullptr                    ? "never started"
                              : a->how == AttemptEnd::kCutByEnd ? "running at the end"
                                                                : "queued at the end";
    s.workloads.push_back({spec.name, spec.tenant, spec.gpus, l, state});
  }
  std::vector<LifeSummary::KindCount> kinds(kComponentKinds);
  for (int k = 0; k < kComponentKinds; ++k) {
    kinds[static_cast<size_t>(k)].kind =
        std::string(ComponentKindName(static_cast<ComponentKind>(k)));
  }
  for (const FailureRecord& r : life.failures()) {
    LifeSummary::KindCount& k = kinds[static_cast<size_t>(r.failure.kind)];
    ++k.failures;
    k.hit_jobs += static_cast<int>(r.jobs_hit.size());
    if (!r.jobs_hit.empty()) ++s.failures_hitting_jobs;
  }
  for (LifeSummary::KindCount& k : kinds) {
    if (k.failures > 0) s.failures.push_back(std::move(k));
  }
  return s;
}

nlohmann::ordered_json SchedulerJson(const LifeSummary& s) {
  const SchedulerStats& t = s.stats;
  nlohmann::ordered_json j;
  j["policy"] = s.policy;
  j["jobs_submitted"] = t.jobs_submitted;
  j["jobs_started"] = t.jobs_started;
  j["jobs_completed"] = t.jobs_completed;
  j["wait_p50_s"] = t.wait_p50_s;
  j["wait_p90_s"] = t.wait_p90_s;
  j["wait_p99_s"] = t.wait_p99_s;
  j["utilization"] = t.utilization;
  j["allocated_gpu_h"] = t.allocated_gpu_h;
  j["idle_gpu_h"] = t.idle_gpu_h;
  j["down_gpu_h"] = t.down_gpu_h;
  j["fragmented_gpus_mean"] = t.fragmented_gpus_mean;
  j["free_gpus_mean"] = t.free_gpus_mean;
  j["failures"] = t.failures;
  j["interruptions"] = t.interruptions;
  j["preemptions"] = t.preemptions;
  j["excluded_nodes"] = t.excluded_nodes;
  j["jobs_with_deadline"] = t.jobs_with_deadline;
  j["deadlines_missed"] = t.deadlines_missed;
  j["stranded_gpu_h"] = s.stranded_gpu_h;
  j["failure_model"] = s.failure_model.empty() ? nlohmann::ordered_json(nullptr)
                                               : nlohmann::ordered_json(s.failure_model);
  nlohmann::ordered_json by_kind = nlohmann::ordered_json::object();
  for (const LifeSummary::KindCount& k : s.failures) {
    by_kind[k.kind] = {{"failures", k.failures}, {"jobs_hit", k.hit_jobs}};
  }
  j["failures_by_component"] = by_kind;
  j["traces"] = s.traces;
  return j;
}

nlohmann::ordered_json GoodputJson(const LifeSummary& s) {
  const Goodput& g = s.goodput;
  nlohmann::ordered_json j;
  j["ettr"] = g.ettr;
  j["runtime_goodput"] = g.runtime_goodput;
  j["useful_gpu_h"] = g.useful_gpu_h;
  // Queued jobs hold no GPUs: their wait is beside the badput, not in it.
  j["queueing_gpu_h"] = g.badput.queueing_gpu_h;
  j["badput_gpu_h"] = {{"checkpoint_save", g.badput.checkpoint_save_gpu_h},
                       {"restart", g.badput.restart_gpu_h},
                       {"lost_progress", g.badput.lost_progress_gpu_h},
                       {"repair_downtime", g.badput.repair_downtime_gpu_h},
                       {"slowdown", g.badput.slowdown_gpu_h}};
  nlohmann::ordered_json jobs = nlohmann::ordered_json::array();
  for (const LifeJob& w : s.workloads) {
    const JobLife& l = w.life;
    const bool started = l.first_start != SimTime::Never();
    nlohmann::ordered_json e;
    e["name"] = w.name;
    e["tenant"] = w.tenant;
    e["gpus"] = w.gpus;
    e["completed"] = l.completed;
    e["state"] = w.state;
    e["first_start_s"] = started ? nlohmann::ordered_json(Seconds(l.first_start)) : nullptr;
    e["end_s"] = l.end == SimTime::Never() ? nlohmann::ordered_json(nullptr)
                                           : nlohmann::ordered_json(Seconds(l.end));
    e["ettr"] = l.Ettr();
    e["useful_s"] = l.useful_s;
    e["queued_s"] = l.queued_s;
    e["checkpoint_s"] = l.checkpoint_s;
    e["restart_s"] = l.restart_s;
    e["lost_s"] = l.lost_s;
    e["slowdown_s"] = l.slowdown_s;
    e["attempts"] = l.attempts;
    e["failures"] = l.failures;
    e["preemptions"] = l.preemptions;
    e["checkpoints"] = l.checkpoints;
    e["checkpoint_interval_s"] = std::isfinite(l.checkpoint_interval_s)
                                     ? nlohmann::ordered_json(l.checkpoint_interval_s)
                                     : nlohmann::ordered_json(nullptr);
    jobs.push_back(std::move(e));
  }
  j["jobs"] = std::move(jobs);
  return j;
}

// "1 failure", "2 failures".
std::string Count(int64_t n, std::string_view what) {
  return txt::format("{} {}{}", n, what, n == 1 ? "" : "s");
}

std::string LifeText(const LifeSummary& s) {
  const SchedulerStats& t = s.stats;
  const Goodput& g = s.goodput;
  std::string out;
  auto o = std::back_inserter(out);
  txt::format_to(o,
                 "\nqueue ({}): {} submitted, {} started, {} completed; wait p50 {:.0f} s, p90 "
                 "{:.0f} s, p99 {:.0f} s (jobs that started)\n",
                 s.policy, Count(t.jobs_submitted, "job"), t.jobs_started, t.jobs_completed,
                 t.wait_p50_s, t.wait_p90_s, t.wait_p99_s);
  txt::format_to(o,
                 "  utilization {:.1f}%: {:.0f} GPU-h allocated ({:.0f} of them stranded on "
                 "whole nodes by smaller jobs), {:.0f} idle, {:.0f} down; {:.0f} of {:.0f} free "
                 "GPUs fragmented on average (hourly)\n",
                 100 * t.utilization, t.allocated_gpu_h, s.stranded_gpu_h, t.idle_gpu_h,
                 t.down_gpu_h, t.fragmented_gpus_mean, t.free_gpus_mean);
  txt::format_to(o, "  {} ({} of them hit jobs; {}), {}, {} excluded\n",
                 Count(t.failures, "failure"), s.failures_hitting_jobs,
                 Count(t.interruptions, "job interruption"), Count(t.preemptions, "preemption"),
                 Count(t.excluded_nodes, "node"));
  if (t.jobs_with_deadline > 0) {
    txt::format_to(o, "  deadlines: {} of {} missed\n", t.deadlines_missed,
                   Count(t.jobs_with_deadline, "job"));
  }
  if (!s.failure_model.empty()) txt::format_to(o, "    rates: {}\n", s.failure_model);
  for (const LifeSummary::KindCount& k : s.failures) {
    txt::format_to(o, "    {}: {}, {} hit\n", k.kind, Count(k.failures, "failure"),
                   Count(k.hit_jobs, "job"));
  }
  for (const std::string& tr : s.traces) txt::format_to(o, "  trace {}\n", tr);
  const Badput& b = g.badput;
  txt::format_to(o,
                 "goodput: ETTR {:.3f}, runtime goodput {:.3f} ({:.0f} useful GPU-h); badput "
                 "GPU-h: checkpoint save {:.1f}, restart {:.1f}, lost progress {:.1f}, repair "
                 "downtime {:.1f}, slowdown {:.1f}; queued {:.1f} GPU-h\n",
                 g.ettr, g.runtime_goodput, g.useful_gpu_h, b.checkpoint_save_gpu_h,
                 b.restart_gpu_h, b.lost_progress_gpu_h, b.repair_downtime_gpu_h, b.slowdown_gpu_h,
                 b.queueing_gpu_h);
  for (const LifeJob& w : s.workloads) {
    const JobLife& l = w.life;
    txt::format_to(o, "  job {} ({}, {} GPUs): {}, ETTR {:.3f}, {}, {}, {}, {}", w.name, w.tenant,
                   w.gpus, w.state, l.Ettr(), Count(l.attempts, "attempt"),
                   Count(l.failures, "failure"), Count(l.preemptions, "preemption"),
                   Count(l.checkpoints, "checkpoint"));
    if (std::isfinite(l.checkpoint_interval_s)) {
      txt::format_to(o, " every {:.0f} s", l.checkpoint_interval_s);
    }
    out += "\n";
  }
  return out;
}

std::string JobsCsv(const ClusterLife& life) {
  std::string t = "job,tenant,attempt,gpus,nodes,submit_s,queued_s,start_s,end_s,wait_s,ended\n";
  std::vector<int> attempt(life.jobs().size(), 0);
  for (const Attempt& a : life.attempts()) {
    const JobSpec& spec = life.jobs()[static_cast<size_t>(a.job)];
    txt::format_to(std::back_inserter(t), "{},{},{},{},{},{:.3f},{:.3f},{:.3f},{},{:.3f},{}\n",
                   CsvField(spec.name), CsvField(spec.tenant),
                   ++attempt[static_cast<size_t>(a.job)], a.gpus, a.nodes, Seconds(spec.submit),
                   Seconds(a.queued), Seconds(a.start), SecondsOrEmpty(a.end),
                   Seconds(a.start) - Seconds(a.queued), AttemptEndName(a.how));
  }
  return t;
}

std::string EventsCsv(const ClusterLife& life) {
  std::string t =
      "time_s,event,job,component,index,cause,effect,first_node,nodes,repair_s,jobs_hit\n";
  auto o = std::back_inserter(t);
  size_t preemption = 0;  // life.preemptions() follow the preemption events one for one
  // The slowed stretches go in at their start, after the events of the same time: the lowest
  // speed in `effect`, the stretch's length in `repair_s` (as a drain's).
  std::vector<SlowSpan> slow = life.slowdowns();
  std::stable_sort(slow.begin(), slow.end(),
                   [](const SlowSpan& a, const SlowSpan& b) { return a.from < b.from; });
  size_t next_slow = 0;
  auto slow_until = [&](SimTime until, bool inclusive) {
    for (; next_slow < slow.size() &&
           (inclusive ? slow[next_slow].from <= until : slow[next_slow].from < until);
         ++next_slow) {
      const SlowSpan& sp = slow[next_slow];
      txt::format_to(o, "{:.3f},slowdown,{},,,,{:.3f},,,{:.3f},\n", Seconds(sp.from),
                     CsvField(life.jobs()[static_cast<size_t>(sp.job)].name), sp.speed,
                     Seconds(sp.to - sp.from));
    }
  };
  for (const LifeEvent& e : life.events()) {
    slow_until(e.at, false);
    const std::string job =
        e.job >= 0 ? CsvField(life.jobs()[static_cast<size_t>(e.job)].name) : "";
    if (e.kind == LifeEventKind::kPreemption && preemption < life.preemptions().size()) {
      // Its cause: the job (or service replica) it gave way to.
      const JobId by = life.preemptions()[preemption++].by;
      txt::format_to(o, "{:.3f},{},{},,,{},,,,,\n", Seconds(e.at), LifeEventKindName(e.kind), job,
                     CsvField(life.jobs()[static_cast<size_t>(by)].name));
      continue;
    }
    if (e.failure >= 0) {
      const FailureRecord& r = life.failures()[static_cast<size_t>(e.failure)];
      const Failure& f = r.failure;
      std::string hit;
      for (JobId h : r.jobs_hit) {
        if (!hit.empty()) hit += ';';
        hit += life.jobs()[static_cast<size_t>(h)].name;
      }
      txt::format_to(o, "{:.3f},{},{},{},{},{},{},{},{},{:.3f},{}\n", Seconds(e.at),
                     LifeEventKindName(e.kind), job, ComponentKindName(f.kind), f.component,
                     CsvField(f.cause_name), FailureEffectName(f.effect), f.nodes.first,
                     f.nodes.count, Seconds(f.repair),
                     e.kind == LifeEventKind::kFailure ? CsvField(hit) : std::string());
    } else {
      // Host events: the tripped unit (stage, index) where one acted; a drain's nodes and length.
      txt::format_to(
          o, "{:.3f},{},{},{},{},{},,{},{},{},\n", Seconds(e.at), LifeEventKindName(e.kind), job,
          CsvField(e.stage), e.unit >= 0 ? std::to_string(e.unit) : std::string(),
          CsvField(e.cause), e.node >= 0 ? std::to_string(e.node) : std::string(),
          e.nodes > 0 ? std::to_string(e.nodes) : std::string(),
          e.kind == LifeEventKind::kDrain ? txt::format("{:.3f}", Seconds(e.until - e.at))
                                          : std::string());
    }
  }
  slow_until(SimTime::Never(), true);
  return t;
}

}  // namespace firstwall::report
