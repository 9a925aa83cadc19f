// `firstwall emulate --snmp-agentx SOCKET`: the emulated site's UPS and power stages over SNMP, as
// an AgentX subagent (RFC 2741) of a real snmpd (`master agentx`, `agentXSocket SOCKET`). snmpd
// answers the SNMP requests; this process registers two subtrees with it and answers the AgentX
// requests snmpd forwards. docs/live.md, "SNMP", lists the OIDs.
//
// Standard objects, UPS-MIB (RFC 1628, .1.3.6.1.2.1.33), for the first power-chain stage whose
// name holds "UPS" (any case). The MIB's input and output tables have a row per line (phase); the
// emulator's UPS is one line carrying its whole power, so both NumLines objects are 1:
//   upsInputNumLines.0   .1.3.6.1.2.1.33.1.3.2.0        INTEGER 1
//   upsInputTruePower.1  .1.3.6.1.2.1.33.1.3.3.1.5.1    INTEGER, W: the UPS stage's input
//   upsOutputNumLines.0  .1.3.6.1.2.1.33.1.4.3.0        INTEGER 1
//   upsOutputPower.1     .1.3.6.1.2.1.33.1.4.4.1.4.1    INTEGER, W: its output, the input of the
//                                                       stage inside it (IT input when none)
// Ours, not a standard MIB: firstwall has no IANA enterprise number, so its objects sit under
// NET-SNMP-MIB's netSnmpPlaypen (.1.3.6.1.4.1.8072.9999.9999, which net-snmp sets aside for private
// experiments), arc 13 (kSnmpRoot):
//   R.1.1.0       Counter64    simulated time of the tick, ms since the emulation's start
//   R.1.2.0       Gauge32      facility power, W
//   R.1.3.0       Counter64    facility energy since the start, J
//   R.1.4.0       Gauge32      IT input power, W
//   R.1.5.0       OCTET STRING PUE, "1.234"
//   R.2.1.1.i     OCTET STRING name of power-chain stage i (1: at the load, outward)
//   R.2.1.2.i     Gauge32      its input power, W
//   R.3.1.1.n     OCTET STRING node n's host name (n = node index + 1)
//   R.3.1.2.n     Gauge32      its power in tenths of a W (0.1 W), as a metered PDU outlet gives
// Whole numbers are rounded to nearest; a stream the emulator drops (a dropout fault) or that is
// not a finite number is absent (noSuchInstance). Every value is the tick's, from the same Snapshot
// as the Prometheus exposition, so faults show here as there.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "live/emulator.h"

namespace firstwall::live {

inline constexpr uint32_t kSnmpRoot[] = {1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 13};
inline constexpr uint32_t kUpsMibRoot[] = {1, 3, 6, 1, 2, 1, 33};

// One served object's value.
struct SnmpValue {
  enum class Type { kInteger, kGauge32, kCounter64, kOctetString };
  Type type = Type::kInteger;
  int64_t number = 0;  // kInteger, kGauge32, kCounter64
  std::string text;    // kOctetString
  bool operator==(const SnmpValue&) const = default;
};
using SnmpTable = std::map<std::vector<uint32_t>, SnmpValue>;

// The objects above for one snapshot. `stages` names the power chain's stages from the load
// outward (a dropped-out stage is missing from the snapshot but not from the chain).
SnmpTable SnmpObjects(const Snapshot& snapshot, const std::vector<std::string>& stages);

// Starts the subagent on its own thread (net-snmp's agent library is not thread-safe; every call
// to it is made there, and Publish() hands it each tick's table under a mutex). It connects to
// the master at `socket` (a path of a Unix socket, or tcp:HOST:PORT) and, while the master is not
// there, tries again every second. Only one per process.
std::unique_ptr<TelemetryServer> StartSnmpAgentx(const std::string& socket);

}  // namespace firstwall::live
