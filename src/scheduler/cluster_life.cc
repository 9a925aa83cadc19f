#include "scheduler/cluster_life.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "reliability/checkpoint.h"

namespace firstwall::scheduler {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Exact for whole nanoseconds (SimTime::seconds() multiplies by 1e-9, which is not).
double Sec(SimTime t) { return static_cast<double>(t.ns()) / 1e9; }

// Seconds to the first nanosecond at or after them, so a phase's work is done when its event runs;
// a value within rounding error of a whole nanosecond is that nanosecond (hand-computed times stay
// exact).
SimTime CeilNs(double seconds) {
  if (!(seconds < 9.0e9)) return SimTime::Never();
  const double ns = std::max(0.0, seconds) * 1e9;
  const double nearest = std::nearbyint(ns);
  const bool whole = std::abs(ns - nearest) <= 1e-3 + 1e-14 * ns;
  return SimTime::FromNanoseconds(static_cast<int64_t>(whole ? nearest : std::ceil(ns)));
}

SimTime Later(SimTime now, SimTime d) {
  return d == SimTime::Never() || now.ns() > SimTime::Never().ns() - d.ns() ? SimTime::Never()
                                                                            : now + d;
}

double NearestRank(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto n = static_cast<double>(sorted.size());
  const auto i = static_cast<size_t>(std::max(1.0, std::ceil(p * n))) - 1;
  return sorted[std::min(i, sorted.size() - 1)];
}

}  // namespace

std::string_view JobPhaseName(JobPhase p) {
  switch (p) {
    case JobPhase::kComputing:
      return "computing";
    case JobPhase::kCheckpointing:
      return "checkpointing";
    case JobPhase::kRestarting:
      return "restarting";
    case JobPhase::kWarmingUp:
      return "warming_up";
    case JobPhase::kIdle:
      return "idle";
  }
  return "?";
}

std::string_view AttemptEndName(AttemptEnd e) {
  switch (e) {
    case AttemptEnd::kCompleted:
      return "completed";
    case AttemptEnd::kFailed:
      return "failed";
    case AttemptEnd::kPreempted:
      return "preempted";
    case AttemptEnd::kCutByEnd:
      return "cut";
    case AttemptEnd::kReleased:
      return "released";
  }
  return "?";
}

std::string_view LifeEventKindName(LifeEventKind k) {
  switch (k) {
    case LifeEventKind::kFailure:
      return "failure";
    case LifeEventKind::kRepair:
      return "repair";
    case LifeEventKind::kPreemption:
      return "preemption";
    case LifeEventKind::kCheckpoint:
      return "checkpoint";
    case LifeEventKind::kRestart:
      return "restart";
    case LifeEventKind::kExclusion:
      return "exclusion";
    case LifeEventKind::kHostStop:
      return "host_stop";
    case LifeEventKind::kDrain:
      return "drain";
    case LifeEventKind::kDrainEnd:
      return "drain_end";
  }
  return "?";
}

double JobLife::Ettr() const {
  if (first_start == SimTime::Never() || end == SimTime::Never() || end <= first_start) return 0;
  return useful_s / Sec(end - first_start);
}

SimTime LatestStart(const JobSpec& spec, double checkpoint_interval_s) {
  if (spec.deadline == SimTime::Never() || spec.work == SimTime::Never()) return spec.deadline;
  double wall_s = Sec(spec.work);
  if (std::isfinite(checkpoint_interval_s) && checkpoint_interval_s > 0) {
    // Checkpoints fall at each full interval of work before the end (none at the end itself).
    wall_s += std::ceil(wall_s / checkpoint_interval_s - 1) * Sec(spec.checkpoint.write);
  }
  const SimTime need = SimTime::From(units::Seconds(wall_s));
  return spec.deadline > need ? spec.deadline - need : SimTime();
}

bool DeadlineMissed(const JobSpec& spec, const JobLife& life, SimTime end) {
  if (spec.deadline == SimTime::Never()) return false;
  if (life.completed) return life.end > spec.deadline;
  return end >= spec.deadline;
}

Failure ScriptedFailure(const Topology& topology, const FailureModel& model, ComponentKind k,
                        int64_t index, SimTime at, SimTime repair, std::string_view cause) {
  Failure f;
  f.at = at;
  f.kind = k;
  f.component = index;
  f.cause = -1;
  f.cause_name = cause.empty() ? ComponentKindName(k) : cause;
  f.nodes = BlastRadius(k, index, topology, model.domains);
  f.effect = EffectOf(k, model.cdu_stops);
  f.repair = k == ComponentKind::kSoftware ? SimTime() : repair;
  return f;
}

ClusterLife::ClusterLife(const Topology& topology, SchedulerConfig config,
                         std::optional<FailureModel> model, std::vector<JobSpec> jobs,
                         uint64_t seed, ClusterLifeOptions options, EventQueue& events, Host* host)
    : topology_(topology),
      options_(std::move(options)),
      queue_(events),
      host_(host != nullptr ? host : &null_host_),
      jobs_(std::move(jobs)) {
  FW_CHECK(options_.exclude_after_failures >= 0 && options_.detection >= SimTime() &&
               options_.restart_overhead >= SimTime() && options_.restart_stagger >= SimTime(),
           "cluster life options must not be negative");
  for (size_t i = 1; i < options_.scripted_failures.size(); ++i) {
    FW_CHECK(options_.scripted_failures[i - 1].at <= options_.scripted_failures[i].at,
             "scripted failures must be in time order");
  }
  scheduler_ = std::make_unique<Scheduler>(topology_, std::move(config), jobs_);
  if (model) process_ = std::make_unique<FailureProcess>(topology_, std::move(*model), seed);
  if (options_.flexibility.enabled) {
    hold_ = std::make_unique<FlexibleHold>(
        options_.flexibility, queue_, [this](SimTime now) { return host_->MayStartFlexible(now); },
        [this](JobId job, SimTime now) {
          scheduler_->Submit(job, now);
          RequestPass(now);
        });
  }
  node_job_.assign(static_cast<size_t>(topology_.nodes), -1);
  down_count_.assign(static_cast<size_t>(topology_.nodes), 0);
  own_failures_.assign(static_cast<size_t>(topology_.nodes), 0);
  excluded_.assign(static_cast<size_t>(topology_.nodes), 0);
  state_.resize(jobs_.size());
  for (const JobSpec& j : jobs_) {
    FW_CHECK(scheduler_->Admissible(j), "job '" + j.name + "' can never fit this cluster");
  }
  arrival_order_.resize(jobs_.size());
  std::iota(arrival_order_.begin(), arrival_order_.end(), 0);
  std::stable_sort(arrival_order_.begin(), arrival_order_.end(),
                   [&](JobId a, JobId b) { return jobs_[a].submit < jobs_[b].submit; });
  ScheduleNextArrival();
  ScheduleNextFailure();
  if (options_.sample_every != SimTime::Never()) {
    FW_CHECK(options_.sample_every > SimTime(), "the sample period must be positive");
    ScheduleSample(options_.sample_every);  // at 0 the first decisions are not made yet
  }
}

ClusterLife::~ClusterLife() = default;

const JobLife& ClusterLife::job_life(JobId job) const { return state_.at(job).life; }
int ClusterLife::running() const { return running_.value(); }
int ClusterLife::queued() const { return queued_.value(); }
double ClusterLife::MeanRunning(SimTime from, SimTime to) { return running_.MeanOver(from, to); }
double ClusterLife::MeanQueued(SimTime from, SimTime to) { return queued_.MeanOver(from, to); }

JobId ClusterLife::AddJob(JobSpec spec, SimTime now) {
  FW_CHECK(scheduler_->Admissible(spec), "job '" + spec.name + "' can never fit this cluster");
  const auto id = static_cast<JobId>(jobs_.size());
  const SimTime at = std::max(spec.submit, now);
  jobs_.push_back(std::move(spec));
  state_.emplace_back();
  if (at == now) {
    // Submitted at once, so the pass of this instant decides it with the instant's other
    // submissions: from an event of its own it would follow a pass already requested, which could
    // start a job that it then preempts at the same instant (a zero-length attempt).
    Submit(id, at);
    RequestPass(at);
    return id;
  }
  queue_.Schedule(at, "job_submit", [this, id, at] {
    Submit(id, at);
    RequestPass(at);
  });
  return id;
}

// ---- arrivals, failures, samples -------------------------------------------------------------

void ClusterLife::ScheduleNextArrival() {
  if (next_arrival_ >= arrival_order_.size()) return;
  const SimTime t = jobs_[arrival_order_[next_arrival_]].submit;
  queue_.Schedule(t, "job_arrivals", [this, t] {
    while (next_arrival_ < arrival_order_.size() &&
           jobs_[arrival_order_[next_arrival_]].submit == t) {
      Submit(arrival_order_[next_arrival_++], t);
    }
    RequestPass(t);
    ScheduleNextArrival();
  });
}

void ClusterLife::ScheduleNextFailure() {
  const SimTime random = process_ ? process_->PeekTime() : SimTime::Never();
  const SimTime scripted = next_scripted_ < options_.scripted_failures.size()
                               ? options_.scripted_failures[next_scripted_].at
                               : SimTime::Never();
  const SimTime t = std::min(random, scripted);
  if (t == SimTime::Never()) return;
  queue_.Schedule(t, "failure", [this, t] {
    // Scripted first on a tie, so a test's failure is never reordered by a random one.
    if (next_scripted_ < options_.scripted_failures.size() &&
        options_.scripted_failures[next_scripted_].at == t) {
      OnFailure(options_.scripted_failures[next_scripted_++], t);
    } else {
      OnFailure(process_->Next(), t);
    }
    ScheduleNextFailure();
  });
}

void ClusterLife::ScheduleSample(SimTime at) {
  queue_.Schedule(at, "life_sample", [this, at] {
    LifeSample s;
    s.at = at;
    s.running = running_.value();
    s.queued = queued_.value();
    s.allocated_gpus = allocated_gpus_;
    s.down_nodes = down_nodes_;
    s.free_gpus = scheduler_->FreeGpus();
    s.fragmented_gpus = scheduler_->FragmentedGpus();
    samples_.push_back(s);
    ScheduleSample(Later(at, options_.sample_every));
  });
}

// ---- jobs -------------------------------------------------------------------------------------

double ClusterLife::IntervalFor(const JobSpec& spec) const {
  const SimTime interval = spec.checkpoint.interval;
  if (interval == SimTime::Never()) return kInf;
  if (interval > SimTime()) return Sec(interval);
  // Young/Daly from the job's own share of the failure rate.
  const double rate = process_ ? process_->JobRatePerS(spec.gpus) : 0;
  if (rate <= 0) return kInf;  // nothing fails: nothing to checkpoint against
  FW_CHECK(spec.checkpoint.write > SimTime(),
           "job '" + spec.name + "': a Young/Daly checkpoint interval needs a write time");
  return reliability::DalyIntervalS(Sec(spec.checkpoint.write), 1.0 / rate);
}

SimTime ClusterLife::RestartOverhead(const JobSpec& spec) const {
  return spec.checkpoint.restart_overhead != SimTime::Never() ? spec.checkpoint.restart_overhead
                                                              : options_.restart_overhead;
}

// The reload reads the last checkpoint back: its bytes at the rate alone take the write's time. A
// job without checkpoints has none to read.
double ClusterLife::ReloadS(JobId job) const {
  return std::isfinite(state_[job].life.checkpoint_interval_s) ? Sec(jobs_[job].checkpoint.write)
                                                               : 0.0;
}

void ClusterLife::BeginReload(JobId job, SimTime now) {
  JobState& s = state_[job];
  s.phase_left_s = ReloadS(job);
  if (s.phase_left_s > 0) {
    EnterPhase(job, Phase::kRestarting, now);
  } else {
    BeginWarmUp(job, now);
  }
}

void ClusterLife::BeginWarmUp(JobId job, SimTime now) {
  JobState& s = state_[job];
  s.phase_left_s = std::max(0.0, Sec(RestartOverhead(jobs_[job])) - ReloadS(job));
  EnterPhase(job, s.phase_left_s > 0 ? Phase::kWarmingUp : Phase::kComputing, now);
}

void ClusterLife::Submit(JobId job, SimTime now) {
  JobState& s = state_[job];
  FW_CHECK(s.phase != Phase::kQueued && s.phase != Phase::kDone, "a job is submitted twice");
  const bool first = s.phase == Phase::kNotSubmitted;
  if (first) s.life.checkpoint_interval_s = IntervalFor(jobs_[job]);
  s.phase = Phase::kQueued;
  s.phase_since = now;
  s.queued_since = now;
  queued_.Add(1, now);
  // A held flexible job waits outside the Scheduler (queued here) until the hold releases it.
  if (first && hold_ && jobs_[job].flexible &&
      hold_->Hold(job, now, LatestStart(jobs_[job], s.life.checkpoint_interval_s)))
    return;
  scheduler_->Submit(job, now);
}

void ClusterLife::RequestPass(SimTime now) {
  if (pass_pending_) return;
  pass_pending_ = true;
  queue_.Schedule(now, "schedule", [this, now] {
    pass_pending_ = false;
    RunPass(now);
  });
}

void ClusterLife::RunPass(SimTime now) {
  Decisions d = scheduler_->Schedule(now);
  AccountCluster(now);
  for (size_t i = 0; i < d.preempt.size(); ++i) {
    const JobId job = d.preempt[i];
    JobState& s = state_[job];
    Accrue(job, now);
    if (s.phase != Phase::kDetecting) {
      FW_CHECK(s.attempt >= 0, "a job preempted while not running");
      preemptions_.push_back({now, job, d.preempted_for[i], s.progress_s - s.checkpointed_s});
      StopAttempt(job, AttemptEnd::kPreempted, now);
      ++s.life.preemptions;
      events_log_.push_back({now, LifeEventKind::kPreemption, job, -1, -1, {}});
    }
    // The scheduler has taken its nodes back; it queues again like a failed job, in its original
    // place, and the next pass may start it elsewhere.
    ReleaseNodes(job, now, /*scheduler_knows=*/true);
    Submit(job, now);
  }
  for (StartDecision& start : d.start) StartJob(start.job, std::move(start.nodes), now);
  if (!d.preempt.empty()) RequestPass(now);
}

void ClusterLife::StartJob(JobId job, std::vector<int> nodes, SimTime now) {
  JobState& s = state_[job];
  const JobSpec& spec = jobs_[job];
  FW_CHECK(s.phase == Phase::kQueued, "the scheduler started a job that is not queued");
  Accrue(job, now);
  queued_.Add(-1, now);
  running_.Add(1, now);
  allocated_gpus_ += static_cast<int64_t>(nodes.size()) * topology_.gpus_per_node;
  for (int n : nodes) {
    FW_CHECK(node_job_[n] == -1, "the scheduler placed two jobs on one node");
    node_job_[n] = job;
  }
  s.attempt = static_cast<int32_t>(attempts_.size());
  attempts_.push_back({job, s.queued_since, now, now, SimTime::Never(), spec.gpus,
                       static_cast<int>(nodes.size()), AttemptEnd::kCutByEnd});
  const bool restart = s.life.attempts > 0;
  ++s.life.attempts;
  if (s.life.first_start == SimTime::Never()) s.life.first_start = now;
  s.nodes = std::move(nodes);
  host_->Start(job, s.nodes, now);
  if (!restart) {
    EnterPhase(job, Phase::kComputing, now);
  } else {
    events_log_.push_back({now, LifeEventKind::kRestart, job, -1, -1, {}});
    if (now != stagger_instant_) {
      stagger_instant_ = now;
      stagger_count_ = 0;
    } else {
      ++stagger_count_;
    }
    const double wait_s = Sec(options_.restart_stagger) * stagger_count_;
    if (wait_s > 0) {
      s.phase_left_s = wait_s;
      EnterPhase(job, Phase::kStaggerWait, now);
    } else {
      BeginReload(job, now);
    }
  }
  SetExpectedEnd(job, now);
}

void ClusterLife::EnterPhase(JobId job, Phase phase, SimTime now) {
  JobState& s = state_[job];
  s.phase = phase;
  s.phase_since = now;
  switch (phase) {
    case Phase::kComputing: {
      SimTime& from = attempts_[static_cast<size_t>(s.attempt)].computing_from;
      if (from == SimTime::Never()) from = now;
      host_->SetPhase(job, JobPhase::kComputing, now);
      break;
    }
    case Phase::kCheckpointing:
      host_->SetPhase(job, JobPhase::kCheckpointing, now);
      break;
    case Phase::kRestarting:
      host_->SetPhase(job, JobPhase::kRestarting, now);
      break;
    case Phase::kWarmingUp:
      host_->SetPhase(job, JobPhase::kWarmingUp, now);
      break;
    case Phase::kStaggerWait:
    case Phase::kDetecting:
      host_->SetPhase(job, JobPhase::kIdle, now);
      break;
    default:
      break;
  }
  ScheduleJobEvent(job, now);
}

// Time in the current phase up to `now`, into the job's books.
void ClusterLife::Accrue(JobId job, SimTime now) {
  JobState& s = state_[job];
  const SimTime since = s.phase_since;
  const double dt = Sec(now - since);
  s.phase_since = now;
  if (dt <= 0) return;
  switch (s.phase) {
    case Phase::kQueued:
      s.life.queued_s += dt;
      break;
    case Phase::kStaggerWait:
    case Phase::kDetecting:
    case Phase::kWarmingUp:
      s.life.restart_s += dt;
      s.phase_left_s -= dt;
      break;
    case Phase::kRestarting:
      s.life.restart_s += dt;
      s.phase_left_s -= s.io_speed * dt;
      break;
    case Phase::kComputing:
      s.progress_s += s.speed * dt;
      s.life.slowdown_s += std::max(0.0, 1.0 - s.speed) * dt;
      if (s.speed < 1.0) {
        const SimTime from = since;
        SlowSpan* last =
            s.last_slow >= 0 ? &slow_spans_[static_cast<size_t>(s.last_slow)] : nullptr;
        if (last && last->to >= from) {
          last->to = now;
          last->speed = std::min(last->speed, s.speed);
        } else {
          s.last_slow = static_cast<int64_t>(slow_spans_.size());
          slow_spans_.push_back({job, from, now, s.speed});
        }
      }
      break;
    case Phase::kCheckpointing:
      s.life.checkpoint_s += dt;
      s.phase_left_s -= s.io_speed * dt;
      break;
    case Phase::kNotSubmitted:
    case Phase::kDone:
      break;
  }
}

void ClusterLife::ScheduleJobEvent(JobId job, SimTime now) {
  JobState& s = state_[job];
  const uint32_t gen = ++s.gen;
  SimTime at = SimTime::Never();
  switch (s.phase) {
    case Phase::kStaggerWait:
    case Phase::kDetecting:
    case Phase::kWarmingUp:
      at = Later(now, CeilNs(s.phase_left_s));
      break;
    case Phase::kRestarting:
    case Phase::kCheckpointing:
      if (s.io_speed > 0) at = Later(now, CeilNs(s.phase_left_s / s.io_speed));
      break;
    case Phase::kComputing: {
      const JobSpec& spec = jobs_[job];
      const double work = spec.work == SimTime::Never() ? kInf : Sec(spec.work);
      const double target = std::min(work, s.checkpointed_s + s.life.checkpoint_interval_s);
      if (s.speed > 0 && std::isfinite(target)) {
        at = Later(now, CeilNs((target - s.progress_s) / s.speed));
      }
      break;
    }
    default:
      break;
  }
  if (at == SimTime::Never()) return;
  queue_.Schedule(at, "job", [this, job, gen, at] {
    if (state_[job].gen == gen) OnJobEvent(job, at);
  });
}

void ClusterLife::OnJobEvent(JobId job, SimTime now) {
  JobState& s = state_[job];
  const JobSpec& spec = jobs_[job];
  Accrue(job, now);
  switch (s.phase) {
    case Phase::kStaggerWait:
      BeginReload(job, now);
      break;
    case Phase::kRestarting:
      BeginWarmUp(job, now);
      break;
    case Phase::kWarmingUp:
      s.phase_left_s = 0;
      EnterPhase(job, Phase::kComputing, now);
      break;
    case Phase::kComputing: {
      const double work = spec.work == SimTime::Never() ? kInf : Sec(spec.work);
      const double mark = s.checkpointed_s + s.life.checkpoint_interval_s;
      // The event was set for the first nanosecond the target is reached: snap to it.
      s.progress_s = std::min(work, mark);
      if (s.progress_s >= work) {
        StopAttempt(job, AttemptEnd::kCompleted, now);
        s.life.completed = true;
        s.life.end = now;
        ReleaseNodes(job, now, false);
        s.phase = Phase::kDone;
        s.phase_since = now;
        RequestPass(now);
      } else if (spec.checkpoint.write > SimTime()) {
        s.phase_left_s = Sec(spec.checkpoint.write);
        EnterPhase(job, Phase::kCheckpointing, now);
      } else {
        s.checkpointed_s = s.progress_s;  // a free checkpoint
        ++s.life.checkpoints;
        ScheduleJobEvent(job, now);
      }
      break;
    }
    case Phase::kCheckpointing:
      s.phase_left_s = 0;
      s.checkpointed_s = s.progress_s;
      ++s.life.checkpoints;
      if (options_.record_checkpoints) {
        events_log_.push_back({now, LifeEventKind::kCheckpoint, job, -1, -1, {}});
      }
      EnterPhase(job, Phase::kComputing, now);
      break;
    case Phase::kDetecting:
      ReleaseNodes(job, now, false);
      Submit(job, now);
      RequestPass(now);
      break;
    default:
      FW_CHECK(false, "a job event in a phase without one");
  }
}

// Ends the current attempt; a failed or preempted one loses the progress since the last
// checkpoint. The caller has accrued the job up to `now`.
void ClusterLife::StopAttempt(JobId job, AttemptEnd how, SimTime now) {
  JobState& s = state_[job];
  Attempt& a = attempts_[static_cast<size_t>(s.attempt)];
  a.end = now;
  a.how = how;
  if (how == AttemptEnd::kFailed || how == AttemptEnd::kPreempted) {
    s.life.lost_s += s.progress_s - s.checkpointed_s;
    s.progress_s = s.checkpointed_s;
    s.phase_left_s = 0;
  }
  ++s.gen;  // the pending phase event is void
}

// The job's nodes go back to the scheduler (unless it took them back itself: a preemption) and
// the host stops it.
void ClusterLife::ReleaseNodes(JobId job, SimTime now, bool scheduler_knows) {
  JobState& s = state_[job];
  AccountCluster(now);
  allocated_gpus_ -= static_cast<int64_t>(s.nodes.size()) * topology_.gpus_per_node;
  running_.Add(-1, now);
  attempts_[static_cast<size_t>(s.attempt)].end = now;  // a failed job held its nodes until now
  ++s.gen;  // a pending detection (a failed job preempted before release) is void
  host_->Stop(job, now);
  for (int n : s.nodes) {
    node_job_[n] = -1;
    if (down_count_[n] > 0 || excluded_[n]) --held_down_nodes_;
  }
  s.nodes.clear();
  if (!scheduler_knows) scheduler_->Release(job);
}

void ClusterLife::SetExpectedEnd(JobId job, SimTime now) {
  const JobState& s = state_[job];
  const JobSpec& spec = jobs_[job];
  if (spec.work == SimTime::Never()) {
    scheduler_->SetExpectedEnd(job, SimTime::Never());
    return;
  }
  const double left = std::max(0.0, Sec(spec.work) - s.progress_s);
  double t = s.speed > 0 ? left / s.speed : kInf;
  if (std::isfinite(s.life.checkpoint_interval_s)) {
    t += std::floor(left / s.life.checkpoint_interval_s) * Sec(spec.checkpoint.write);
  }
  if (s.phase == Phase::kRestarting || s.phase == Phase::kCheckpointing ||
      s.phase == Phase::kStaggerWait || s.phase == Phase::kWarmingUp) {
    t += s.phase_left_s;
  }
  scheduler_->SetExpectedEnd(job, Later(now, CeilNs(t)));
}

void ClusterLife::SetSpeed(JobId job, double speed, SimTime now) {
  FW_CHECK(speed >= 0 && std::isfinite(speed), "a job's speed is finite and not negative");
  JobState& s = state_.at(job);
  if (speed == s.speed) return;  // a host may repeat itself every tick: no stale events then
  if (s.phase == Phase::kComputing) Accrue(job, now);
  s.speed = speed;
  if (s.phase == Phase::kComputing) {
    ScheduleJobEvent(job, now);
    SetExpectedEnd(job, now);
  }
}

double ClusterLife::SlowdownSecondsAt(JobId job, SimTime now) const {
  const JobState& s = state_.at(job);
  double slow = s.life.slowdown_s;
  if (s.phase == Phase::kComputing && now > s.phase_since) {
    slow += std::max(0.0, 1.0 - s.speed) * Sec(now - s.phase_since);
  }
  return slow;
}

void ClusterLife::SetIoSpeed(JobId job, double speed, SimTime now) {
  FW_CHECK(speed >= 0 && std::isfinite(speed), "a job's I/O speed is finite and not negative");
  JobState& s = state_.at(job);
  if (speed == s.io_speed) return;
  const bool io = s.phase == Phase::kCheckpointing || s.phase == Phase::kRestarting;
  if (io) Accrue(job, now);
  s.io_speed = speed;
  if (io) ScheduleJobEvent(job, now);
}

// ---- failures ---------------------------------------------------------------------------------

void ClusterLife::TakeNodeDown(int node, SimTime now) {
  (void)now;
  if (down_count_[node]++ == 0 && !excluded_[node]) {
    ++down_nodes_;
    if (node_job_[node] >= 0) ++held_down_nodes_;  // its job hangs on it until released
    scheduler_->SetNodeUp(node, false);
  }
}

void ClusterLife::OnFailure(const Failure& f, SimTime now) {
  AccountCluster(now);
  const int index = static_cast<int>(failures_.size());
  failures_.push_back({f, {}});
  events_log_.push_back({now, LifeEventKind::kFailure, -1, index, -1, {}});
  // The jobs on the blast radius, ascending and once each.
  hit_scratch_.clear();
  for (int n = f.nodes.first; n < f.nodes.end(); ++n) {
    if (node_job_[n] >= 0) hit_scratch_.push_back(node_job_[n]);
  }
  std::sort(hit_scratch_.begin(), hit_scratch_.end());
  hit_scratch_.erase(std::unique(hit_scratch_.begin(), hit_scratch_.end()), hit_scratch_.end());

  const bool takes_nodes =
      f.effect == FailureEffect::kNodeDown || f.effect == FailureEffect::kCutFromFabric;
  const bool stops_jobs = takes_nodes || f.effect == FailureEffect::kJobRestart;
  std::vector<JobId>& hit = failures_.back().jobs_hit;
  for (JobId job : hit_scratch_) {
    const JobState& s = state_[job];
    if (s.phase == Phase::kDetecting) continue;  // stopped by an earlier failure
    // A job inside one node needs no fabric: a cut NIC, cable or leaf does not stop it.
    if (f.effect == FailureEffect::kCutFromFabric && s.nodes.size() == 1) continue;
    hit.push_back(job);
    if (stops_jobs) Interrupt(job, now);
  }
  if (takes_nodes) {
    for (int n = f.nodes.first; n < f.nodes.end(); ++n) TakeNodeDown(n, now);
    if (f.nodes.count == 1 && IsNodeHardware(f.kind) && options_.exclude_after_failures > 0) {
      const int n = f.nodes.first;
      if (++own_failures_[n] >= options_.exclude_after_failures && !excluded_[n]) {
        excluded_[n] = 1;  // already down (count >= 1): it simply never comes back
        events_log_.push_back({now, LifeEventKind::kExclusion, -1, index, n, {}});
      }
    }
  }
  host_->OnFailure(failures_.back().failure, now);
  if (f.effect != FailureEffect::kJobRestart) {
    const SimTime at = Later(now, f.repair);
    if (at != SimTime::Never()) {
      queue_.Schedule(at, "repair", [this, index, at] { OnRepair(index, at); });
    }
  }
  RequestPass(now);
}

void ClusterLife::HostStopped(JobId job, SimTime now, std::string_view cause,
                              std::string_view stage, int64_t unit) {
  JobState& s = state_.at(job);
  const bool running = s.phase == Phase::kStaggerWait || s.phase == Phase::kRestarting ||
                       s.phase == Phase::kWarmingUp || s.phase == Phase::kComputing ||
                       s.phase == Phase::kCheckpointing;
  if (!running) return;
  events_log_.push_back({now, LifeEventKind::kHostStop, job, -1, -1, cause});
  events_log_.back().stage = stage;
  events_log_.back().unit = unit;
  Interrupt(job, now);
  RequestPass(now);
}

// A failure stops a running job: its attempt fails, and it hangs until the failure is detected.
void ClusterLife::Interrupt(JobId job, SimTime now) {
  JobState& s = state_[job];
  Accrue(job, now);
  StopAttempt(job, AttemptEnd::kFailed, now);
  ++s.life.failures;
  s.phase_left_s = Sec(options_.detection);
  EnterPhase(job, Phase::kDetecting, now);
}

void ClusterLife::HostNodesLost(NodeRun nodes, SimTime now, std::string_view stage, int64_t unit) {
  AccountCluster(now);
  for (int n = nodes.first; n < nodes.end(); ++n) {
    if (excluded_[n]) continue;
    TakeNodeDown(n, now);
    excluded_[n] = 1;  // down (count >= 1): it never comes back
    events_log_.push_back({now, LifeEventKind::kExclusion, -1, -1, n, {}});
    events_log_.back().stage = stage;
    events_log_.back().unit = unit;
  }
  RequestPass(now);
}

void ClusterLife::OnRepair(int index, SimTime now) {
  AccountCluster(now);
  const Failure& f = failures_[static_cast<size_t>(index)].failure;
  if (f.effect == FailureEffect::kNodeDown || f.effect == FailureEffect::kCutFromFabric) {
    for (int n = f.nodes.first; n < f.nodes.end(); ++n) BringNodeUp(n);
  }
  events_log_.push_back({now, LifeEventKind::kRepair, -1, index, -1, {}});
  host_->OnRepair(f, now);
  RequestPass(now);
}

void ClusterLife::BringNodeUp(int n) {
  FW_CHECK(down_count_[n] > 0, "a node brought up more often than it went down");
  if (--down_count_[n] == 0 && !excluded_[n]) {
    --down_nodes_;
    if (node_job_[n] >= 0) --held_down_nodes_;  // back before its job was released
    scheduler_->SetNodeUp(n, true);
  }
}

void ClusterLife::HostDrain(std::span<const int> nodes, SimTime until, SimTime now,
                            std::string_view cause) {
  FW_CHECK(until > now, "a drain ends after it begins");
  AccountCluster(now);
  for (size_t i = 0; i < nodes.size();) {
    size_t j = i + 1;
    while (j < nodes.size() && nodes[j] == nodes[j - 1] + 1) ++j;
    const NodeRun run{nodes[i], static_cast<int>(j - i)};
    for (int n = run.first; n < run.end(); ++n) TakeNodeDown(n, now);
    events_log_.push_back({now, LifeEventKind::kDrain, -1, -1, run.first, cause, run.count, until});
    queue_.Schedule(until, "drain end", [this, run, until] {
      AccountCluster(until);
      for (int n = run.first; n < run.end(); ++n) BringNodeUp(n);
      events_log_.push_back(
          {until, LifeEventKind::kDrainEnd, -1, -1, run.first, {}, run.count, SimTime()});
      RequestPass(until);
    });
    i = j;
  }
  RequestPass(now);
}

void ClusterLife::AccountCluster(SimTime now) {
  const double dt = Sec(now - accounted_until_);
  if (dt <= 0) return;
  // A down node its stopped job still holds (until detection) is allocated, not down: each GPU
  // counts once, so allocated + idle + down = GPUs x time.
  const int64_t down_gpus =
      static_cast<int64_t>(down_nodes_ - held_down_nodes_) * topology_.gpus_per_node;
  const int64_t idle_gpus = topology_.gpus() - allocated_gpus_ - down_gpus;
  FW_CHECK(held_down_nodes_ >= 0 && down_gpus >= 0 && idle_gpus >= 0,
           "the cluster's GPUs are allocated, idle or down, once each");
  allocated_gpu_s_ += static_cast<double>(allocated_gpus_) * dt;
  down_gpu_s_ += static_cast<double>(down_gpus) * dt;
  idle_gpu_s_ += static_cast<double>(idle_gpus) * dt;
  accounted_until_ = now;
}

// ---- the end ----------------------------------------------------------------------------------

void ClusterLife::RunUntil(SimTime end) {
  queue_.RunUntil(end);
  Finish(end);
}

void ClusterLife::Finish(SimTime end) {
  FW_CHECK(end_ == SimTime::Never(), "a cluster's life finishes once");
  AccountCluster(end);
  end_ = end;
  for (size_t i = 0; i < state_.size(); ++i) {
    const auto job = static_cast<JobId>(i);
    JobState& s = state_[i];
    if (s.phase == Phase::kNotSubmitted || s.phase == Phase::kDone) continue;
    Accrue(job, end);
    if (s.phase != Phase::kQueued) {
      if (s.phase != Phase::kDetecting) StopAttempt(job, AttemptEnd::kCutByEnd, end);
      attempts_[static_cast<size_t>(s.attempt)].end = end;
      host_->Stop(job, end);
    }
    ++s.gen;
    if (s.life.first_start != SimTime::Never()) s.life.end = end;
  }
  for (size_t i = 0; i < state_.size(); ++i) {
    JobState& s = state_[i];
    if (s.life.first_start != SimTime::Never()) {
      s.life.useful_s = s.life.completed ? Sec(jobs_[i].work) : s.progress_s;
    }
  }
}

Goodput ClusterLife::goodput() const {
  FW_CHECK(end_ != SimTime::Never(), "goodput is known after Finish");
  Goodput g;
  double useful = 0, wall = 0, allocated = 0;
  Badput& b = g.badput;
  for (size_t i = 0; i < state_.size(); ++i) {
    // A service's replicas are not work toward an end: goodput is the jobs' (docs/models.md).
    if (jobs_[i].kind == JobKind::kService) continue;
    const JobLife& l = state_[i].life;
    const double gpus = jobs_[i].gpus;
    b.queueing_gpu_h += gpus * l.queued_s;
    if (l.first_start == SimTime::Never()) continue;
    useful += gpus * l.useful_s;
    wall += gpus * Sec(l.end - l.first_start);
    b.checkpoint_save_gpu_h += gpus * l.checkpoint_s;
    b.restart_gpu_h += gpus * l.restart_s;
    b.lost_progress_gpu_h += gpus * l.lost_s;
    b.slowdown_gpu_h += gpus * l.slowdown_s;
    allocated += gpus * (l.useful_s + l.lost_s + l.slowdown_s + l.checkpoint_s + l.restart_s);
  }
  b.repair_downtime_gpu_h = down_gpu_s_;
  for (double* v : {&b.queueing_gpu_h, &b.checkpoint_save_gpu_h, &b.restart_gpu_h,
                    &b.lost_progress_gpu_h, &b.slowdown_gpu_h, &b.repair_downtime_gpu_h}) {
    *v /= 3600;
  }
  g.useful_gpu_h = useful / 3600;
  g.ettr = wall > 0 ? useful / wall : 0;
  g.runtime_goodput = allocated > 0 ? useful / allocated : 0;
  return g;
}

SchedulerStats ClusterLife::stats() const {
  FW_CHECK(end_ != SimTime::Never(), "statistics are known after Finish");
  SchedulerStats st;
  std::vector<double> waits;
  for (size_t i = 0; i < state_.size(); ++i) {
    const JobState& s = state_[i];
    // Jobs only: a service's replicas are counted by the service (site/life_services.h).
    if (s.phase == Phase::kNotSubmitted || jobs_[i].kind == JobKind::kService) continue;
    ++st.jobs_submitted;
    if (s.life.completed) ++st.jobs_completed;
    if (jobs_[i].deadline != SimTime::Never()) {
      ++st.jobs_with_deadline;
      if (DeadlineMissed(jobs_[i], s.life, end_)) ++st.deadlines_missed;
    }
    st.interruptions += s.life.failures;
    st.preemptions += s.life.preemptions;
    if (s.life.first_start == SimTime::Never()) continue;
    ++st.jobs_started;
    waits.push_back(Sec(s.life.first_start - jobs_[i].submit));
  }
  std::sort(waits.begin(), waits.end());
  st.wait_p50_s = NearestRank(waits, 0.50);
  st.wait_p90_s = NearestRank(waits, 0.90);
  st.wait_p99_s = NearestRank(waits, 0.99);
  const double capacity = static_cast<double>(topology_.gpus()) * Sec(end_);
  st.allocated_gpu_h = allocated_gpu_s_ / 3600;
  st.down_gpu_h = down_gpu_s_ / 3600;
  st.idle_gpu_h = idle_gpu_s_ / 3600;
  st.utilization = capacity > 0 ? allocated_gpu_s_ / capacity : 0;
  double frag = 0, free = 0;
  for (const LifeSample& s : samples_) {
    frag += static_cast<double>(s.fragmented_gpus);
    free += static_cast<double>(s.free_gpus);
  }
  if (!samples_.empty()) {
    st.fragmented_gpus_mean = frag / static_cast<double>(samples_.size());
    st.free_gpus_mean = free / static_cast<double>(samples_.size());
  }
  st.failures = static_cast<int>(failures_.size());
  for (uint8_t e : excluded_) st.excluded_nodes += e;
  return st;
}

}  // namespace firstwall::scheduler
