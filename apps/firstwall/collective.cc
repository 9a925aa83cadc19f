// firstwall collective: one collective over a GPU cluster's fabric, nccl-tests style.
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "apps/firstwall/catalog_args.h"
#include "apps/firstwall/commands.h"
#include "network/collective.h"
#include "report/text_format.h"
#include "scenario/catalog.h"
#include "scenario/loader.h"
#include "scenario/reader.h"
#include "units/parse.h"
#include "units/spelling.h"

namespace firstwall::cli {
namespace {
using namespace units;

// Values as written; the numbers are read through declarations (OptionSchema, and the scenario key
// --gpus-per-node stands for), so bounds live in one place.
struct CollectiveOptions {
  std::string op, bytes, gpu, fabric_file, algorithm = "auto";
  std::string gpus;
  std::string gpus_per_node = "8";
  bool json = false;
};

// The options of this command that no scenario key stands for, declared as keys are. The GPU
// count is bounded by the fabric the model can build (FabricProblem), not by a number here.
const scenario::Schema& OptionSchema() {
  using scenario::ValueType;
  static const scenario::Schema schema(
      "collective options",
      {{"bytes", ValueType::kQuantity, Dimension::kDataSize, true, "", "1 B", "1 PiB", "",
        "Message size per rank, with unit (\"64 MiB\")."},
       {"gpus", ValueType::kInt, Dimension::kPower, true, "", "2", "2147483647", "",
        "GPUs taking part, numbered from 0 on nodes of --gpus-per-node; at most what the "
        "fabric model can build (11,069,440 with the default fabric)."}});
  return schema;
}

// The fabric of `gpus` GPUs on nodes of `per_node`, its switches as in `base`.
network::FabricSpec Sized(network::FabricSpec base, int64_t gpus, int per_node) {
  base.gpus_per_node = static_cast<int>(std::min<int64_t>(per_node, gpus));
  base.nodes = static_cast<int>((gpus + base.gpus_per_node - 1) / base.gpus_per_node);
  return base;
}

// Why the model cannot build the fabric of `gpus` GPUs, with the most it can; "" when it can.
std::string FabricProblem(const network::FabricSpec& base, int gpus, int per_node) {
  auto fits = [&](int64_t n) {
    return network::Fabric::LinkCount(Sized(base, n, per_node)) <= network::kMaxFabricLinks;
  };
  if (fits(gpus)) return "";
  int64_t lo = 2, hi = gpus;  // fits(lo), !fits(hi)
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  return txt::format(
      "{} GPUs need a fabric of {} links; the fabric model builds at most {} (1 GiB of link "
      "state), which with this fabric is at most {} GPUs",
      gpus, network::Fabric::LinkCount(Sized(base, gpus, per_node)), network::kMaxFabricLinks, lo);
}

// Without a file, an empty mapping: every key takes its declared default.
network::FabricSpec ReadFabric(const std::string& path, network::FabricSpec spec) {
  std::string text = "{}";
  if (!path.empty()) {
    // Every fabric key has a default: an empty or comment-only file is the default fabric.
    const std::string problem = scenario::FileProblem(path);
    if (!problem.empty() && problem != "is empty") {
      throw InputError(
          {path, 0, 0},
          problem == "not found" ? "fabric file not found" : "the fabric file " + problem,
          "give the path to a fabric YAML file (docs/scenario.md, fabric file keys)");
    }
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  const scenario::Document doc = scenario::Document::Parse(text, path.empty() ? "<defaults>" : path,
                                                           scenario::Document::kEmptyIsDefaults);
  const scenario::Section s(doc, scenario::FabricSchema(), doc.root(), "", "", doc.At(doc.root()));
  spec.nic_per_gpu = s.Quantity<Bandwidth>("nic_bandwidth");
  scenario::ReadFabricSwitches(s, spec);
  spec.nvlink_latency = s.Quantity<Duration>("nvlink_latency");
  // The GPU card's own NVLink efficiency unless the fabric file says otherwise.
  if (s.Has("nvlink_efficiency")) spec.nvlink_efficiency = s.Fraction("nvlink_efficiency");
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
    std::vector<std::string> names;
    for (const auto& p : ops) names.emplace_back(p.first);
    const std::string near = units::NearestMatch(o.op, names);
    throw InputError({"--op", 0, 0}, "unknown collective '" + o.op + "'",
                     (near.empty() ? "" : "did you mean '" + near + "'? ") +
                         "expected all-reduce, all-gather, reduce-scatter or all-to-all");
  }
  const double bytes = scenario::OptionValue(OptionSchema(), "bytes", "--bytes", o.bytes)
                           .Quantity<DataSize>()
                           .base();
  const auto algorithm = network::AlgorithmFromName(o.algorithm);
  if (!algorithm) {
    throw InputError({"--algorithm", 0, 0}, "unknown algorithm '" + o.algorithm + "'",
                     "expected ring, tree, hierarchical, pairwise, nvls or auto");
  }
  if (!network::AlgorithmApplies(*algorithm, op->second)) {
    throw InputError(
        {"--algorithm", 0, 0}, "the " + o.algorithm + " algorithm does not apply to " + o.op,
        op->second == hardware::Collective::kAllToAll
            ? "all-to-all runs as a pairwise exchange: --algorithm pairwise or auto"
        : *algorithm == network::Algorithm::kTree || *algorithm == network::Algorithm::kNvls
            ? o.algorithm + " is an all-reduce algorithm; " + o.op +
                  " takes ring, hierarchical or auto"
            : "pairwise is the all-to-all algorithm; " + o.op +
                  " takes ring, hierarchical or auto");
  }
  const hardware::GpuSpec gpu = GpuArg(o.gpu);
  const scenario::OptionValue gpus_option(OptionSchema(), "gpus", "--gpus", o.gpus);
  const int gpus = gpus_option.Int();
  const int per_node = scenario::OptionValue(scenario::ScenarioSchema(), "cluster.gpus_per_node",
                                             "--gpus-per-node", o.gpus_per_node)
                           .Int();
  network::FabricSpec base;
  network::SetNvlinkFromCard(base, gpu);
  base = ReadFabric(o.fabric_file, base);
  if (const std::string problem = FabricProblem(base, gpus, per_node); !problem.empty()) {
    gpus_option.Fail(problem, "fewer GPUs, or a fabric with fewer planes (--fabric)");
  }
  const network::FabricSpec spec = Sized(base, gpus, per_node);
  const network::Fabric fabric(spec);
  std::vector<int> ranks(static_cast<size_t>(gpus));
  for (int i = 0; i < gpus; ++i) ranks[static_cast<size_t>(i)] = i;
  if (*algorithm == network::Algorithm::kNvls && !network::NvlsAvailable(fabric, ranks)) {
    throw InputError(
        {"--algorithm", 0, 0},
        gpu.collective.nvls_efficiency > 0
            ? fmt::format("nvls runs inside one NVLink domain; {} GPUs span {} domains of {}", gpus,
                          (gpus + fabric.domain_size() - 1) / fabric.domain_size(),
                          fabric.domain_size())
            : "nvls needs NVLink switches that reduce (NVLink SHARP, NVSwitch gen 3: Hopper or "
              "later); the " +
                  gpu.name + " card gives no collective.nvls_efficiency",
        "ring, tree, hierarchical or auto");
  }
  const network::CollectiveEstimate e = network::EstimateCollective(
      fabric, op->second, bytes, ranks, *algorithm, ToSeconds(gpu.collective.launch));
  // Tree and hierarchical are phases across nodes; inside one node the model runs them as the ring
  // (NCCL's intra-node chain). Say so rather than answer another algorithm silently.
  const bool replaced = *algorithm != network::Algorithm::kAuto && e.algorithm != *algorithm;
  const std::string note = replaced ? txt::format("{} asked for; inside one node it runs as the {}",
                                                  network::AlgorithmName(*algorithm),
                                                  network::AlgorithmName(e.algorithm))
                                    : "";
  if (o.json) {
    nlohmann::ordered_json j = {{"op", o.op},
                                {"bytes", bytes},
                                {"gpus", gpus},
                                {"gpu", gpu.name},
                                {"algorithm", std::string(network::AlgorithmName(e.algorithm))},
                                {"time_s", e.time_s},
                                {"algbw_bytes_per_s", e.algbw_bytes_per_s},
                                {"busbw_bytes_per_s", e.busbw_bytes_per_s}};
    if (replaced) j["algorithm_note"] = note;
    std::cout << txt::json_text(j) << "\n";
    return kOk;
  }
  std::cout << txt::format(
      "{} of {} on {} x {} ({} {} of {}): {} algorithm\n  time {:.3f} ms, algbw {:.1f} GB/s, "
      "busbw {:.1f} GB/s\n",
      o.op, FormatReadableAs(bytes, Dimension::kDataSize, o.bytes), gpus, gpu.name, spec.nodes,
      spec.nodes == 1 ? "node" : "nodes", spec.gpus_per_node, network::AlgorithmName(e.algorithm),
      1e3 * e.time_s, e.algbw_bytes_per_s / 1e9, e.busbw_bytes_per_s / 1e9);
  if (replaced) std::cout << "  note: " << note << "\n";
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
  cmd->add_option("--gpus", o->gpus,
                  "GPUs taking part, from 2 to what the fabric model can build (11,069,440 with "
                  "the default fabric; fewer with more planes)")
      ->required();
  cmd->add_option("--gpus-per-node", o->gpus_per_node, "GPUs per node")->capture_default_str();
  cmd->add_option("--fabric", o->fabric_file,
                  "Fabric YAML (docs/scenario.md, fabric file keys); default: rail-optimized, "
                  "non-blocking, one 400 Gb/s NIC per GPU");
  cmd->add_option("--algorithm", o->algorithm,
                  "ring, tree (all-reduce), hierarchical, pairwise (all-to-all), nvls (all-reduce "
                  "inside one NVLink domain, Hopper or later) or auto")
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "Print JSON");
  return [o] { return RunCollective(*o); };
}

}  // namespace firstwall::cli
