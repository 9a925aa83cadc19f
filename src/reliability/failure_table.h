// Interruptions of a training cluster by cause, as rates per component.
//
// A cause (a faulty GPU, an HBM error, a switch or cable) belongs to one kind of component; its
// rate is in events per 1,000 component-days, so a cluster's expected interruptions over a period
// are
//   E[N] = sum over causes of rate_c / 1000 x components_c(cluster) x days
// and the mean time between interruptions is the period over E[N]. Components are counted per GPU
// (GPU, HBM, NIC, cable, software) or per node (host, PSU); see ComponentsPerCluster.
//
// The default table is Meta's record of the Llama 3 405B pre-training: 419 unexpected
// interruptions in a 54-day snapshot on 16,384 H100 in 2,048 nodes of 8 (Llama Team, "The Llama 3
// Herd of Models", arXiv:2407.21783, 2024, §3.3.4 and Table 5). Each cause's rate is its count
// over the exposure of its component in that cluster; software causes (bugs, NCCL watchdog
// timeouts, dependencies) are charged per GPU, i.e. they are assumed to grow with the size of the
// job as the hardware causes do. The 47 planned interruptions of the same period are not
// failures and are not in the table.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace firstwall::reliability {

enum class Component { kGpu, kHbm, kNic, kCable, kHost, kPsu, kSoftware };

std::string_view ComponentName(Component c);  // "gpu", "hbm", ...

struct FailureCause {
  std::string name;                // "faulty GPU"
  Component component;             // what fails
  double per_1000_component_days;  // events per 1,000 component-days (> 0)
};

struct FailureTable {
  std::vector<FailureCause> causes;
  std::string source;  // citation of the rates
  std::string gpu;     // catalog name of the GPU the rates were measured on
};

// The Llama 3 table above, rates derived from its counts.
const FailureTable& Llama3FailureTable();

// How many components of kind `c` a cluster of `gpus` GPUs on nodes of `gpus_per_node` has
// (per-node components: ceil(gpus / gpus_per_node)). gpus >= 1, gpus_per_node >= 1.
double ComponentsPerCluster(Component c, int64_t gpus, int gpus_per_node);

struct CauseExpectation {
  const FailureCause* cause;
  double interruptions;  // expected over the period
};

struct InterruptionForecast {
  double interruptions = 0;                // expected, all causes
  double mtbi_h = 0;                       // mean time between interruptions, hours
  std::vector<CauseExpectation> by_cause;  // in table order
};

// Expected interruptions of one synchronous job on the whole cluster over `days` (> 0): every
// component failure interrupts it (a Poisson process at the summed rate).
InterruptionForecast Forecast(const FailureTable& table, int64_t gpus, int gpus_per_node,
                              double days);

}  // namespace firstwall::reliability
