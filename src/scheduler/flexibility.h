// Power- and carbon-aware scheduling, the queue's side: flexible jobs (JobSpec::flexible) whose
// first start the host's gate defers.
//
// When a flexible job is submitted for its first start, ClusterLife asks the host
// (Host::MayStartFlexible). If the gate is open the job queues as any other. If it is closed the
// job is held: it counts as queued (queued_s, the queued samples) but the Scheduler does not see
// it, so it neither blocks the jobs behind it under fcfs/sjf (no head-of-line blocking) nor gets
// an EASY reservation, and it takes no quota. A held job is released to the Scheduler
//   - at the first check instant (a multiple of FlexibilityOptions::check_every from time zero:
//     the tariff's hour edges for the default hour) at which the gate is open: every held job at
//     once, in id order; or
//   - at its own release time, whatever the gate says (nothing starves): submit + max_delay, or
//     sooner the latest start that still meets the job's deadline (JobSpec::deadline) at nominal
//     speed (scheduler::LatestStart: deadline less its work and checkpoint writes). A job
//     already past that latest start is not held at all.
// Released, it queues by its original JobSpec (its submit time keeps its place under fcfs and
// easy, ahead of jobs submitted after it). Restarts after a failure or a preemption are not held:
// the job already started, and its progress since the last checkpoint is what waiting would cost.
// Checks are scheduled only while a job is held, so a run without held jobs has no extra events.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <vector>

#include "core/event_queue.h"
#include "core/sim_time.h"
#include "scheduler/job.h"

namespace firstwall::scheduler {

struct FlexibilityOptions {
  bool enabled = false;  // false: no job is ever held
  bool defer = true;     // hold flexible first starts while the gate is closed (else: caps only)
  // Longest hold of one job; then it is released whatever the gate says. Never: no bound.
  SimTime max_delay = SimTime::Never();
  // Period of the gate's checks while jobs are held, counted from time zero (1 h: the tariff's
  // hour edges).
  SimTime check_every = SimTime::FromNanoseconds(3'600'000'000'000);
};

// Per job, what the hold did (zeros for jobs never held).
struct HoldRecord {
  SimTime held_at = SimTime::Never();   // when it was held; Never: never held
  SimTime released = SimTime::Never();  // when it went to the Scheduler; Never: still held
  bool by_deadline = false;             // released by max_delay with the gate still closed
  bool by_latest_start = false;  // released at its latest start for its deadline, gate closed
};

class FlexibleHold {
 public:
  // Whether a flexible job may start at `now` (the host's gate).
  using Gate = std::function<bool(SimTime now)>;
  // Hands a held job to the Scheduler at `now` (ClusterLife submits it and asks for a pass).
  using Release = std::function<void(JobId job, SimTime now)>;
  // `events` must outlive this. FW_CHECK: options enabled, check_every > 0, max_delay > 0.
  FlexibleHold(FlexibilityOptions options, EventQueue& events, Gate gate, Release release);

  // A flexible job submitted for its first start at `now`: true when the gate is closed and the
  // job is now held (the caller must not submit it), false when it may queue at once.
  // `latest_start` (Never: none) is the last instant its hold may last: the job's deadline less
  // its work; at or before `now`, the job is not held.
  bool Hold(JobId job, SimTime now, SimTime latest_start = SimTime::Never());

  const FlexibilityOptions& options() const { return options_; }
  int held() const { return static_cast<int>(held_.size()); }
  // Per job id (shorter than the job list when the last jobs were never held).
  const std::vector<HoldRecord>& records() const { return records_; }
  // Seconds job was held, counting a hold still in force up to `end`.
  double HeldSeconds(JobId job, SimTime end) const;

 private:
  void ScheduleCheck(SimTime now);
  void Check(SimTime at);
  // At the job's max_delay, or its `latest_start` for its deadline.
  void ReleaseAtDeadline(JobId job, SimTime now, bool latest_start);

  FlexibilityOptions options_;
  EventQueue& events_;
  Gate gate_;
  Release release_;
  std::set<JobId> held_;  // ascending: released in id order
  std::vector<HoldRecord> records_;
  SimTime check_at_ = SimTime::Never();  // the pending check; Never: none
};

}  // namespace firstwall::scheduler
