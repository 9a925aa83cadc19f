// `firstwall emulate --modbus HOST:PORT`: the emulated site's facility meters as a Modbus TCP
// server would serve them (a power meter, the UPS and transformer stages, the cooling plant and a
// weather station behind one gateway), with libmodbus's server API. The register map is fixed
// (EmulatedRegisters(); docs/live.md "Modbus TCP" prints it);
// tests/inputs/live-site-map-modbus.yaml reads it.
//
// One register is writable: the coolant supply setpoint (kSetpointAddress, below), with function 6
// (write single register) or 16 (write multiple registers, that one register only). A write
// outside kSetpointMin_c..kSetpointMax_c is answered with exception 3 (illegal data value), a
// write of any other register with exception 2 (illegal data address); a write accepted is read
// back by function 3 and honoured by the emulation from its next tick (coolant_setpoint_c()).
//
// Serving: one thread polls the listening socket and up to 16 clients (a 17th is closed at once)
// and answers each complete request in turn with modbus_receive / modbus_reply; a client that
// sends half a request holds the others up to libmodbus's byte timeout (0.5 s). Only reads are
// served, function codes 3 (holding) and 4 (input), and the setpoint writes above; any other
// function is answered with exception 1 (illegal function); addresses outside the map with
// exception 2. Every unit id is answered (a gateway for one device). A request libmodbus cannot
// parse closes that client's connection and is counted in refused().
//
// Values: Publish() encodes each tick's snapshot into the registers under a mutex, which every
// reply also holds, so one request never mixes two ticks. Before the first tick every read is
// answered with exception 6 (server busy). A stream that has no reading this tick (a dropout
// fault) reads NaN from a float register; an integer register keeps its last value.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "live/emulator.h"
#include "live/modbus_map.h"

namespace firstwall::live {

// One register of the emulator's map.
struct EmulatedRegister {
  RegisterTable table = RegisterTable::kHolding;
  int address = 0;
  RegisterType type = RegisterType::kFloat32;
  WordOrder word_order = WordOrder::kBig;
  double scale = 1;    // served raw = value / scale
  std::string family;  // the snapshot family (emulator.h) it serves
  int stage = -1;      // firstwall_power_stage_input_watts: the stage's index in the power chain
  double factor = 1;   // value = the family's reading x factor (J -> Wh: 1/3600)
  std::string unit;    // of the value
  std::string what;    // for docs
};

// Stages of facility.power_chain served, from the load outward: holding 100 + 2 i.
constexpr int kEmulatedStages = 16;

// The writable coolant supply setpoint: holding register 200, int16, in 0.1 C (raw 180 = 18.0 C),
// 2.0 to 45.0 C (ASHRAE's liquid cooling classes W17 to W45, as ops plans, docs/operations.md).
// Reads the scenario's facility.cooling.liquid_supply until written.
constexpr int kSetpointAddress = 200;
constexpr double kSetpointScale = 0.1;
constexpr double kSetpointMin_c = 2, kSetpointMax_c = 45;
// Every register the emulator serves, holding before input, by address.
const std::vector<EmulatedRegister>& EmulatedRegisters();
// The map as a Markdown table (docs/live.md).
std::string EmulatedRegisterTable();

class ModbusServer : public TelemetryServer {
 public:
  // Listens on `listen` ("HOST:PORT", HOST an IPv4 address; port 0 takes any free port) before
  // returning. `stages` names facility.power_chain's stages in order (the stage label of
  // firstwall_power_stage_input_watts). InputError naming `option` when `listen` is not
  // HOST:PORT or cannot be listened on.
  // `supply_c`: the scenario's coolant supply setpoint, which register 200 reads until written.
  ModbusServer(const std::string& listen, std::vector<std::string> stages,
               const std::string& option = "--modbus", double supply_c = 32);
  ~ModbusServer() override;
  ModbusServer(const ModbusServer&) = delete;
  ModbusServer& operator=(const ModbusServer&) = delete;

  void Publish(const std::shared_ptr<const Snapshot>& snapshot) override;
  std::string Describe() const override;
  void Stop() override;

  int port() const { return port_; }
  int64_t requests() const { return requests_.load(); }  // answered, exceptions included
  int64_t refused() const { return refused_.load(); }    // unparseable, or not served
  // The setpoint last written (C); NaN until a write is accepted.
  double coolant_setpoint_c() const { return setpoint_c_.load(); }

 private:
  struct Impl;
  void Serve();
  // Answers a write (function 6 or 16) of the setpoint register; `length`: the request's bytes.
  void WriteSetpoint(const uint8_t* query, int header, int length);

  std::unique_ptr<Impl> impl_;
  std::string host_;
  int port_ = 0;
  std::vector<std::string> stages_;
  std::atomic<bool> stop_{false}, published_{false};
  std::atomic<int64_t> requests_{0}, refused_{0};
  std::atomic<double> setpoint_c_{std::numeric_limits<double>::quiet_NaN()};
};

}  // namespace firstwall::live
