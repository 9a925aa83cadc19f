// ClusterLife's side of services in the pool (site/life_services.h): a replica the service no
// longer wants leaves the queue or gives its nodes back. Apart from cluster_life.cc so the
// services' code stays in its own file.
#include "core/error.h"
#include "scheduler/cluster_life.h"

namespace firstwall::scheduler {

void ClusterLife::Withdraw(JobId job, SimTime now) {
  JobState& s = state_.at(job);
  FW_CHECK(s.phase != Phase::kNotSubmitted, "a job is withdrawn before it was submitted");
  if (s.phase == Phase::kDone) return;
  Accrue(job, now);
  switch (s.phase) {
    case Phase::kQueued:
      queued_.Add(-1, now);
      scheduler_->Release(job);  // withdraws it from the queue
      break;
    case Phase::kDetecting:
      // Its attempt ended as failed; it gives back the nodes it hung on to.
      ReleaseNodes(job, now, /*scheduler_knows=*/false);
      break;
    default:
      StopAttempt(job, AttemptEnd::kReleased, now);
      ReleaseNodes(job, now, /*scheduler_knows=*/false);
      break;
  }
  s.phase = Phase::kDone;
  s.phase_since = now;
  ++s.gen;
  if (s.life.first_start != SimTime::Never()) s.life.end = now;
  RequestPass(now);
}

}  // namespace firstwall::scheduler
