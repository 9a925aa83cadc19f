// Services in a scheduler's pool (site/life_services.h): `services[].priority` and the checks a
// pooled service needs. Internal to the loader.
#pragma once

#include "scenario/reader.h"
#include "site/site_config.h"

namespace firstwall::scenario {

// Without `scheduler:`, refuses services[].priority (it would be silently ignored). With it, gives
// every service its replicas' priority in the pool (its own, else one above the highest priority
// of the queue's jobs), refuses a service one replica of which could never start (more nodes than
// the cluster has outside its spares, outside one NVLink domain, or over its tenant's quota) and
// power_swings (a pooled service's power is not kept for the replay), and warns when the policy
// is not `priority` (the replicas then queue behind earlier jobs and preempt nothing). After
// ReadLife.
void ReadPooledServices(const Section& root, site::SiteConfig& cfg);

}  // namespace firstwall::scenario
