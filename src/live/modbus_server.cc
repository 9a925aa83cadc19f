#include "live/modbus_server.h"
#include "live/listen_address.h"

#include <arpa/inet.h>
#include <modbus.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "core/error.h"

namespace firstwall::live {
namespace {

constexpr size_t kMaxClients = 16;

std::vector<EmulatedRegister> BuildMap() {
  using T = RegisterType;
  const auto H = RegisterTable::kHolding;
  const auto I = RegisterTable::kInput;
  const auto B = WordOrder::kBig;
  const auto L = WordOrder::kLittle;
  std::vector<EmulatedRegister> m = {
      {H, 0, T::kFloat32, B, 1, "firstwall_facility_power_watts", -1, 1, "W",
       "facility power (the main meter)"},
      {H, 2, T::kFloat32, B, 1, "firstwall_it_input_power_watts", -1, 1, "W",
       "IT input power (PUE's IT)"},
      {H, 4, T::kUint64, B, 1, "firstwall_facility_energy_joules_total", -1, 1.0 / 3600, "Wh",
       "facility energy counter, whole Wh"},
      {H, 8, T::kFloat64, B, 1, "firstwall_facility_energy_joules_total", -1, 1, "J",
       "facility energy counter"},
      {H, 12, T::kFloat64, B, 1, "firstwall_it_input_energy_joules_total", -1, 1, "J",
       "IT input energy counter"},
      {H, 16, T::kFloat32, L, 1, "firstwall_it_input_power_watts", -1, 1, "W",
       "IT input power again, little word order (CDAB)"},
      {H, 18, T::kUint32, B, 0.1, "firstwall_facility_power_watts", -1, 1e-3, "kW",
       "facility power again, in 0.1 kW steps (raw 1234 = 123.4 kW)"},
      {H, 20, T::kFloat32, B, 1, "firstwall_cooling_power_watts", -1, 1, "W",
       "cooling plant electricity"},
      {H, 22, T::kFloat32, B, 1, "firstwall_chiller_power_watts", -1, 1, "W",
       "chillers' electricity"},
      {H, 24, T::kFloat32, B, 1, "firstwall_pump_power_watts", -1, 1, "W",
       "coolant pumps' electricity"},
      {H, 26, T::kFloat32, B, 1, "firstwall_fan_power_watts", -1, 1, "W", "fans' electricity"},
      {H, 28, T::kFloat32, B, 1, "firstwall_pue", -1, 1, "ratio", "PUE this tick"},
  };
  for (int i = 0; i < kEmulatedStages; ++i) {
    m.push_back({H, 100 + 2 * i, T::kFloat32, B, 1, "firstwall_power_stage_input_watts", i, 1, "W",
                 fmt::format("input power of stage {} of facility.power_chain, counted from the "
                             "load (rack PSU, UPS, transformer, ...)",
                             i)});
  }
  const std::vector<EmulatedRegister> input = {
      {I, 0, T::kFloat32, B, 1, "firstwall_outdoor_temperature_celsius", -1, 1, "C",
       "outdoor dry bulb"},
      {I, 2, T::kFloat32, B, 1, "firstwall_outdoor_wet_bulb_temperature_celsius", -1, 1, "C",
       "outdoor wet bulb"},
      {I, 4, T::kFloat32, B, 1, "firstwall_coolant_supply_temperature_celsius", -1, 1, "C",
       "coolant supplied to the cold plates"},
      {I, 6, T::kFloat32, B, 1, "firstwall_server_inlet_temperature_celsius", -1, 1, "C",
       "air at the servers' inlets"},
      {I, 8, T::kInt16, B, 0.1, "firstwall_outdoor_temperature_celsius", -1, 1, "C",
       "outdoor dry bulb again, in 0.1 C steps (raw -52 = -5.2 C)"},
      {I, 9, T::kUint16, B, 0.001, "firstwall_pue", -1, 1, "ratio",
       "PUE again, in thousandths (raw 1234 = 1.234)"},
      {I, 10, T::kInt32, B, 1, "firstwall_heat_rejected_watts", -1, 1, "W",
       "heat rejected outdoors, whole W"},
  };
  m.insert(m.end(), input.begin(), input.end());
  return m;
}

int Extent(RegisterTable table) {
  int n = table == RegisterTable::kHolding ? kSetpointAddress + 1 : 0;
  for (const EmulatedRegister& r : EmulatedRegisters()) {
    if (r.table == table) n = std::max(n, r.address + WordCount(r.type));
  }
  return n;
}

}  // namespace

const std::vector<EmulatedRegister>& EmulatedRegisters() {
  static const std::vector<EmulatedRegister> map = BuildMap();
  return map;
}

std::string EmulatedRegisterTable() {
  std::string out =
      "| table | address | type | word order | scale | unit | value |\n"
      "|---|---|---|---|---|---|---|\n";
  for (const EmulatedRegister& r : EmulatedRegisters()) {
    if (r.stage == 2) {  // stages 2 on follow the pattern; one row says so
      out += fmt::format(
          "| holding | {}-{} | float32 | big | 1 | W | stages 2 to {} likewise, 2 registers each; "
          "NaN past the chain's end |\n",
          r.address, 100 + 2 * kEmulatedStages - 1, kEmulatedStages - 1);
    }
    if (r.stage > 1) continue;
    const int last = r.address + WordCount(r.type) - 1;
    out += fmt::format(
        "| {} | {} | {} | {} | {:g} | {} | {}{} |\n", TableName(r.table),
        last == r.address ? fmt::format("{}", r.address) : fmt::format("{}-{}", r.address, last),
        TypeName(r.type), WordCount(r.type) > 1 ? WordOrderName(r.word_order) : "", r.scale, r.unit,
        r.what,
        r.stage >= 0 ? " (`firstwall_power_stage_input_watts`)" : fmt::format(" (`{}`)", r.family));
  }
  return out;
}

struct ModbusServer::Impl {
  modbus_t* ctx = nullptr;
  modbus_mapping_t* mapping = nullptr;
  int listen_fd = -1;
  std::vector<int> clients;
  std::mutex mu;  // guards mapping
  std::thread thread;
};

ModbusServer::ModbusServer(const std::string& listen, std::vector<std::string> stages,
                           const std::string& option, double supply_c)
    : impl_(std::make_unique<Impl>()), stages_(std::move(stages)) {
  const SourceLocation at{option, 0, 0};
  const std::string hint = "for example 127.0.0.1:5020; port 0 takes any free port";
  const size_t colon = listen.rfind(':');
  const std::string port_text = colon == std::string::npos ? "" : listen.substr(colon + 1);
  in_addr addr{};
  if (colon == std::string::npos || port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port_text) > 65535) {
    throw InputError(at, fmt::format("'{}' is not HOST:PORT", listen), hint);
  }
  host_ = listen.substr(0, colon);
  if (inet_pton(AF_INET, host_.c_str(), &addr) != 1) {
    throw InputError(at, fmt::format("'{}': the host is not an IPv4 address", listen), hint);
  }
  const int want = std::stoi(port_text);
  Impl& m = *impl_;
  m.ctx = modbus_new_tcp(host_.c_str(), want);
  m.mapping =
      modbus_mapping_new(0, 0, Extent(RegisterTable::kHolding), Extent(RegisterTable::kInput));
  FW_CHECK(m.ctx && m.mapping, "libmodbus could not allocate a server");
  m.listen_fd = modbus_tcp_listen(m.ctx, static_cast<int>(kMaxClients));
  if (m.listen_fd < 0) {
    modbus_mapping_free(m.mapping);
    modbus_free(m.ctx);
    m.ctx = nullptr;
    ThrowCannotListen(option, "", host_, want);  // in the same words as the HTTP servers
  }
  sockaddr_in got{};
  socklen_t len = sizeof got;
  getsockname(m.listen_fd, reinterpret_cast<sockaddr*>(&got), &len);
  port_ = ntohs(got.sin_port);
  // Floats read NaN until the first tick.
  for (const EmulatedRegister& r : EmulatedRegisters()) {
    uint16_t* base = r.table == RegisterTable::kHolding ? m.mapping->tab_registers
                                                        : m.mapping->tab_input_registers;
    EncodeRegister(std::nan(""), r.type, r.word_order, r.scale, base + r.address);
  }
  m.mapping->tab_registers[kSetpointAddress] =
      static_cast<uint16_t>(static_cast<int16_t>(std::lround(supply_c / kSetpointScale)));
  modbus_set_indication_timeout(m.ctx, 0, 500000);
  m.thread = std::thread([this] { Serve(); });
}

ModbusServer::~ModbusServer() { Stop(); }

void ModbusServer::Stop() {
  Impl& m = *impl_;
  stop_ = true;
  if (m.thread.joinable()) m.thread.join();
  for (const int fd : m.clients) close(fd);
  m.clients.clear();
  if (m.listen_fd >= 0) close(m.listen_fd);
  m.listen_fd = -1;
  if (m.ctx) {
    modbus_set_socket(m.ctx, -1);
    modbus_free(m.ctx);
    m.ctx = nullptr;
  }
  if (m.mapping) modbus_mapping_free(m.mapping);
  m.mapping = nullptr;
}

void ModbusServer::Serve() {
  Impl& m = *impl_;
  uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
  const int header = modbus_get_header_length(m.ctx);
  std::vector<pollfd> fds;
  while (!stop_) {
    fds.clear();
    fds.push_back({m.listen_fd, POLLIN, 0});
    for (const int fd : m.clients) fds.push_back({fd, POLLIN, 0});
    // A tenth of a second at most, so that Stop() is heard.
    if (poll(fds.data(), fds.size(), 100) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      const int fd = accept4(m.listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0 && m.clients.size() >= kMaxClients) {
        close(fd);
      } else if (fd >= 0) {
        m.clients.push_back(fd);
      }
    }
    std::vector<int> gone;
    for (size_t i = 1; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      modbus_set_socket(m.ctx, fds[i].fd);
      const int rc = modbus_receive(m.ctx, query);
      if (rc > 0) {
        const uint8_t function = query[header];
        if ((function == 0x03 || function == 0x04) && !published_) {
          // No tick yet: busy, as a gateway that has not polled its meters yet. (Counters move
          // before each reply, as in WriteSetpoint.)
          ++requests_;
          modbus_reply_exception(m.ctx, query, MODBUS_EXCEPTION_SLAVE_OR_SERVER_BUSY);
        } else if (function == 0x03 || function == 0x04) {
          std::lock_guard<std::mutex> lock(m.mu);
          ++requests_;
          modbus_reply(m.ctx, query, rc, m.mapping);
        } else if (function == 0x06 || function == 0x10) {
          WriteSetpoint(query, header, rc);
        } else {
          ++refused_;
          modbus_reply_exception(m.ctx, query, MODBUS_EXCEPTION_ILLEGAL_FUNCTION);
        }
      } else if (rc < 0) {
        // The peer closed (ECONNRESET), or sent what libmodbus cannot parse: drop the client.
        if (errno != ECONNRESET && errno != EPIPE) ++refused_;
        gone.push_back(fds[i].fd);
      }
    }
    for (const int fd : gone) {
      close(fd);
      std::erase(m.clients, fd);
    }
  }
}

void ModbusServer::WriteSetpoint(const uint8_t* query, int header, int length) {
  Impl& m = *impl_;
  // 6: address, value; 16: address, count, bytes, values (big-endian words).
  const uint8_t* pdu = query + header;
  const int address = (pdu[1] << 8) | pdu[2];
  const bool single = pdu[0] == 0x06;
  const int count = single ? 1 : ((pdu[3] << 8) | pdu[4]);
  const int at = single ? 3 : 6;
  // The server's own state changes before the reply goes out: a client that reads it once
  // answered (the emulation, a test) must find the write there.
  if (address != kSetpointAddress || count != 1 || length < header + at + 2) {
    ++refused_;
    modbus_reply_exception(m.ctx, query, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
    return;
  }
  const auto raw = static_cast<int16_t>((pdu[at] << 8) | pdu[at + 1]);
  const double c = raw * kSetpointScale;
  if (c < kSetpointMin_c - 1e-9 || c > kSetpointMax_c + 1e-9) {
    ++refused_;
    modbus_reply_exception(m.ctx, query, MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE);
    return;
  }
  std::lock_guard<std::mutex> lock(m.mu);
  setpoint_c_ = c;
  ++requests_;
  modbus_reply(m.ctx, query, length, m.mapping);  // writes the register and echoes the request
}

void ModbusServer::Publish(const std::shared_ptr<const Snapshot>& snap) {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mu);
  if (!m.mapping) return;
  for (const EmulatedRegister& r : EmulatedRegisters()) {
    double value = std::nan("");
    if (const Family* f = snap->Find(r.family)) {
      for (const Reading& reading : f->readings) {
        if (r.stage < 0) {
          value = reading.value * r.factor;
          break;
        }
        const auto stage = static_cast<size_t>(r.stage);
        bool named = false;
        for (const Label& l : reading.labels) {
          named =
              named || (l.name == "stage" && stage < stages_.size() && l.value == stages_[stage]);
        }
        if (named) {
          value = reading.value * r.factor;
          break;
        }
      }
    }
    uint16_t* base = r.table == RegisterTable::kHolding ? m.mapping->tab_registers
                                                        : m.mapping->tab_input_registers;
    EncodeRegister(value, r.type, r.word_order, r.scale, base + r.address);
  }
  published_ = true;
}

std::string ModbusServer::Describe() const {
  return fmt::format(
      "modbus-tcp://{}:{} (any unit id; {} holding and {} input registers; holding {} writable: "
      "the coolant supply setpoint; docs/live.md)",
      host_, port_, Extent(RegisterTable::kHolding), Extent(RegisterTable::kInput),
      kSetpointAddress);
}

}  // namespace firstwall::live
