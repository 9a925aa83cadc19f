// The life of a cluster: jobs arrive, wait in the Scheduler, run, checkpoint, fail, restart and
// end, on a core EventQueue that either the site's engine drives or RunUntil drives alone.
//
// A job's attempt (one start on a set of nodes) goes through phases:
//
//   queued -> [stagger wait] -> [restarting] -> [warming up] -> computing <-> checkpointing -> done
//                                                                   |
//                                       failure or preemption  ----+---> detecting -> queued
//                                       (failure)
//                                                                   +---> queued (preemption)
//
//   stagger wait  restarts that begin at the same instant (a leaf or PDU failure stops many jobs
//                 at once) start their reload one after another, `restart_stagger` apart, so their
//                 power ramps do not coincide; the first has no wait
//   restarting    reload from the last checkpoint: its bytes read back over the storage network,
//                 CheckpointPolicy::write at I/O speed 1 (the same bytes at the same rate alone),
//                 stretched like a write by the host's SetIoSpeed when others share the storage;
//                 zero for a job without checkpoints (it starts over from its initial state)
//   warming up    the rest of the restart: the job's CheckpointPolicy::restart_overhead (Never:
//                 the option's default) less the reload, at least zero; a fixed time (process
//                 start, NCCL set-up, compilation, data loaders) that storage contention does not
//                 stretch. So restart_overhead is reload + warm-up alone, or the reload where that
//                 is longer. A first start has neither (its start-up is part of its work)
//   computing     progress (seconds of nominal work) grows at the job's speed, 1 unless the host
//                 says otherwise (SetSpeed); a checkpoint starts each time the progress since the
//                 last one reaches the interval (every N steps, not every N wall seconds), the job
//                 ends when its progress reaches its work
//   checkpointing the job stalls for CheckpointPolicy::write (at speed 1; the host may stretch it
//                 with SetSpeed, e.g. a contended storage network); only a finished write counts
//   detecting     after a failure the job holds its nodes for `detection` (the hang until a
//                 watchdog fires), then releases them and is submitted again
// The checkpoint interval is the job's CheckpointPolicy::interval, or, when that is zero, Daly's
// optimum (reliability::DalyIntervalS) for its write time and its own mean time between
// interruptions: 1 / FailureProcess::JobRatePerS(gpus), its GPUs' and nodes' share of the cluster's
// failure rate. Never: no checkpoints (a failure loses the whole attempt's progress).
//
// A failure (failures.h) acts through its blast radius: node down and cut from fabric take the
// nodes out of the Scheduler until repaired and stop every job on any of them (jobs are
// synchronous: one node lost stops the gang); software failures stop the job on the node and leave
// the node up; throttle (a CDU) and fabric degraded (a spine) stop nothing here: the host hears of
// them (Host::OnFailure / OnRepair) and slows the jobs it must through SetSpeed. The host's own
// stops (a tripped power unit, a thermal shutdown) come back through HostStopped, as a failure of
// that job alone, and the nodes it lost for good through HostNodesLost. A node with
// `exclude_after_failures` failures of its own (GPU, HBM, NVLink, NIC, cable, host, PSU; not group
// failures) is excluded for good. A stopped job loses the progress since its last finished
// checkpoint. A failed job is submitted again with its original spec (so its priority and original
// submit time place it in the queue as the Scheduler's policy orders them: under FCFS it goes back
// to where it first stood, ahead of later arrivals, as a requeued job in Slurm); a preempted job is
// submitted again the same way.
//
// Goodput follows Google's ML productivity goodput vocabulary (cloud.google.com, "ML Goodput"):
//   ETTR (effective training time ratio) of a job = useful progress / wall time from its first
//   start to its end (completion or the end of the run); the site's ETTR weights jobs by GPUs.
//   Runtime goodput = useful progress x GPUs / GPU time allocated to the jobs at their requested
//   GPUs (GPUs x time from each attempt's start to its release: SchedulerStats::allocated_gpu_h
//   less the GPUs of whole nodes a smaller job strands, report::LifeSummary::stranded_gpu_h).
//   Badput in GPU-hours by cause:
//     checkpoint_save   GPUs x time writing checkpoints
//     restart           GPUs x (detection + stagger wait + reload + warm-up)
//     lost_progress     GPUs x nominal progress lost (since the last checkpoint) to failures and
//                       preemptions
//     slowdown          GPUs x integral of (1 - speed) while computing (faults, caps, throttling
//                       as the host reports them; speed above 1 counts as zero)
//     repair_downtime   GPUs of nodes down (repair or exclusion) x time, whether or not a job
//                       wanted them; a down node its stopped job still holds until the failure is
//                       detected is that job's (restart badput, allocated), not down as well
//     queueing          GPUs requested x time queued (first wait and after restarts); reported
//                       apart, since a queued job holds no GPUs
//   A job's allocated GPU time is exactly useful + lost + slowdown + checkpoint + restart (for
//   speeds <= 1).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_queue.h"
#include "core/sim_time.h"
#include "core/timed_count.h"
#include "scheduler/failures.h"
#include "scheduler/flexibility.h"
#include "scheduler/job.h"
#include "scheduler/scheduler.h"
#include "scheduler/topology.h"

namespace firstwall::scheduler {

// What a running job is doing, for the host's power and traffic models.
enum class JobPhase {
  kComputing,      // training or serving at its speed
  kCheckpointing,  // stalled on a checkpoint write (storage traffic)
  kRestarting,     // stalled on the reload of the last checkpoint after a restart (storage traffic)
  kWarmingUp,      // stalled on warm-up after the reload (no storage traffic)
  kIdle,           // holding its nodes, doing nothing: hung before detection, or stagger wait
};
// "computing", "checkpointing", "restarting", "warming_up", "idle".
std::string_view JobPhaseName(JobPhase p);

// The site that runs the jobs. ClusterLife calls it; it answers through ClusterLife::SetSpeed.
class Host {
 public:
  virtual ~Host() = default;
  // The job holds these nodes (ascending) from now; its phase follows at once by SetPhase.
  virtual void Start(JobId job, const std::vector<int>& nodes, SimTime now) = 0;
  // The job no longer holds its nodes (completed, released after a failure, preempted, or the
  // end of the run).
  virtual void Stop(JobId job, SimTime now) = 0;
  virtual void SetPhase(JobId job, JobPhase phase, SimTime now) = 0;
  // A failure and its repair, for the physics the host owns (dark racks, throttling CDUs,
  // degraded fabric). The reference is valid during the call; failures() keeps a copy.
  virtual void OnFailure(const Failure& /*failure*/, SimTime /*now*/) {}
  virtual void OnRepair(const Failure& /*failure*/, SimTime /*now*/) {}
  // Power- and carbon-aware scheduling (scheduler/flexibility.h): whether a flexible job may start
  // now (false holds it). Asked only with ClusterLifeOptions::flexibility enabled.
  virtual bool MayStartFlexible(SimTime /*now*/) { return true; }
};

// Standalone runs: every job at speed 1.
class NullHost final : public Host {
 public:
  void Start(JobId, const std::vector<int>&, SimTime) override {}
  void Stop(JobId, SimTime) override {}
  void SetPhase(JobId, JobPhase, SimTime) override {}
};

struct ClusterLifeOptions {
  // From a failure to the job's stop being noticed (its nodes held, idle). An assumption: NCCL's
  // watchdog default is minutes; Meta reports automated detection for most interruptions
  // (Llama 3 report §3.3.4) without a figure.
  SimTime detection = SimTime::FromNanoseconds(120'000'000'000);  // 2 min
  // Reload and warm-up when the job's own CheckpointPolicy::restart_overhead is Never. An
  // assumption of the order reported for large runs (minutes to load and warm up).
  SimTime restart_overhead = SimTime::FromNanoseconds(600'000'000'000);  // 10 min
  // A node is excluded for good after this many failures of its own; 0: never.
  int exclude_after_failures = 0;
  // Gap between restarts that begin at the same instant; zero: all together.
  SimTime restart_stagger;
  // Period of the running/queued/fragmentation samples; Never: none.
  SimTime sample_every = SimTime::FromNanoseconds(3'600'000'000'000);  // 1 h
  // Record every finished checkpoint in events() (a million jobs checkpointing hourly is a lot).
  bool record_checkpoints = true;
  // Failures at given times, besides (or instead of) the random ones: built with
  // ScriptedFailure. They must be in time order.
  std::vector<Failure> scripted_failures;
  // Holding flexible jobs' first starts while the host's gate is closed (scheduler/flexibility.h).
  FlexibilityOptions flexibility;
};

// A failure of component `index` of kind `k` at `at`, with its blast radius, effect and a fixed
// repair, for scripted_failures.
Failure ScriptedFailure(const Topology& topology, const FailureModel& model, ComponentKind k,
                        int64_t index, SimTime at, SimTime repair, std::string_view cause = {});

// kReleased: its owner gave the nodes back (Withdraw: a service scaling down).
enum class AttemptEnd { kCompleted, kFailed, kPreempted, kCutByEnd, kReleased };
// "completed", "failed", "preempted", "cut", "released"
std::string_view AttemptEndName(AttemptEnd e);

// One start of a job on a set of nodes.
struct Attempt {
  JobId job = 0;
  SimTime queued;  // when it entered the queue for this attempt (submit, or resubmit)
  SimTime start;
  SimTime end;  // when it gave its nodes back (a failed attempt holds them through detection)
  // When it first computed: its start for a first attempt, the end of the stagger wait, reload
  // and warm-up for a restart; Never while it has not (yet) computed.
  SimTime computing_from = SimTime::Never();
  int gpus = 0;
  int nodes = 0;
  AttemptEnd how = AttemptEnd::kCutByEnd;
};

enum class LifeEventKind {
  kFailure,     // failure: index into failures(); its jobs_hit are the jobs it stopped
  kRepair,      // failure index repaired
  kPreemption,  // job
  kCheckpoint,  // job finished a checkpoint
  kRestart,     // job started again after a failure or preemption
  kExclusion,   // node excluded
  kHostStop,    // the host stopped job by itself (HostStopped); cause says why
  kDrain,       // the host drained nodes (HostDrain): node, nodes; cause says why
  kDrainEnd,    // those nodes came back
};
std::string_view LifeEventKindName(LifeEventKind k);

struct LifeEvent {
  LifeEvent() = default;
  LifeEvent(SimTime t, LifeEventKind k, JobId j, int f, int n, std::string_view why, int count = 0,
            SimTime back = SimTime())
      : at(t), kind(k), job(j), failure(f), node(n), cause(why), nodes(count), until(back) {}
  SimTime at;
  LifeEventKind kind = LifeEventKind::kFailure;
  JobId job = -1;          // -1: none
  int failure = -1;        // index into failures(), -1: none
  int node = -1;           // kExclusion, kDrain, kDrainEnd: the (first) node
  std::string_view cause;  // kHostStop, kDrain: a string with static storage ("power_trip", ...)
  int nodes = 0;           // kDrain, kDrainEnd: nodes from `node` on
  SimTime until;           // kDrain: when they come back
  // kHostStop and kExclusion by a tripped unit of the host's power chain: the unit's stage
  // (storage of the host, outliving this) and its index within the stage; empty and -1 otherwise.
  std::string_view stage;
  int64_t unit = -1;
};

// A stretch of time a job computed below its nominal speed (ClusterLife::SetSpeed below 1: a
// throttled GPU, a slow link, a capped rack), as its slowdown badput accrued: from `from` to `to`,
// at `speed` at the lowest (a share of nominal). Stretches that meet are one.
struct SlowSpan {
  JobId job = 0;
  SimTime from, to;
  double speed = 1;
};

// A running job that gave way to a higher-priority one (policy priority).
struct PreemptionRecord {
  SimTime at;
  JobId job = 0;      // the victim
  JobId by = 0;       // the job it gave way to
  double lost_s = 0;  // the victim's progress since its last checkpoint, lost (nominal seconds)
};

struct FailureRecord {
  Failure failure;
  std::vector<JobId> jobs_hit;  // ascending: jobs stopped (or, for a throttle, slowed)
};

// Per job, in seconds (multiply by GPUs for GPU-seconds).
struct JobLife {
  SimTime first_start = SimTime::Never();  // Never: never started
  SimTime end = SimTime::Never();          // completion, or the end of the run
  bool completed = false;
  double useful_s = 0;  // progress kept (nominal seconds of work)
  double queued_s = 0;
  double checkpoint_s = 0;
  double restart_s = 0;
  double lost_s = 0;
  double slowdown_s = 0;
  int attempts = 0;
  int failures = 0;  // interruptions by failures
  int preemptions = 0;
  int checkpoints = 0;
  double checkpoint_interval_s = 0;  // the one used; infinity: none
  // useful / (end - first_start); 0 when never started.
  double Ettr() const;
};

// The latest first start at which `spec` still meets its deadline at nominal speed: deadline less
// its work and the checkpoint writes that work takes (one per `checkpoint_interval_s` of work,
// each spec.checkpoint.write long; infinity: none); the deadline itself for unbounded work; Never
// without a deadline.
SimTime LatestStart(const JobSpec& spec, double checkpoint_interval_s);
// Whether a job with a deadline missed it in a run that ended at `end`: not completed by then. A
// job still running when the run ends before its deadline has not missed it (yet).
bool DeadlineMissed(const JobSpec& spec, const JobLife& life, SimTime end);

struct Badput {
  double queueing_gpu_h = 0;  // apart: queued jobs hold no GPUs
  double checkpoint_save_gpu_h = 0;
  double restart_gpu_h = 0;
  double lost_progress_gpu_h = 0;
  double repair_downtime_gpu_h = 0;
  double slowdown_gpu_h = 0;
};

struct Goodput {
  double ettr = 0;             // GPU-weighted over jobs that started
  double runtime_goodput = 0;  // useful / GPU time held at the jobs' requested GPUs
  double useful_gpu_h = 0;
  Badput badput;
};

struct SchedulerStats {
  // Wait from submit to first start, over jobs that started (nearest rank).
  double wait_p50_s = 0, wait_p90_s = 0, wait_p99_s = 0;
  int jobs_submitted = 0, jobs_started = 0, jobs_completed = 0;
  double utilization = 0;  // allocated / (GPUs x duration)
  double allocated_gpu_h = 0;
  // allocated + idle + down = GPUs x duration: a down node held by a job hanging until detection
  // counts as allocated only.
  double idle_gpu_h = 0;            // up and unallocated
  double down_gpu_h = 0;            // repair and exclusion, not held by a job
  double fragmented_gpus_mean = 0;  // time average over the samples
  double free_gpus_mean = 0;
  int interruptions = 0;  // job stops by failures
  int preemptions = 0;
  int failures = 0;
  int excluded_nodes = 0;
  // Jobs submitted with a deadline (JobSpec::deadline) and those that missed it (DeadlineMissed).
  int jobs_with_deadline = 0, deadlines_missed = 0;
};

struct LifeSample {
  SimTime at;
  int running = 0;
  int queued = 0;
  int64_t allocated_gpus = 0;
  int down_nodes = 0;
  int64_t free_gpus = 0;
  int64_t fragmented_gpus = 0;
};

class ClusterLife {
 public:
  // `events` and `host` (null: a NullHost of its own) must outlive this. `model` empty: no
  // random failures. Schedules the arrivals, the failures and the samples on `events`.
  // Throws InternalError on a job the Scheduler could never place (Scheduler::Admissible: the
  // caller refuses those with an InputError first), a Young/Daly interval without a write time
  // (at the job's arrival), or scripted failures out of order.
  ClusterLife(const Topology& topology, SchedulerConfig config, std::optional<FailureModel> model,
              std::vector<JobSpec> jobs, uint64_t seed, ClusterLifeOptions options,
              EventQueue& events, Host* host = nullptr);
  ~ClusterLife();
  ClusterLife(const ClusterLife&) = delete;
  ClusterLife& operator=(const ClusterLife&) = delete;

  // A job arriving later (submitted at max(spec.submit, now)). Not from inside a Host callback
  // (the job list may move). Submitted at `now` it joins the queue at once, and the scheduling
  // pass of this instant, pending or yet to come, decides it with the instant's other arrivals.
  JobId AddJob(JobSpec spec, SimTime now);
  // The host's compute speed for a job from now: progress per second while computing (1 nominal,
  // >= 0; 0 stalls it). It persists across phases and attempts until set again.
  void SetSpeed(JobId job, double speed, SimTime now);
  // The rate of its checkpoint writes and reloads (1: CheckpointPolicy::write and the restart
  // overhead as given; 0.5: twice as long, e.g. a contended storage network). Persists likewise.
  void SetIoSpeed(JobId job, double speed, SimTime now);

  // The host stopped a running job by itself (its racks went dark, its GPUs shut down): an
  // interruption of that job alone, as a failure that hit only it: it loses the progress since
  // its last checkpoint, holds its nodes through `detection` and is submitted again. Counts in
  // its failures and the interruptions; records a kHostStop event with `cause` (static storage).
  // Nothing if the job is not running (already failed, or done). Not from inside a Host call.
  // `stage` and `unit`: the tripped unit of the power chain that stopped it, if one did (for the
  // events; storage that outlives this).
  void HostStopped(JobId job, SimTime now, std::string_view cause, std::string_view stage = {},
                   int64_t unit = -1);
  // Nodes the host lost for good (a tripped unit's racks: the site never resets a trip): they
  // leave the Scheduler as excluded nodes (kExclusion events); a job on them stops through
  // HostStopped, not here.
  void HostNodesLost(NodeRun nodes, SimTime now, std::string_view stage = {}, int64_t unit = -1);
  // Nodes the host takes out of service until `until` (> now), e.g. to cool down after a thermal
  // shutdown: they leave the Scheduler as down nodes (repair downtime while no job holds them)
  // and come back then. A kDrain event per run of consecutive nodes, a kDrainEnd at its end. A
  // job on them is stopped through HostStopped, not here (call that first: the job then holds
  // them, hung, until detection).
  void HostDrain(std::span<const int> nodes, SimTime until, SimTime now, std::string_view cause);

  // The job's owner no longer wants it (a service's replica when it scales down, or at its end;
  // cluster_life_services.cc): queued, it leaves the queue; running, its attempt ends as kReleased
  // with its progress kept; detecting, it gives its nodes back now. It is done for good (a later
  // demand is a new job). Nothing if it is already done. FW_CHECK: it was submitted. Not from
  // inside a Host call.
  void Withdraw(JobId job, SimTime now);

  // Standalone: runs the queue's events up to `end`, then Finish(end).
  void RunUntil(SimTime end);
  // Closes the books at `end`: running attempts end as cut, jobs still queued stop waiting.
  // Call once, after the events up to `end` have run.
  void Finish(SimTime end);

  const std::vector<JobSpec>& jobs() const { return jobs_; }
  const std::vector<Attempt>& attempts() const { return attempts_; }
  const std::vector<LifeEvent>& events() const { return events_log_; }
  // The jobs' slowed stretches, in the order they began.
  const std::vector<SlowSpan>& slowdowns() const { return slow_spans_; }
  const std::vector<FailureRecord>& failures() const { return failures_; }
  const std::vector<LifeSample>& samples() const { return samples_; }
  const std::vector<PreemptionRecord>& preemptions() const { return preemptions_; }
  const JobLife& job_life(JobId job) const;
  // Jobs holding nodes now: from their start until they give the nodes back (a failed job holds
  // them, hung, until the failure is detected). A job in the queue is not running.
  int running() const;
  int queued() const;
  // Their time-weighted means over the window [from, to) after the last one asked (the time
  // series' rows, core/timed_count.h); each window once, in order.
  double MeanRunning(SimTime from, SimTime to);
  double MeanQueued(SimTime from, SimTime to);
  // After Finish.
  Goodput goodput() const;
  SchedulerStats stats() const;
  const Scheduler& scheduler() const { return *scheduler_; }
  const FailureProcess* failure_process() const { return process_.get(); }
  // Null unless options.flexibility is enabled.
  const FlexibleHold* flexible_hold() const { return hold_.get(); }
  // The job's slowdown seconds (JobLife::slowdown_s) accrued up to `now`, the current phase
  // included, without changing the books (a host measuring the slowdown under its caps).
  double SlowdownSecondsAt(JobId job, SimTime now) const;

 private:
  enum class Phase : uint8_t {
    kNotSubmitted,
    kQueued,
    kStaggerWait,
    kRestarting,
    kWarmingUp,
    kComputing,
    kCheckpointing,
    kDetecting,
    kDone,
  };
  struct JobState {
    Phase phase = Phase::kNotSubmitted;
    uint32_t gen = 0;      // bumps when the job's pending event is superseded
    int32_t attempt = -1;  // index into attempts_ of the current attempt
    double speed = 1;
    double io_speed = 1;
    double progress_s = 0;
    double checkpointed_s = 0;
    double phase_left_s = 0;  // checkpoint write, reload: nominal seconds left
    SimTime phase_since;
    SimTime queued_since;
    std::vector<int> nodes;  // held now, ascending
    JobLife life;
    int64_t last_slow = -1;  // index into slow_spans_ of its latest, extended while they meet
  };

  void ScheduleNextArrival();
  void ScheduleNextFailure();
  void ScheduleSample(SimTime at);
  void Submit(JobId job, SimTime now);
  void RequestPass(SimTime now);
  void RunPass(SimTime now);
  void StartJob(JobId job, std::vector<int> nodes, SimTime now);
  void EnterPhase(JobId job, Phase phase, SimTime now);
  void Accrue(JobId job, SimTime now);
  void ScheduleJobEvent(JobId job, SimTime now);
  void OnJobEvent(JobId job, SimTime now);
  void StopAttempt(JobId job, AttemptEnd how, SimTime now);
  void ReleaseNodes(JobId job, SimTime now, bool scheduler_knows);
  void OnFailure(const Failure& f, SimTime now);
  void Interrupt(JobId job, SimTime now);
  void OnRepair(int failure, SimTime now);
  void TakeNodeDown(int node, SimTime now);
  // One of a node's reasons to be down is gone (a repair, a drain's end).
  void BringNodeUp(int node);
  void AccountCluster(SimTime now);
  void SetExpectedEnd(JobId job, SimTime now);
  double IntervalFor(const JobSpec& spec) const;
  SimTime RestartOverhead(const JobSpec& spec) const;
  // A restart's reload (stagger wait over), then its warm-up, then computing.
  double ReloadS(JobId job) const;
  void BeginReload(JobId job, SimTime now);
  void BeginWarmUp(JobId job, SimTime now);

  Topology topology_;
  ClusterLifeOptions options_;
  EventQueue& queue_;
  NullHost null_host_;
  Host* host_;
  std::vector<JobSpec> jobs_;  // before scheduler_: it holds a reference
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<FailureProcess> process_;
  std::unique_ptr<FlexibleHold> hold_;

  std::vector<JobState> state_;
  std::vector<JobId> arrival_order_;  // by (submit, id)
  size_t next_arrival_ = 0;
  size_t next_scripted_ = 0;
  bool pass_pending_ = false;
  SimTime stagger_instant_ = SimTime::Never();
  int stagger_count_ = 0;

  // Per node.
  std::vector<JobId> node_job_;  // -1: free
  std::vector<int16_t> down_count_;
  std::vector<int16_t> own_failures_;
  std::vector<uint8_t> excluded_;

  // Cluster accounting, integrated piecewise between changes.
  SimTime accounted_until_;
  int64_t allocated_gpus_ = 0;
  int down_nodes_ = 0;
  int held_down_nodes_ = 0;  // down nodes a job still holds (hung until detection)
  double allocated_gpu_s_ = 0;
  double down_gpu_s_ = 0;
  double idle_gpu_s_ = 0;
  TimedCount running_;
  TimedCount queued_;
  SimTime end_ = SimTime::Never();  // set by Finish

  std::vector<Attempt> attempts_;
  std::vector<LifeEvent> events_log_;
  std::vector<SlowSpan> slow_spans_;
  std::vector<FailureRecord> failures_;
  std::vector<LifeSample> samples_;
  std::vector<PreemptionRecord> preemptions_;
  std::vector<JobId> hit_scratch_;
};

}  // namespace firstwall::scheduler
