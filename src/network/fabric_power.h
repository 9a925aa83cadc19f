// What the scale-out fabric is made of and what it draws: its transport (InfiniBand, RoCE,
// Spectrum-X, Ultra Ethernet), the switch system its leaves and spines are built from, and the
// optics in the switches' ports (pluggable modules, co-packaged optics or copper).
//
// Power model: every switch of the fabric (network::Fabric::Inventory) draws its system's typical
// power without optics, constantly (a switch's draw moves little with traffic; not modelled), plus
// each port in use draws its optics at port speed x energy per bit. The NIC's own end of a NIC-leaf
// link (the NIC and its module) is the node's, inside cluster.node_base_power. Switches sit on
// the same power chain and cooling as the racks they serve: the fabric's draw is shared evenly over
// the nodes (network racks are not modelled apart, and the switches' heat goes where the nodes'
// goes).
//
// Sources (each figure below):
// - NVIDIA Quantum-2 QM9700 (64 x 400 Gb/s NDR InfiniBand, 1U): 747 W typical with passive
//   cables, from NVIDIA's QM97x0 user manual, Specifications
//   (https://docs.nvidia.com/networking/display/QM97X0PUB/Specifications), as quoted by two
//   third-party product pages (the NVIDIA page itself was not read: secondary); 128 x 200 Gb/s
//   in split mode (the same manual, Interfaces: two logical ports a cage).
// - NVIDIA Spectrum-4 SN5600 (64 x 800 GbE, 128 x 400 GbE, 256 x 200 GbE): ports from NVIDIA's
//   SN5000 manual, Data Interfaces
//   (https://docs.nvidia.com/networking/display/sn5000/data+interfaces); 940 W typical with passive
//   cables from the same manual's Specifications as quoted by third-party pages (secondary). Taken
//   for every 51.2 Tb/s Ethernet switch (RoCE, Spectrum-X, Ultra Ethernet): no Broadcom Tomahawk 5
//   system figure was found at a primary source.
// - Pluggable optics: 17 W for an 800 Gb/s twin-port OSFP single-mode module (NVIDIA
//   MMS4X00-NS-T, https://docs.nvidia.com/networking/display/800gmms4x00nst/overview): 21.25
//   pJ/bit; a 400 Gb/s single-port module draws 9 W at most (MMS4X00-NS400), 22.5 pJ/bit.
// - Co-packaged optics: NVIDIA's Quantum-X/Spectrum-X Photonics claim 3.5x the power efficiency of
//   pluggable transceivers (GTC 2025, as reported; about 30 W to 9 W a 1.6 Tb/s port): 21.25 / 3.5
//   = 6.07 pJ/bit (secondary).
// - Copper: a passive DAC draws 0.1 W at most (NVIDIA MCP7H00 specifications): 0.1 W a port.
//
// Routing by transport (the `routing` key may still choose): RoCE hashes each flow's five-tuple
// onto one path (ECMP). InfiniBand switches forward by tables the subnet manager computes per
// destination, and Quantum-2 adapts them to load (adaptive routing, which NVIDIA's DGX SuperPOD
// fabrics run); Spectrum-X sprays packets with adaptive routing, and Ultra Ethernet sprays
// packets over many paths by per-packet entropy (Hoefler et al., "Ultra Ethernet's Design
// Principles and Architectural Innovations", arXiv:2508.08906): all three are modelled as
// `adaptive` (each flow on the least-loaded spine; the subnet manager's static destination
// routing, D-mod-k, is not modelled). NVIDIA states Spectrum-X kept 95% data throughput where
// standard Ethernet's flow collisions gave 60% (press release, 28 Oct 2024, xAI Colossus): the
// collisions come out of the ECMP model itself, not a factor. The model hashes one flow a GPU pair;
// NCCL spreads a pair over several channels (queue pairs, other source ports), which collide less.
// Parallel ports between a leaf and a spine are one link, so ECMP's collisions among them are not
// seen: fabrics of fewer, fatter trunks look better under ECMP than they are.
// The switches' figures are typical power, the optics' the modules' maximum. Bus efficiency is the
// same for all transports: NCCL's measured busbw over IB and RoCE NICs falls in one 0.92-0.96 band
// (hardware::kNetworkBusEfficiency), wider than the 1.3 % their headers differ by at a 4096-byte
// MTU.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "network/fabric.h"
#include "units/quantity.h"

namespace firstwall::network {

enum class FabricTransport { kInfiniBand, kRoce, kSpectrumX, kUltraEthernet };
enum class FabricOptics { kPluggable, kCpo, kCopper };
inline constexpr FabricTransport kFabricTransports[] = {
    FabricTransport::kInfiniBand, FabricTransport::kRoce, FabricTransport::kSpectrumX,
    FabricTransport::kUltraEthernet};
inline constexpr FabricOptics kFabricOptics[] = {FabricOptics::kPluggable, FabricOptics::kCpo,
                                                 FabricOptics::kCopper};

// A switch system: its ports at its top speed and its power without optics.
struct SwitchSystem {
  std::string_view name;      // "NVIDIA Quantum-2 QM9700"
  int ports = 0;              // at top_port speed
  units::Bandwidth top_port;  // one direction
  int split_ports = 0;        // the most ports it splits into, at slower speeds
  units::Power power;         // typical, without optics
  std::string_view source;
};

// "infiniband", "roce", "spectrum-x", "ultra-ethernet" and back; nullopt for an unknown name.
std::string_view TransportKey(FabricTransport t);
std::optional<FabricTransport> ParseTransport(std::string_view key);
std::string_view TransportName(FabricTransport t);  // "InfiniBand (NDR)", "RoCEv2", ...
std::string_view OpticsKey(FabricOptics o);         // "pluggable", "cpo", "copper"
std::optional<FabricOptics> ParseOptics(std::string_view key);
// The reference switch of a transport (Quantum-2 for InfiniBand, Spectrum-4 for the Ethernets).
const SwitchSystem& SwitchOf(FabricTransport t);
// The draw of one switch port's optics at `port` speed (copper: the DAC end's 0.1 W at any speed).
units::Power OpticsPortWatts(FabricOptics o, units::Bandwidth port);
// Whether the transport routes by default adaptively (packet spraying) rather than by flow hash.
bool AdaptiveByDefault(FabricTransport t);
// One switch port of the fabric of `spec`, one direction: each NIC's bandwidth over the planes.
units::Bandwidth SwitchPort(const FabricSpec& spec);
// Ports of `sw` at `port` speed: each top-speed port split into whole slower ports, at most its
// split_ports; 0 when `port` is faster than its top speed.
int PortsAt(const SwitchSystem& sw, units::Bandwidth port);

// A fabric's equipment and its draw.
struct FabricEquipment {
  FabricTransport transport = FabricTransport::kInfiniBand;
  FabricOptics optics = FabricOptics::kPluggable;
  FabricTopology topology = FabricTopology::kRailOptimized;
  std::string switch_name;
  units::Power switch_power;  // one switch, without optics
  units::Bandwidth port;      // one port, one direction (NIC bandwidth over planes)
  FabricInventory inventory;
  units::Power switches_power;  // all switches
  units::Power optics_power;    // all ports in use
  units::Power total() const { return switches_power + optics_power; }
};

// The equipment of the fabric of `spec` (valid: LinkCount >= 0) built from switches drawing
// `switch_power` each, with `optics` in their ports.
FabricEquipment EquipmentOf(const FabricSpec& spec, FabricTransport transport, FabricOptics optics,
                            std::string switch_name, units::Power switch_power);

}  // namespace firstwall::network
