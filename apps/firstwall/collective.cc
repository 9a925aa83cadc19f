// firstwall collective: one collective over a GPU cluster's fabric, nccl-tests style.
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "apps/firstwall/commands.h"
#include "network/collective.h"
#include "scenario/catalog.h"
#include "scenario/loader.h"
#include "scenario/reader.h"
#include "units/parse.h"

namespace firstwall::cli {
namespace {
using namespace units;

struct CollectiveOptions {
  std::string op, bytes, gpu, fabric_file, algorithm = "auto";
  int gpus = 0;
  int gpus_per_node = 8;
  bool json = false;
};

// Without a file, an empty mapping: every key takes its declared default.
network::FabricSpec ReadFabric(const std::string& path, network::FabricSpec spec) {
  std::string text = "{}";
  if (!path.empty()) {
    std::ifstream in(path);
    if (!in) throw InputError({path, 0, 0}, "fabric file not found");
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  const scenario::Document doc =
      scenario::Document::Parse(text, path.empty() ? "<defaults>" : path);
  const scenario::Section s(doc, scenario::FabricSchema(), doc.root(), "", "", doc.At(doc.root()));
  spec.nic_per_gpu = s.Quantity<Bandwidth>("nic_bandwidth");
  scenario::ReadFabricSwitches(s, spec);
  spec.nvlink_latency = s.Quantity<Duration>("nvlink_latency");
  spec.nvlink_efficiency = s.Fraction("nvlink_efficiency");
  spec.network_efficiency = s.Fraction("network_efficiency");
  return spec;
}

int RunCollective(const CollectiveOptions& o) {
  const std::pair<const char*, hardware::Collective> ops[] = {
      {"all-reduce", hardware::Collective::kAllReduce},
      {"all-gather", hardware::Collective::kAllGather},
      {"reduce-scatter", hardware::Collective::kReduceScatter},
      {"all-to-all", hardware::Collective::kAllToAll}};
  const auto* op =
      std::find_if(std::begin(ops), std::end(ops), [&](const auto& p) { return o.op == p.first; });
  if (op == std::end(ops)) {
    throw InputError({"--op", 0, 0}, "unknown collective '" + o.op + "'",
                     "expected all-reduce, all-gather, reduce-scatter or all-to-all");
  }
  double bytes = 0;
  try {
    bytes = ParseBase(o.bytes, Dimension::kDataSize);
  } catch (const UnitParseError& e) {
    throw InputError({"--bytes", 0, 0}, e.what(), e.hint());
  }
  if (bytes <= 0) throw InputError({"--bytes", 0, 0}, "the message size must be positive");
  const auto algorithm = network::AlgorithmFromName(o.algorithm);
  if (!algorithm) {
    throw InputError({"--algorithm", 0, 0}, "unknown algorithm '" + o.algorithm + "'",
                     "expected ring, tree, hierarchical or auto");
  }
  const auto& gpus = scenario::BuiltinCatalog().gpus;
  auto g = gpus.find(o.gpu);
  if (g == gpus.end()) {
    throw InputError({"--gpu", 0, 0}, "unknown GPU '" + o.gpu + "'",
                     scenario::UnknownNameHint(o.gpu, gpus));
  }
  if (o.gpus < 2) throw InputError({"--gpus", 0, 0}, "a collective needs at least 2 GPUs");
  network::FabricSpec spec;
  spec.gpus_per_node = std::min(o.gpus_per_node, o.gpus);
  spec.nodes = (o.gpus + spec.gpus_per_node - 1) / spec.gpus_per_node;
  spec.nvlink_per_gpu = g->second.NvlinkPerDirection();
  spec = ReadFabric(o.fabric_file, spec);
  const network::Fabric fabric(spec);
  std::vector<int> ranks(static_cast<size_t>(o.gpus));
  for (int i = 0; i < o.gpus; ++i) ranks[static_cast<size_t>(i)] = i;
  const network::CollectiveEstimate e =
      network::EstimateCollective(fabric, op->second, bytes, ranks, *algorithm);
  if (o.json) {
    nlohmann::ordered_json j = {{"op", o.op},
                                {"bytes", bytes},
                                {"gpus", o.gpus},
                                {"gpu", o.gpu},
                                {"algorithm", std::string(network::AlgorithmName(e.algorithm))},
                                {"time_s", e.time_s},
                                {"algbw_bytes_per_s", e.algbw_bytes_per_s},
                                {"busbw_bytes_per_s", e.busbw_bytes_per_s}};
    std::cout << j.dump(2) << "\n";
    return kOk;
  }
  std::cout << fmt::format(
      "{} of {} on {} x {} ({} nodes of {}): {} algorithm\n  time {:.3f} ms, algbw {:.1f} GB/s, "
      "busbw {:.1f} GB/s\n",
      o.op, Readable(Bytes(bytes)), o.gpus, o.gpu, spec.nodes, spec.gpus_per_node,
      network::AlgorithmName(e.algorithm), 1e3 * e.time_s, e.algbw_bytes_per_s / 1e9,
      e.busbw_bytes_per_s / 1e9);
  return kOk;
}

}  // namespace

Action RegisterCollective(CLI::App& app) {
  auto o = std::make_shared<CollectiveOptions>();
  CLI::App* cmd = app.add_subcommand(
      "collective", "Time of one collective over the cluster's fabric (nccl-tests conventions)");
  cmd->add_option("--op", o->op, "all-reduce, all-gather, reduce-scatter or all-to-all")
      ->required();
  cmd->add_option("--bytes", o->bytes, "Message size per rank, with unit (\"64 MiB\")")->required();
  cmd->add_option("--gpu", o->gpu, "GPU: catalog name")->required();
  cmd->add_option("--gpus", o->gpus, "GPUs taking part")->required();
  cmd->add_option("--gpus-per-node", o->gpus_per_node, "GPUs per node")
      ->capture_default_str()
      ->check(CLI::Range(1, 72));
  cmd->add_option("--fabric", o->fabric_file,
                  "Fabric YAML (docs/scenario.md, fabric file keys); default: rail-optimized, "
                  "non-blocking, one 400 Gb/s NIC per GPU");
  cmd->add_option("--algorithm", o->algorithm, "ring, tree, hierarchical or auto")
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "Print JSON");
  return [o] { return RunCollective(*o); };
}

}  // namespace firstwall::cli
