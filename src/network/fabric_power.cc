#include "network/fabric_power.h"

#include <algorithm>
#include <cmath>

namespace firstwall::network {
using namespace units;

namespace {

// Sources in fabric_power.h.
constexpr SwitchSystem kQuantum2{
    "NVIDIA Quantum-2 QM9700",
    64,
    GigabitsPerSecond(400),
    128,
    Watts(747),
    "NVIDIA QM97x0 user manual (Specifications: typical power with passive cables, quoted by "
    "third parties; Interfaces: 64 x 400 Gb/s, 2 ports a cage)"};
constexpr SwitchSystem kSpectrum4{
    "NVIDIA Spectrum-4 SN5600",
    64,
    GigabitsPerSecond(800),
    256,
    Watts(940),
    "NVIDIA SN5000 user manual (Data Interfaces: 64 x 800 GbE to 256 x 200 GbE; Specifications: "
    "typical power with passive cables, quoted by third parties)"};

constexpr double kPluggableJoulesPerBit = 17.0 / 800e9;  // MMS4X00-NS-T: 17 W, 2 x 400 Gb/s
constexpr double kCpoEfficiencyGain = 3.5;               // NVIDIA Photonics, GTC 2025
constexpr double kCopperPortWatts = 0.1;                 // passive DAC, MCP7H00

}  // namespace

std::string_view TransportKey(FabricTransport t) {
  switch (t) {
    case FabricTransport::kInfiniBand:
      return "infiniband";
    case FabricTransport::kRoce:
      return "roce";
    case FabricTransport::kSpectrumX:
      return "spectrum-x";
    case FabricTransport::kUltraEthernet:
      return "ultra-ethernet";
  }
  return "?";
}

std::optional<FabricTransport> ParseTransport(std::string_view key) {
  for (FabricTransport t : kFabricTransports) {
    if (TransportKey(t) == key) return t;
  }
  return std::nullopt;
}

std::string_view TransportName(FabricTransport t) {
  switch (t) {
    case FabricTransport::kInfiniBand:
      return "InfiniBand";
    case FabricTransport::kRoce:
      return "RoCEv2 Ethernet";
    case FabricTransport::kSpectrumX:
      return "Spectrum-X Ethernet";
    case FabricTransport::kUltraEthernet:
      return "Ultra Ethernet";
  }
  return "?";
}

std::string_view OpticsKey(FabricOptics o) {
  switch (o) {
    case FabricOptics::kPluggable:
      return "pluggable";
    case FabricOptics::kCpo:
      return "cpo";
    case FabricOptics::kCopper:
      return "copper";
  }
  return "?";
}

std::optional<FabricOptics> ParseOptics(std::string_view key) {
  for (FabricOptics o : kFabricOptics) {
    if (OpticsKey(o) == key) return o;
  }
  return std::nullopt;
}

const SwitchSystem& SwitchOf(FabricTransport t) {
  return t == FabricTransport::kInfiniBand ? kQuantum2 : kSpectrum4;
}

bool AdaptiveByDefault(FabricTransport t) { return t != FabricTransport::kRoce; }

Power OpticsPortWatts(FabricOptics o, Bandwidth port) {
  const double bits_per_s = ToBytesPerSecond(port) * 8;
  switch (o) {
    case FabricOptics::kPluggable:
      return Watts(bits_per_s * kPluggableJoulesPerBit);
    case FabricOptics::kCpo:
      return Watts(bits_per_s * kPluggableJoulesPerBit / kCpoEfficiencyGain);
    case FabricOptics::kCopper:
      return Watts(kCopperPortWatts);
  }
  return Watts(0);
}

Bandwidth SwitchPort(const FabricSpec& spec) {
  return Bandwidth::FromBase(ToBytesPerSecond(spec.nic_per_gpu) / spec.planes);
}

int PortsAt(const SwitchSystem& sw, Bandwidth port) {
  const double top = ToBytesPerSecond(sw.top_port), p = ToBytesPerSecond(port);
  if (p <= 0 || p > top * (1 + 1e-9)) return 0;
  const double split = std::floor(top / p + 1e-9);
  return static_cast<int>(std::min<double>(sw.split_ports, sw.ports * split));
}

FabricEquipment EquipmentOf(const FabricSpec& spec, FabricTransport transport, FabricOptics optics,
                            std::string switch_name, Power switch_power) {
  FabricEquipment e;
  e.transport = transport;
  e.optics = optics;
  e.topology = spec.topology;
  e.switch_name = std::move(switch_name);
  e.switch_power = switch_power;
  e.port = SwitchPort(spec);
  e.inventory = Fabric::Inventory(spec);
  e.switches_power = Watts(ToWatts(switch_power) * static_cast<double>(e.inventory.switches()));
  e.optics_power =
      Watts(ToWatts(OpticsPortWatts(optics, e.port)) * static_cast<double>(e.inventory.ports()));
  return e;
}

}  // namespace firstwall::network
