#include "scenario/life_loader.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "network/fabric.h"
#include "scenario/flexibility_loader.h"
#include "scheduler/job_traces.h"
#include "site/life.h"
#include "workload/training_step.h"

namespace firstwall::scenario {

std::string NeverFits(const scheduler::JobSpec& s, const scheduler::Scheduler& sched,
                      const scheduler::Topology& topology,
                      const scheduler::SchedulerConfig& config) {
  using namespace scheduler;
  if (sched.Admissible(s)) return "";
  const int need = sched.NodesNeeded(s);
  if (need > topology.nodes - config.spare_nodes) {
    return fmt::format("needs {} nodes, more than the cluster's {} less its {} spare nodes", need,
                       topology.nodes, config.spare_nodes);
  }
  if (s.placement.required && need > topology.GroupSize(s.placement.level)) {
    return fmt::format("needs {} nodes inside one {}, which has {}", need,
                       LevelName(s.placement.level), topology.GroupSize(s.placement.level));
  }
  return fmt::format(
      "needs {} GPUs in whole nodes, more than tenant '{}' may ever hold (its nominal quota and "
      "what it may borrow from its cohort)",
      need * topology.gpus_per_node, s.tenant);
}

namespace {
using namespace scheduler;

constexpr const char* kNeedsScheduler =
    "add a 'scheduler:' section (scheduler.policy: fcfs is the "
    "default) to run jobs through a queue";

ComponentKind KindNamed(const std::string& name) {
  for (int k = 0; k < kComponentKinds; ++k) {
    if (ComponentKindName(static_cast<ComponentKind>(k)) == name) {
      return static_cast<ComponentKind>(k);
    }
  }
  FW_CHECK(false, "component '" + name + "' is declared but has no kind");
  return ComponentKind::kGpu;
}

Level LevelNamed(const std::string& name) {
  for (int l = 0; l < kLevels; ++l) {
    if (LevelName(static_cast<Level>(l)) == name) return static_cast<Level>(l);
  }
  FW_CHECK(false, "level '" + name + "' is declared but has no level");
  return Level::kCluster;
}

Policy PolicyNamed(const std::string& name) {
  for (int p = 0; p < kPolicies; ++p) {
    if (PolicyName(static_cast<Policy>(p)) == name) return static_cast<Policy>(p);
  }
  FW_CHECK(false, "policy '" + name + "' is declared but has no policy");
  return Policy::kFcfs;
}

SchedulerConfig ReadSchedulerSection(const Section& s, ClusterLifeOptions& options) {
  SchedulerConfig c;
  c.policy = PolicyNamed(s.Enum("policy"));
  c.spare_nodes = s.Int("spare_nodes");
  options.exclude_after_failures = s.Int("exclude_after");
  options.detection = SimTime::From(s.Quantity<units::Duration>("failure_detection"));
  options.restart_overhead = SimTime::From(s.Quantity<units::Duration>("restart_overhead"));
  options.restart_stagger = SimTime::From(s.Quantity<units::Duration>("restart_stagger"));
  for (const Section& q : s.List("quotas")) {
    TenantQuota t;
    t.tenant = q.String("tenant");
    for (const TenantQuota& earlier : c.quotas) {
      if (earlier.tenant == t.tenant) q.Fail("tenant", "two quotas for tenant '" + t.tenant + "'");
    }
    t.nominal_gpus = q.Int("nominal_gpus");
    if (q.Has("cohort")) t.cohort = q.String("cohort");
    t.borrowing_limit_gpus = q.OptionalInt("borrowing_limit_gpus");
    if (t.borrowing_limit_gpus && t.cohort.empty()) {
      q.Fail("borrowing_limit_gpus",
             "tenant '" + t.tenant + "' has a borrowing limit but no cohort to borrow from",
             "give cohort, or leave borrowing_limit_gpus out");
    }
    c.quotas.push_back(std::move(t));
  }
  return c;
}

FailureModel ReadFailures(const Section& f) {
  FailureModel m;
  if (f.Enum("table") == "llama3") {
    m = DefaultFailureModel();
  } else {
    for (int k = 0; k < kComponentKinds; ++k) {
      m.kinds[static_cast<size_t>(k)].repair = DefaultRepairTime(static_cast<ComponentKind>(k));
    }
    m.source = "the scenario";
  }
  for (const Section& c : f.List("causes")) {
    FailureCauseRate r;
    r.name = c.String("name");
    r.kind = KindNamed(c.Enum("component"));
    const bool rate = c.Has("per_1000_component_days"), mtbf = c.Has("mtbf");
    if (rate == mtbf) {
      c.Fail(rate ? "mtbf" : "per_1000_component_days",
             "cause '" + r.name + "' needs exactly one of per_1000_component_days and mtbf");
    }
    r.per_1000_component_days =
        rate ? c.Number("per_1000_component_days")
             : RatePer1000DaysFromMtbfH(units::ToHours(c.Quantity<units::Duration>("mtbf")));
    auto same = std::find_if(m.causes.begin(), m.causes.end(),
                             [&](const FailureCauseRate& x) { return x.name == r.name; });
    if (same != m.causes.end()) {
      *same = r;
    } else {
      m.causes.push_back(r);
    }
    if (m.source.find("scenario") == std::string::npos) m.source += "; causes from the scenario";
  }
  const double scale = f.Number("rate_scale");
  for (FailureCauseRate& r : m.causes) r.per_1000_component_days *= scale;
  std::vector<int> seen(kComponentKinds, 0);
  for (const Section& c : f.List("components")) {
    const ComponentKind k = KindNamed(c.Enum("component"));
    if (seen[static_cast<size_t>(k)]++) {
      c.Fail("component", "component '" + c.Enum("component") + "' is listed twice");
    }
    KindParams& p = m.kind(k);
    p.weibull_shape = c.Number("weibull_shape");
    if (auto r = c.OptionalQuantity<units::Duration>("repair")) p.repair.mean = SimTime::From(*r);
    p.repair.distribution = c.Enum("repair_distribution") == "fixed"
                                ? RepairDistribution::kFixed
                                : RepairDistribution::kExponential;
  }
  m.fresh_start = f.Bool("fresh_start");
  m.domains.racks_per_pdu = f.Int("racks_per_pdu");
  m.domains.racks_per_cdu = f.Int("racks_per_cdu");
  m.cdu_stops = f.Bool("cdu_stops");
  return m;
}

// The job's checkpoint write at nominal speed: its bytes over the slower of its nodes' front-end
// NICs and the storage system.
SimTime CheckpointWrite(const site::JobConfig& j, const site::ClusterConfig& c) {
  const double rate = site::StorageBytesPerSecondAlone(c, site::NodesFor(j, c));
  return SimTime::From(units::Seconds(units::ToBytes(j.checkpoint_size) / rate));
}

JobSpec ReadQueuedWorkload(const Section& w, const site::JobConfig& j, int index,
                           const site::SiteConfig& cfg) {
  JobSpec s;
  s.name = j.name;
  s.tenant = w.Has("tenant") ? w.String("tenant") : j.name;
  s.kind = JobKind::kTraining;
  s.submit = j.start;
  s.gpus = workload::GpuCount(j.setup);
  s.priority = w.Int("priority");
  s.preemptible = w.Bool("preemptible");
  s.placement.level = LevelNamed(w.Enum("placement"));
  s.placement.required = w.Bool("placement_required");
  s.flexible = w.Bool("flexible");
  s.workload = index;
  const int lengths = w.Has("duration") + w.Has("steps") + w.Has("tokens");
  if (lengths > 1) {
    w.Fail(w.Has("steps") ? "steps" : "tokens",
           "workload '" + j.name + "' gives more than one of duration, steps and tokens",
           "give one length");
  }
  const double step_s = units::ToSeconds(workload::EstimateStep(j.setup).step_time);
  if (w.Has("duration")) {
    s.work = j.end - j.start;
  } else if (w.Has("steps")) {
    s.work = SimTime::From(units::Seconds(*w.OptionalInt("steps") * step_s));
  } else if (w.Has("tokens")) {
    const double per_step =
        static_cast<double>(j.setup.global_batch) * static_cast<double>(j.setup.sequence_length);
    s.work = SimTime::From(units::Seconds(std::ceil(w.Number("tokens") / per_step) * step_s));
  } else {
    s.work = SimTime::Never();
  }
  if (w.Has("deadline")) {
    s.deadline = SimTime::From(w.Quantity<units::Duration>("deadline"));
    if (s.deadline <= s.submit) {
      w.Fail("deadline", "workload '" + j.name + "' has its deadline at or before its start",
             "a deadline after workloads[].start (both from the start of the simulation)");
    }
    if (s.work == SimTime::Never()) {
      w.Fail("deadline", "workload '" + j.name + "' has a deadline but no length: it never ends",
             "give duration, steps or tokens, or leave the deadline out");
    }
  }
  if (w.IsWord("checkpoint_every")) {
    s.checkpoint.interval = SimTime();  // Daly's optimum
  } else {
    s.checkpoint.interval = j.checkpoint_every;
  }
  if (s.checkpoint.interval != SimTime::Never()) {
    // The queue's checkpoints replace the site's fixed-interval ones: one clock per job.
    s.checkpoint.write = CheckpointWrite(j, cfg.cluster);
  }
  if (auto r = w.OptionalQuantity<units::Duration>("restart_overhead")) {
    s.checkpoint.restart_overhead = SimTime::From(*r);  // zero is zero; absent: the default
  }
  return s;
}

// Why a job could never start on this cluster under this queue, or "" (Scheduler::Admissible).
double Sec(SimTime t) { return static_cast<double>(t.ns()) / 1e9; }

// The most jobs a scenario's queue may hold: 5 million (about 1.5 GB of job specifications at load,
// five times the year benchmark's 1.05 million).
constexpr int64_t kMaxQueueJobs = 5'000'000;

// Copies k = 1, 2, ... of jobs[first..] (one pass of a looped window), each `period` later than
// the one before, up to the end of the run, named "name@k"; returns the passes made (1: none
// added). Jobs stay in submit order: a pass's submits lie within one period.
int64_t AppendLoops(const Section& trace, std::vector<JobSpec>& jobs, size_t first, SimTime period,
                    SimTime end, std::set<std::string>& names) {
  const size_t last = jobs.size();
  if (first == last) return 1;
  // Count the copies before making them: a short period at a high rate would otherwise ask for
  // more memory than the machine has (each queued job holds a few hundred bytes until the end).
  int64_t copies = 0;
  for (size_t i = first; i < last; ++i) {
    // A period under a nanosecond (a tiny length at a high rate_scale) repeats without end.
    if (jobs[i].submit < end && period.ns() > 0) {
      copies += (end - jobs[i].submit).ns() / period.ns();
    }
    if (period.ns() <= 0 || static_cast<int64_t>(last) + copies > kMaxQueueJobs) {
      trace.Fail("loop",
                 fmt::format("the looped trace would queue more than {} jobs in the run "
                             "(its window repeats every {:g} s)",
                             kMaxQueueJobs, period.seconds()),
                 "lengthen job_traces[].length, lower rate_scale or shorten the run");
    }
  }
  jobs.reserve(last + static_cast<size_t>(copies));
  int64_t k = 1;
  for (;; ++k) {
    const SimTime shift = SimTime::FromNanoseconds(period.ns() * k);
    if (jobs[first].submit + shift >= end) break;
    for (size_t i = first; i < last && jobs[i].submit + shift < end; ++i) {
      JobSpec copy = jobs[i];
      copy.submit = copy.submit + shift;
      copy.name = fmt::format("{}@{}", copy.name, k);
      if (!names.insert(copy.name).second) {
        trace.Fail("loop", "the loop's copy '" + copy.name + "' takes the name of another job",
                   "rename the trace's jobs named with '@'");
      }
      jobs.push_back(std::move(copy));
    }
  }
  return k;
}

void ReadTraces(const Section& root, const std::string& base_dir, site::SiteConfig& cfg,
                site::LifeConfig& life, const Scheduler& sched, const Topology& topology,
                std::set<std::string>& names) {
  for (const Section& t : root.List("job_traces")) {
    const std::string path = t.File("file", base_dir);
    TraceOptions o;
    o.rate_factor = t.Number("rate_scale");
    o.window_from = SimTime::From(t.Quantity<units::Duration>("from"));
    if (auto len = t.OptionalQuantity<units::Duration>("length")) {
      o.window_to = o.window_from + SimTime::From(*len);
    }
    o.max_gpus = cfg.cluster.gpu_count();
    o.oversize = t.Enum("oversize") == "clip" ? TraceOptions::Oversize::kClip
                                              : TraceOptions::Oversize::kSkip;
    o.keep_failed = o.keep_cancelled = t.Bool("keep_failed");
    o.gpus_per_processor = t.Number("gpus_per_processor");
    const std::string format = t.Enum("format");
    if (format != "swf" && t.Has("gpus_per_processor")) {
      t.Fail("gpus_per_processor", "gpus_per_processor is for SWF traces, not " + format);
    }
    JobTrace trace = ReadNamedFile(t, "file", [&] {
      return format == "alibaba_v2023" ? ReadAlibabaPods(path, o)
             : format == "philly"      ? ReadPhillyJobLog(path, o)
             : format == "helios"      ? ReadHeliosLog(path, o)
                                       : ReadSwf(path, o);
    });
    if (trace.jobs.empty()) {
      t.Fail("file", "the trace keeps no job: " + Describe(trace.summary),
             "widen from/length, or check the format");
    }
    const double activity = t.Fraction("gpu_activity");
    const bool flexible = t.Bool("flexible");
    // A looped window repeats every length / rate_scale of run time (the window as replayed).
    SimTime period = SimTime::Never();
    if (t.Bool("loop")) {
      if (o.window_to == SimTime::Never()) {
        t.Fail("loop", "a looped trace needs the length of its window",
               "give job_traces[].length: the window repeats every length / rate_scale");
      }
      period = SimTime::FromNanoseconds(
          std::llround(static_cast<double>((o.window_to - o.window_from).ns()) / o.rate_factor));
    }
    const size_t first_job = life.jobs.size();
    int64_t never_fit = 0, after_end = 0, renamed = 0;
    for (JobSpec& s : trace.jobs) {
      if (s.submit >= cfg.duration) {
        ++after_end;
        continue;
      }
      if (!NeverFits(s, sched, topology, life.scheduler).empty()) {
        ++never_fit;
        continue;
      }
      if (s.gpu_activity >= 1.0) s.gpu_activity = activity;  // the trace gave none
      s.flexible = flexible;
      // Job names are unique in jobs.csv and events.csv: a repeated one gets "#2", "#3", ...
      if (!names.insert(s.name).second) {
        ++renamed;
        for (int k = 2;; ++k) {
          std::string unique = fmt::format("{}#{}", s.name, k);
          if (names.insert(unique).second) {
            s.name = std::move(unique);
            break;
          }
        }
      }
      life.jobs.push_back(std::move(s));
    }
    const int64_t loops = period == SimTime::Never()
                              ? 1
                              : AppendLoops(t, life.jobs, first_job, period, cfg.duration, names);
    std::string note = t.Name("file") + ": " + Describe(trace.summary);
    if (loops > 1) {
      note += fmt::format("; looped {} times, every {:g} s ({} jobs)", loops, Sec(period),
                          life.jobs.size() - first_job);
    }
    if (after_end > 0) note += fmt::format("; {} submitted after the end of the run", after_end);
    if (never_fit > 0) {
      note += fmt::format(
          "; {} left out that could never start here (spare nodes, quotas or placement)",
          never_fit);
    }
    if (renamed > 0)
      note += fmt::format("; {} repeated names made unique with #2, #3, ...", renamed);
    life.traces.push_back(std::move(note));
  }
}

}  // namespace

void ReadLife(const Section& root, const std::vector<Section>& workloads,
              const std::string& base_dir, site::SiteConfig& cfg) {
  static constexpr const char* kQueueKeys[] = {"steps",
                                               "tokens",
                                               "tenant",
                                               "priority",
                                               "preemptible",
                                               "placement",
                                               "placement_required",
                                               "restart_overhead",
                                               "flexible",
                                               "deadline"};
  if (!root.Has("scheduler")) {
    for (const char* key : {"job_traces", "failures"}) {
      if (root.Has(key))
        root.Fail(key, std::string("'") + key + "' needs a scheduler", kNeedsScheduler);
    }
    for (const Section& w : workloads) {
      for (const char* key : kQueueKeys) {
        if (w.Has(key)) {
          w.Fail(key, "'" + w.Name(key) + "' is a queue setting, and there is no scheduler",
                 kNeedsScheduler);
        }
      }
      if (w.IsWord("checkpoint_every")) {
        w.Fail("checkpoint_every", "checkpoint_every: auto needs a failure rate, from a scheduler",
               kNeedsScheduler + std::string(", or give an interval"));
      }
    }
    return;
  }
  site::LifeConfig life;
  const Section sched_section = root.Sub("scheduler");
  life.scheduler = ReadSchedulerSection(sched_section, life.options);
  const scheduler::Topology topology = site::TopologyFor(cfg);
  if (life.scheduler.spare_nodes >= topology.nodes) {
    sched_section.Fail("spare_nodes",
                       fmt::format("{} spare nodes leave none of the cluster's {} to run jobs",
                                   life.scheduler.spare_nodes, topology.nodes));
  }
  std::set<std::string> names;
  for (size_t i = 0; i < workloads.size(); ++i) {
    life.jobs.push_back(ReadQueuedWorkload(workloads[i], cfg.jobs[i], static_cast<int>(i), cfg));
    names.insert(life.jobs.back().name);
  }
  {
    const std::vector<JobSpec> none;
    const Scheduler sched(topology, life.scheduler, none);
    for (size_t i = 0; i < workloads.size(); ++i) {
      const JobSpec& s = life.jobs[i];
      const std::string why = NeverFits(s, sched, topology, life.scheduler);
      if (!why.empty()) {
        workloads[i].Fail(s.placement.required && why.find("inside one") != std::string::npos
                              ? "placement"
                              : "gpus",
                          "workload '" + s.name + "' can never start: it " + why);
      }
    }
    ReadTraces(root, base_dir, cfg, life, sched, topology, names);
  }
  if (root.Has("failures")) {
    const Section f = root.Sub("failures");
    FailureModel model = ReadFailures(f);
    // One CDU grouping: failures take the facility's CDUs, which must not disagree with theirs.
    if (const int per = cfg.facility.cooling.racks_per_cdu; per > 0) {
      if (f.Has("racks_per_cdu") && model.domains.racks_per_cdu != per) {
        f.Fail("racks_per_cdu",
               fmt::format("failures.racks_per_cdu is {} but facility.cooling.racks_per_cdu is {}",
                           model.domains.racks_per_cdu, per),
               "the facility's CDUs are the ones that fail: leave failures.racks_per_cdu out");
      }
      model.domains.racks_per_cdu = per;
    }
    model.domains.spines = network::Fabric::SpineCount(site::FabricFor(cfg));
    for (const Section& x : f.List("scripted")) {
      site::ScriptedFailureConfig s;
      s.kind = KindNamed(x.Enum("component"));
      s.index = x.Int("index");
      const int64_t count = ComponentCount(s.kind, topology, model.domains);
      if (count == 0) {
        x.Fail("component",
               fmt::format("the cluster has no {} components", ComponentKindName(s.kind)));
      }
      if (s.index >= count) {
        x.Fail("index", fmt::format("the cluster has {} {} component{} (indices 0 to {})", count,
                                    ComponentKindName(s.kind), count == 1 ? "" : "s", count - 1));
      }
      s.at = SimTime::From(x.Quantity<units::Duration>("at"));
      if (s.at >= cfg.duration) {
        x.Fail("at", "the failure comes at or after the end of the simulation");
      }
      s.repair = SimTime::From(x.Quantity<units::Duration>("repair"));
      if (!life.scripted.empty() && s.at < life.scripted.back().at) {
        x.Fail("at", "scripted failures must be listed in time order");
      }
      life.scripted.push_back(s);
    }
    life.failure_model = model.source;
    if (f.Number("rate_scale") != 1) {
      life.failure_model +=
          fmt::format(", every rate x {:g} (failures.rate_scale)", f.Number("rate_scale"));
    }
    life.failures = std::move(model);
  }
  double rate = 0;
  if (life.failures) {
    for (const FailureCauseRate& c : life.failures->causes) rate += c.per_1000_component_days;
  }
  for (size_t i = 0; i < workloads.size(); ++i) {
    if (life.jobs[i].checkpoint.interval == SimTime() && rate <= 0) {
      workloads[i].Fail("checkpoint_every",
                        "checkpoint_every: auto needs failure rates (Daly's optimum for no "
                        "failures is never to checkpoint)",
                        "add a 'failures:' section with rates, or give an interval");
    }
  }
  life.flexibility = ReadFlexibility(root, workloads, cfg, life);
  cfg.life = std::move(life);
}

}  // namespace firstwall::scenario
