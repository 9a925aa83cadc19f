#include "scheduler/flexibility.h"

#include <utility>

#include "core/error.h"

namespace firstwall::scheduler {

FlexibleHold::FlexibleHold(FlexibilityOptions options, EventQueue& events, Gate gate,
                           Release release)
    : options_(options), events_(events), gate_(std::move(gate)), release_(std::move(release)) {
  FW_CHECK(options_.enabled, "a flexible hold needs flexibility enabled");
  FW_CHECK(options_.check_every > SimTime(), "the gate's check period must be positive");
  FW_CHECK(options_.max_delay > SimTime(), "the longest hold must be positive");
}

bool FlexibleHold::Hold(JobId job, SimTime now, SimTime latest_start) {
  if (!options_.defer || latest_start <= now || gate_(now)) return false;
  if (records_.size() <= static_cast<size_t>(job)) records_.resize(static_cast<size_t>(job) + 1);
  HoldRecord& r = records_[static_cast<size_t>(job)];
  FW_CHECK(r.held_at == SimTime::Never(), "a job is held twice");
  r.held_at = now;
  held_.insert(job);
  ScheduleCheck(now);
  const SimTime by_delay = options_.max_delay == SimTime::Never() ||
                                   now.ns() > SimTime::Never().ns() - options_.max_delay.ns()
                               ? SimTime::Never()
                               : now + options_.max_delay;
  const bool latest = latest_start < by_delay;
  const SimTime deadline = latest ? latest_start : by_delay;
  if (deadline != SimTime::Never()) {
    events_.Schedule(deadline, "flexible deadline", [this, job, deadline, latest] {
      if (held_.count(job) != 0) ReleaseAtDeadline(job, deadline, latest);
    });
  }
  return true;
}

double FlexibleHold::HeldSeconds(JobId job, SimTime end) const {
  if (static_cast<size_t>(job) >= records_.size()) return 0;
  const HoldRecord& r = records_[static_cast<size_t>(job)];
  if (r.held_at == SimTime::Never()) return 0;
  const SimTime until = r.released == SimTime::Never() ? end : r.released;
  return static_cast<double>((until - r.held_at).ns()) / 1e9;
}

// The next multiple of check_every strictly after `now`, once: one pending check serves every
// held job.
void FlexibleHold::ScheduleCheck(SimTime now) {
  const int64_t period = options_.check_every.ns();
  if (now.ns() > SimTime::Never().ns() - period) return;
  const SimTime at = SimTime::FromNanoseconds((now.ns() / period + 1) * period);
  if (check_at_ != SimTime::Never() && check_at_ <= at) return;
  check_at_ = at;
  events_.Schedule(at, "flexible gate", [this, at] {
    if (check_at_ == at) Check(at);
  });
}

void FlexibleHold::Check(SimTime at) {
  check_at_ = SimTime::Never();
  if (held_.empty()) return;
  if (!gate_(at)) {
    ScheduleCheck(at);
    return;
  }
  // Release moves each job to the Scheduler; none comes back into held_ (first starts only).
  const std::set<JobId> all = std::move(held_);
  held_.clear();
  for (JobId job : all) {
    HoldRecord& r = records_[static_cast<size_t>(job)];
    r.released = at;
    release_(job, at);
  }
}

void FlexibleHold::ReleaseAtDeadline(JobId job, SimTime now, bool latest_start) {
  held_.erase(job);
  HoldRecord& r = records_[static_cast<size_t>(job)];
  r.released = now;
  (latest_start ? r.by_latest_start : r.by_deadline) = true;
  release_(job, now);
}

}  // namespace firstwall::scheduler
