// Which of the site's link faults slow a disaggregated service's KV transfers.
//
// A prefill replica sends each prompt's KV from every one of its GPUs at once, each GPU its own
// share over its own link: the NIC (every plane of a multi-plane fabric, striped evenly) or, with
// `over: nvlink`, its NVLink port. The transfer ends when the slowest GPU's share is through, so a
// replica's KV link runs at the smallest health of its GPUs' sending links. Faults are the
// scenario's `faults` and `random_faults` (FaultConfig): a fault of a NIC, of a leaf (all its
// NICs) or of an NVLink port reaches the transfer; a spine or trunk fault does not, since the
// serving model has no fabric contention (docs/models.md, "Disaggregation").
//
// Placement: a service's replicas fill its nodes in order (Site places services on consecutive
// nodes after the scenario's jobs, in the order listed), as many a node as fit when a replica is
// smaller than a node, else each on its own whole nodes; the first prefill_replicas replicas
// prefill (workload/serving.h).
#pragma once

#include <vector>

#include "network/fabric.h"
#include "site/site_config.h"
#include "workload/serving.h"

namespace firstwall::site {

// Per prefill replica of `service` placed from `first_node`, the health of its slowest sending
// link over time (seconds of the site's clock) under `faults`; empty when no fault touches them.
// Link ids are `fabric`'s, which must be the site's fabric.
std::vector<std::vector<workload::LinkHealthStep>> PrefillLinkHealth(
    const network::Fabric& fabric, const std::vector<FaultConfig>& faults,
    const ServiceConfig& service, int first_node, int gpus_per_node);

}  // namespace firstwall::site
