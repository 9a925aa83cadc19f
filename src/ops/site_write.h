// The protocol write of an applied plan (docs/operations.md, "Apply"): a setpoint plan's value
// written to the site's coolant supply setpoint register over Modbus TCP (libmodbus), then read
// back. Apply (ops.h) calls the writer only after every check has passed, inside the transaction
// that records the apply, and audits what it returns.
#pragma once

#include <functional>
#include <string>

#include "ops/ops.h"

namespace firstwall::ops {

// modbus://HOST:PORT[/UNIT] (or modbus-tcp://, the site map's scheme): HOST an IPv4 address or
// name, PORT 1 to 65535, UNIT 0 to 247 (default 1).
struct ModbusTarget {
  std::string host;
  int port = 502;
  int unit = 1;
  std::string url;  // as given
};
// InputError naming `option` unless `url` is modbus://HOST:PORT[/UNIT].
ModbusTarget ParseModbusUrl(const std::string& url, const std::string& option = "--write");

// The register written: the emulator's (live/modbus_server.h): holding 200, int16 in 0.1 C.
inline constexpr int kSetpointRegister = 200;
inline constexpr double kSetpointRegisterScale = 0.1;  // C per count

// A writer for Apply (SiteWriter, ops.h): writes the plan's value (a setpoint in C) to `target`'s
// setpoint register and reads it back; returns the audit detail of the write (a JSON object:
// protocol, url, unit, address, raw, value_c, read_back_c). std::runtime_error when the plan is not
// a setpoint in C, the device cannot be reached, refuses the write (a Modbus exception) or reads
// back another value.
SiteWriter ModbusSetpointWriter(const ModbusTarget& target);

}  // namespace firstwall::ops
