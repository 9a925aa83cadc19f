#include "ops/site_write.h"

#include <modbus.h>

#include <cerrno>
#include <cmath>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace firstwall::ops {
namespace {

// A whole number in [lo, hi] from all of `text`, else nullopt.
std::optional<int> Whole(const std::string& text, int lo, int hi) {
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  const int v = std::stoi(text);
  return v >= lo && v <= hi ? std::optional(v) : std::nullopt;
}

}  // namespace

ModbusTarget ParseModbusUrl(const std::string& url, const std::string& option) {
  const std::string hint =
      "expected modbus://HOST:PORT or modbus://HOST:PORT/UNIT (unit 0 to 247; modbus-tcp:// too)";
  // modbus-tcp:// as the site map writes it (docs/live.md), or modbus:// for short.
  const std::string scheme = url.starts_with("modbus-tcp://") ? "modbus-tcp://" : "modbus://";
  auto bad = [&](const std::string& why) {
    return InputError({option, 0, 0}, fmt::format("'{}' {}", url, why), hint);
  };
  if (!url.starts_with(scheme)) throw bad("is not a modbus:// URL");
  std::string rest = url.substr(scheme.size());
  ModbusTarget t;
  t.url = url;
  if (const size_t slash = rest.find('/'); slash != std::string::npos) {
    const auto unit = Whole(rest.substr(slash + 1), 0, 247);
    if (!unit) throw bad("has no unit id from 0 to 247 after '/'");
    t.unit = *unit;
    rest = rest.substr(0, slash);
  }
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) throw bad("is not HOST:PORT");
  const auto port = Whole(rest.substr(colon + 1), 1, 65535);
  if (!port) throw bad("has no port from 1 to 65535");
  t.host = rest.substr(0, colon);
  t.port = *port;
  return t;
}

SiteWriter ModbusSetpointWriter(const ModbusTarget& target) {
  return [target](const Plan& p) -> std::string {
    if (p.request.plan_class != "setpoint" || p.request.value.unit != "C") {
      throw std::runtime_error(
          fmt::format("only a setpoint plan in C is written over Modbus; plan {} is a {} in {}",
                      p.id, p.request.plan_class, p.request.value.unit));
    }
    const long raw = std::lround(p.request.value.value / kSetpointRegisterScale);
    if (raw < INT16_MIN || raw > INT16_MAX) {
      throw std::runtime_error(
          fmt::format("{:g} C does not fit the register", p.request.value.value));
    }
    // The register holds tenths: a finer value would be applied as another one than approved.
    if (std::abs(static_cast<double>(raw) * kSetpointRegisterScale - p.request.value.value) >
        1e-9) {
      throw std::runtime_error(fmt::format(
          "{:g} C is finer than the register's 0.1 C: it would be written as {:g} C, not the "
          "value approved; propose a setpoint in tenths of a degree",
          p.request.value.value, static_cast<double>(raw) * kSetpointRegisterScale));
    }
    std::unique_ptr<modbus_t, void (*)(modbus_t*)> ctx(
        modbus_new_tcp_pi(target.host.c_str(), std::to_string(target.port).c_str()),
        [](modbus_t* c) {
          modbus_close(c);
          modbus_free(c);
        });
    auto fail = [&](const std::string& what) {
      return std::runtime_error(fmt::format("{} {}: {}", what, target.url, modbus_strerror(errno)));
    };
    if (!ctx)
      throw std::runtime_error(fmt::format("libmodbus cannot make a client of {}", target.url));
    modbus_set_response_timeout(ctx.get(), 2, 0);
    if (modbus_set_slave(ctx.get(), target.unit) != 0) throw fail("cannot address unit of");
    if (modbus_connect(ctx.get()) != 0) throw fail("cannot connect to");
    const auto word = static_cast<uint16_t>(static_cast<int16_t>(raw));
    if (modbus_write_register(ctx.get(), kSetpointRegister, word) != 1) {
      throw fail(fmt::format("holding register {} was not written at", kSetpointRegister));
    }
    uint16_t back = 0;
    if (modbus_read_registers(ctx.get(), kSetpointRegister, 1, &back) != 1) {
      throw fail(
          fmt::format("holding register {} was written but not read back at", kSetpointRegister));
    }
    const double read_back = static_cast<int16_t>(back) * kSetpointRegisterScale;
    if (back != word) {
      throw std::runtime_error(
          fmt::format("holding register {} at {} reads back {:g} C after {:g} C was written",
                      kSetpointRegister, target.url, read_back, p.request.value.value));
    }
    nlohmann::json d = {{"protocol", "modbus-tcp"},
                        {"url", target.url},
                        {"unit", target.unit},
                        {"address", kSetpointRegister},
                        {"raw", raw},
                        {"value_c", static_cast<double>(raw) * kSetpointRegisterScale},
                        {"read_back_c", read_back}};
    return d.dump();
  };
}

}  // namespace firstwall::ops
