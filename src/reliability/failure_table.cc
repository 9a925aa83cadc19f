#include "reliability/failure_table.h"

#include <cmath>

#include "core/error.h"

namespace firstwall::reliability {

std::string_view ComponentName(Component c) {
  switch (c) {
    case Component::kGpu:
      return "gpu";
    case Component::kHbm:
      return "hbm";
    case Component::kNic:
      return "nic";
    case Component::kCable:
      return "cable";
    case Component::kHost:
      return "host";
    case Component::kPsu:
      return "psu";
    case Component::kSoftware:
      return "software";
  }
  return "?";
}

double ComponentsPerCluster(Component c, int64_t gpus, int gpus_per_node) {
  FW_CHECK(gpus >= 1 && gpus_per_node >= 1, "a cluster has at least one GPU and one per node");
  switch (c) {
    case Component::kHost:
    case Component::kPsu:
      return static_cast<double>((gpus + gpus_per_node - 1) / gpus_per_node);
    case Component::kGpu:
    case Component::kHbm:
    case Component::kNic:  // one NIC and one cable per GPU on rail-optimized nodes (Llama 3 §3.3.1)
    case Component::kCable:
    case Component::kSoftware:
      return static_cast<double>(gpus);
  }
  return 0;
}

const FailureTable& Llama3FailureTable() {
  // Llama 3 Table 5 counts over 54 days on 16,384 H100 in nodes of 8.
  constexpr int64_t kGpus = 16384;
  constexpr int kPerNode = 8;
  constexpr double kDays = 54;
  struct Count {
    const char* name;
    Component component;
    int events;
  };
  static const Count kCounts[] = {
      {"faulty GPU", Component::kGpu, 148},
      {"GPU HBM3 memory", Component::kHbm, 72},
      {"software bug", Component::kSoftware, 54},
      {"network switch or cable", Component::kCable, 35},
      {"host maintenance", Component::kHost, 32},
      {"GPU SRAM memory", Component::kGpu, 19},
      {"GPU system processor", Component::kGpu, 17},
      {"NIC", Component::kNic, 7},
      {"NCCL watchdog timeout", Component::kSoftware, 7},
      {"silent data corruption", Component::kGpu, 6},
      {"GPU thermal interface or sensor", Component::kGpu, 6},
      {"SSD", Component::kHost, 3},
      {"power supply", Component::kPsu, 3},
      {"server chassis", Component::kHost, 2},
      {"IO expansion board", Component::kHost, 2},
      {"dependency", Component::kSoftware, 2},
      {"CPU", Component::kHost, 2},
      {"system memory", Component::kHost, 2},
  };
  static const FailureTable table = [&] {
    FailureTable t;
    t.source =
        "Llama Team, The Llama 3 Herd of Models, arXiv:2407.21783 (2024), Table 5: 419 unexpected "
        "interruptions in 54 days on 16,384 H100 (nodes of 8)";
    t.gpu = "H100-SXM5-80GB";
    for (const Count& c : kCounts) {
      const double exposure = ComponentsPerCluster(c.component, kGpus, kPerNode) * kDays;
      t.causes.push_back({c.name, c.component, 1000.0 * c.events / exposure});
    }
    return t;
  }();
  return table;
}

InterruptionForecast Forecast(const FailureTable& table, int64_t gpus, int gpus_per_node,
                              double days) {
  FW_CHECK(days > 0 && std::isfinite(days), "a forecast covers a positive period");
  InterruptionForecast f;
  for (const FailureCause& c : table.causes) {
    const double n = c.per_1000_component_days / 1000.0 *
                     ComponentsPerCluster(c.component, gpus, gpus_per_node) * days;
    f.by_cause.push_back({&c, n});
    f.interruptions += n;
  }
  f.mtbi_h = f.interruptions > 0 ? 24.0 * days / f.interruptions : INFINITY;
  return f;
}

}  // namespace firstwall::reliability
