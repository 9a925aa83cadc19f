// firstwall catalog [--json]
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "apps/firstwall/commands.h"
#include "report/text_format.h"
#include "scenario/catalog.h"

namespace firstwall::cli {
namespace {
using namespace units;

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
                         {"file", c.origin.at(name)},
                         {"sources", g.sources}};
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
    std::cout << txt::json_text(j) << "\n";
    return kOk;
  }
  std::cout << txt::format("{:<16} {:>7} {:>13} {:>9} {:>10} {:>6} {:>6} {:>10}\n", "GPU", "vendor",
                           "bf16 TFLOP/s", "HBM", "HBM BW", "TDP", "idle", "NVLink");
  for (const auto& [name, g] : c.gpus) {
    std::cout << txt::format("{:<16} {:>7} {:>13g} {:>9} {:>10} {:>6} {:>6} {:>10}\n", name,
                             g.vendor, ToFlopPerSecond(*g.Peak(hardware::DataType::kBf16)) / 1e12,
                             Format(g.hbm_capacity), Format(g.hbm_bandwidth), Format(g.tdp),
                             Format(g.idle_power), Format(g.nvlink_bandwidth));
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
  std::cout
      << "\nSources of every figure: firstwall catalog --json, or the files under catalog/.\n";
  return kOk;
}

}  // namespace

Action RegisterCatalog(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("catalog", "List the GPUs and model cards firstwall knows");
  cmd->add_flag("--json", *json, "Print as JSON, with the source of every figure");
  return [json] { return ListCatalog(*json); };
}

}  // namespace firstwall::cli
