// firstwall catalog [--json]: GPUs, systems (catalog/systems), model cards and fabrics.
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "apps/firstwall/commands.h"
#include "network/fabric_power.h"
#include "report/text_format.h"
#include "scenario/catalog.h"
#include "workload/training_step.h"

namespace firstwall::cli {
namespace {
using namespace units;

// What the card says the GPU runs: its data types (peak_dense), the one training and serving use
// unless asked, and its attention kernel.
nlohmann::ordered_json Capabilities(const hardware::GpuSpec& g) {
  nlohmann::ordered_json types = nlohmann::ordered_json::array();
  for (const auto& [t, r] : g.peak_dense) types.push_back(std::string(hardware::DataTypeName(t)));
  const int fa = g.capabilities.flash_attention;
  return {
      {"data_types", types},
      {"default_dtype", std::string(hardware::DataTypeName(g.DefaultDataType()))},
      {"flash_attention", fa == 0 ? nlohmann::ordered_json("none") : nlohmann::ordered_json(fa)},
      {"attention_kernel", workload::AttentionKernelName(g, workload::AttentionKernel::kFlash)}};
}

int ListCatalog(bool json) {
  const scenario::Catalog& c = scenario::BuiltinCatalog();
  if (json) {
    nlohmann::ordered_json j;
    for (const auto& [name, g] : c.gpus) {
      nlohmann::ordered_json peaks;
      for (const auto& [t, r] : g.peak_dense) {
        peaks[std::string(hardware::DataTypeName(t))] = ToFlopPerSecond(r) / 1e12;
      }
      j["gpus"][name] = {{"vendor", g.vendor},
                         {"peak_dense_tflop_per_s", peaks},
                         {"hbm_capacity_bytes", ToBytes(g.hbm_capacity)},
                         {"hbm_bandwidth_bytes_per_s", ToBytesPerSecond(g.hbm_bandwidth)},
                         {"tdp_w", ToWatts(g.tdp)},
                         {"idle_power_w", ToWatts(g.idle_power)},
                         {"nvlink_bandwidth_bytes_per_s", ToBytesPerSecond(g.nvlink_bandwidth)},
                         {"capabilities", Capabilities(g)},
                         {"file", c.origin.at(name)},
                         {"sources", g.sources}};
    }
    for (const auto& [name, y] : c.systems) {
      j["systems"][name] = {
          {"vendor", y.vendor},
          {"gpu", y.gpu},
          {"gpus_per_node", y.gpus_per_node},
          {"nvlink_domain", y.nvlink_domain},
          {"nodes_per_rack", y.nodes_per_rack},
          {"node_base_power_w", ToWatts(y.node_base_power)},
          {"rack_power_w", y.rack_power ? nlohmann::ordered_json(ToWatts(*y.rack_power)) : nullptr},
          {"liquid_share", y.liquid_share ? nlohmann::ordered_json(*y.liquid_share) : nullptr},
          {"file", c.origin.at(name)},
          {"sources", y.sources}};
    }
    for (const auto& [name, m] : c.models) {
      j["models"][name] = {{"layers", m.layers},
                           {"hidden_size", m.hidden_size},
                           {"attention_heads", m.attention_heads},
                           {"kv_heads", m.kv_heads},
                           {"ffn_hidden_size", m.ffn_hidden_size},
                           {"vocab_size", m.vocab_size},
                           {"params", m.TotalParams()},
                           {"note", c.notes.count(name) ? nlohmann::ordered_json(c.notes.at(name))
                                                        : nlohmann::ordered_json(nullptr)},
                           {"file", c.origin.at(name)}};
    }
    for (network::FabricTransport t : network::kFabricTransports) {
      const network::SwitchSystem& sw = network::SwitchOf(t);
      j["fabrics"][std::string(network::TransportKey(t))] = {
          {"transport", network::TransportName(t)},
          {"switch", sw.name},
          {"ports", sw.ports},
          {"port_bytes_per_s", ToBytesPerSecond(sw.top_port)},
          {"split_ports", sw.split_ports},
          {"switch_power_w", ToWatts(sw.power)},
          {"routing", network::AdaptiveByDefault(t) ? "adaptive" : "ecmp"},
          {"sources", {sw.source}}};
    }
    for (network::FabricOptics o : network::kFabricOptics) {
      j["optics"][std::string(network::OpticsKey(o))] = {
          {"w_per_400g_port", ToWatts(network::OpticsPortWatts(o, GigabitsPerSecond(400)))},
          {"w_per_800g_port", ToWatts(network::OpticsPortWatts(o, GigabitsPerSecond(800)))},
          {"sources", "src/network/fabric_power.h"}};
    }
    std::cout << txt::json_text(j) << "\n";
    return kOk;
  }
  // The peak column is the default data type's (bf16, or fp16 on a card without bf16). The
  // scale-up column is each chip's own fabric: NVLink, TPU ICI or AMD Infinity Fabric.
  std::cout << txt::format("{:<16} {:>7} {:>14} {:>9} {:>10} {:>6} {:>6} {:>10}  {:<33} {}\n",
                           "GPU", "vendor", "16-bit TFLOP/s", "HBM", "HBM BW", "TDP", "idle",
                           "scale-up", "data types", "attention");
  for (const auto& [name, g] : c.gpus) {
    const hardware::DataType t = g.DefaultDataType();
    std::cout << txt::format(
        "{:<16} {:>7} {:>9g} {:<4} {:>9} {:>10} {:>6} {:>6} {:>10}  {:<33} {}\n", name, g.vendor,
        ToFlopPerSecond(*g.Peak(t)) / 1e12, hardware::DataTypeName(t), Format(g.hbm_capacity),
        Format(g.hbm_bandwidth), Format(g.tdp), Format(g.idle_power), Format(g.nvlink_bandwidth),
        g.DataTypeList(), workload::AttentionKernelName(g, workload::AttentionKernel::kFlash));
  }
  // Systems: how their GPUs are racked; the figures are cluster.system's defaults.
  // The scale-up column: GPUs joined by the scale-up fabric (an NVLink domain, a TPU slice's ICI).
  std::cout << txt::format("\n{:<12} {:<16} {:>9} {:>8} {:>10} {:>10} {:>10} {:>7}\n", "system",
                           "GPU", "GPUs/node", "scale-up", "nodes/rack", "node base", "rack power",
                           "liquid");
  for (const auto& [name, y] : c.systems) {
    std::cout << txt::format(
        "{:<12} {:<16} {:>9} {:>8} {:>10} {:>10} {:>10} {:>7}\n", name, y.gpu, y.gpus_per_node,
        y.nvlink_domain, y.nodes_per_rack, Format(y.node_base_power),
        y.rack_power ? Format(*y.rack_power) : std::string("-"),
        y.liquid_share ? txt::format("{:.0f} %", *y.liquid_share * 100) : std::string("-"));
  }
  std::cout << txt::format("\n{:<14} {:>7} {:>7} {:>6} {:>4} {:>7} {:>8} {:>9}\n", "model",
                           "params", "layers", "hidden", "kv", "ffn", "vocab", "mlp");
  for (const auto& [name, m] : c.models) {
    // A count with a caveat is marked; the card's note follows the table.
    std::cout << txt::format("{:<14} {:>6.1f}B{} {:>6} {:>6} {:>4} {:>7} {:>8} {:>9}\n", name,
                             m.TotalParams() / 1e9, c.notes.count(name) ? "*" : " ", m.layers,
                             m.hidden_size, m.kv_heads, m.ffn_hidden_size, m.vocab_size,
                             m.ffn_type == workload::FfnType::kSwiglu ? "swiglu" : "gelu");
  }
  for (const auto& [name, note] : c.notes) std::cout << "\n* " << name << ": " << note << "\n";
  // Scale-out fabrics (cluster.fabric.technology): the switch each is built from, its power
  // without optics, and the routing it defaults to.
  std::cout << txt::format("\n{:<15} {:<20} {:<25} {:>12} {:>8} {:>8}\n", "fabric", "transport",
                           "switch", "ports", "power", "routing");
  for (network::FabricTransport t : network::kFabricTransports) {
    const network::SwitchSystem& sw = network::SwitchOf(t);
    std::cout << txt::format(
        "{:<15} {:<20} {:<25} {:>12} {:>8} {:>8}\n", network::TransportKey(t),
        network::TransportName(t), sw.name,
        txt::format("{} x {:.0f}G", sw.ports, ToBytesPerSecond(sw.top_port) * 8 / 1e9),
        Format(sw.power), network::AdaptiveByDefault(t) ? "adaptive" : "ecmp");
  }
  auto port_w = [](network::FabricOptics o) {
    return ToWatts(network::OpticsPortWatts(o, GigabitsPerSecond(400)));
  };
  std::cout << txt::format(
      "optics a 400G switch port: pluggable {:.2f} W, cpo {:.2f} W, copper {:.2f} W\n",
      port_w(network::FabricOptics::kPluggable), port_w(network::FabricOptics::kCpo),
      port_w(network::FabricOptics::kCopper));
  std::cout << "\nSources of every figure: firstwall catalog --json, or the files under catalog/ "
               "(the fabrics' and optics': src/network/fabric_power.h).\n";
  return kOk;
}

}  // namespace

Action RegisterCatalog(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "catalog", "List the GPUs, systems, model cards and fabrics firstwall knows");
  cmd->add_flag("--json", *json, "Print as JSON, with the source of every figure");
  return [json] { return ListCatalog(*json); };
}

}  // namespace firstwall::cli
