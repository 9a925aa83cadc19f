// Modbus TCP: decoding by hand-computed words, request planning, the site map's modbus keys and
// their errors, and the emulator's server read back by the reader on loopback (same snapshot,
// same values as the Prometheus exposition), with exceptions, garbage and an absent peer.
#include <arpa/inet.h>
#include <modbus.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "live/modbus_server.h"
#include "live/reader.h"

namespace firstwall::live {
namespace {

using T = RegisterType;
constexpr WordOrder kBig = WordOrder::kBig;
constexpr WordOrder kLittle = WordOrder::kLittle;

double Decode(std::vector<uint16_t> w, T type, WordOrder order = kBig, double scale = 1) {
  return DecodeRegister(w.data(), type, order, scale);
}

TEST(ModbusDecode, EachTypeAndWordOrderFromHandComputedWords) {
  // 16-bit: one word, no order.
  EXPECT_EQ(Decode({0xFFFF}, T::kUint16), 65535);
  EXPECT_EQ(Decode({0xFFFF}, T::kInt16), -1);
  EXPECT_EQ(Decode({0x8000}, T::kInt16), -32768);
  // -516 = 0xFDFC; scale 0.1 gives -51.6.
  EXPECT_DOUBLE_EQ(Decode({0xFDFC}, T::kInt16, kBig, 0.1), -51.6);
  // 65538 = 0x0001'0002: big puts 0x0001 first, little 0x0002 first.
  EXPECT_EQ(Decode({0x0001, 0x0002}, T::kUint32), 65538);
  EXPECT_EQ(Decode({0x0002, 0x0001}, T::kUint32, kLittle), 65538);
  EXPECT_EQ(Decode({0x0001, 0x0002}, T::kUint32, kLittle), 131073);  // 0x0002'0001
  // -2 = 0xFFFF'FFFE.
  EXPECT_EQ(Decode({0xFFFF, 0xFFFE}, T::kInt32), -2);
  EXPECT_EQ(Decode({0xFFFE, 0xFFFF}, T::kInt32, kLittle), -2);
  // 123.5f = 0x42F7'0000 (sign 0, exponent 133, mantissa 0x770000); -2.5f = 0xC020'0000.
  EXPECT_EQ(Decode({0x42F7, 0x0000}, T::kFloat32), 123.5);
  EXPECT_EQ(Decode({0x0000, 0x42F7}, T::kFloat32, kLittle), 123.5);
  EXPECT_EQ(Decode({0xC020, 0x0000}, T::kFloat32), -2.5);
  EXPECT_TRUE(std::isnan(Decode({0x7FC0, 0x0000}, T::kFloat32)));
  // 2^32 = 0x0000'0001'0000'0000.
  EXPECT_EQ(Decode({0x0000, 0x0001, 0x0000, 0x0000}, T::kUint64), 4294967296.0);
  EXPECT_EQ(Decode({0x0000, 0x0000, 0x0001, 0x0000}, T::kUint64, kLittle), 4294967296.0);
  // -1000 = 0xFFFF'FFFF'FFFF'FC18.
  EXPECT_EQ(Decode({0xFFFF, 0xFFFF, 0xFFFF, 0xFC18}, T::kInt64), -1000);
  EXPECT_EQ(Decode({0xFC18, 0xFFFF, 0xFFFF, 0xFFFF}, T::kInt64, kLittle), -1000);
  // 1.5 = 0x3FF8'0000'0000'0000; -0.1 = 0xBFB9'9999'9999'999A.
  EXPECT_EQ(Decode({0x3FF8, 0, 0, 0}, T::kFloat64), 1.5);
  EXPECT_EQ(Decode({0, 0, 0, 0x3FF8}, T::kFloat64, kLittle), 1.5);
  EXPECT_EQ(Decode({0xBFB9, 0x9999, 0x9999, 0x999A}, T::kFloat64), -0.1);
  // Scale: raw 1234 x 0.1 = 123.4 kW.
  EXPECT_DOUBLE_EQ(Decode({0x0000, 0x04D2}, T::kUint32, kBig, 0.1), 123.4);
}

TEST(ModbusDecode, EncodeRoundsClampsAndInvertsDecode) {
  uint16_t w[4] = {};
  EncodeRegister(123.4, T::kUint32, kBig, 0.1, w);
  EXPECT_EQ(w[0], 0x0000);
  EXPECT_EQ(w[1], 0x04D2);
  EncodeRegister(-5.2, T::kInt16, kBig, 0.1, w);
  EXPECT_EQ(w[0], 0xFFCC);  // -52
  EncodeRegister(1e6, T::kUint16, kBig, 1, w);
  EXPECT_EQ(w[0], 0xFFFF);
  EncodeRegister(-3, T::kUint16, kBig, 1, w);
  EXPECT_EQ(w[0], 0);
  w[0] = 7;
  EncodeRegister(std::nan(""), T::kUint16, kBig, 1, w);
  EXPECT_EQ(w[0], 7);  // an integer register keeps its value
  EncodeRegister(123.5, T::kFloat32, kLittle, 1, w);
  EXPECT_EQ(w[0], 0x0000);
  EXPECT_EQ(w[1], 0x42F7);
  EncodeRegister(-1000, T::kInt64, kBig, 1, w);
  EXPECT_EQ(w[0], 0xFFFF);
  EXPECT_EQ(w[3], 0xFC18);
  for (const T type : {T::kUint32, T::kInt32, T::kFloat32, T::kUint64, T::kInt64, T::kFloat64}) {
    for (const WordOrder o : {kBig, kLittle}) {
      EncodeRegister(4321, type, o, 0.5, w);
      EXPECT_EQ(DecodeRegister(w, type, o, 0.5), 4321) << TypeName(type) << WordOrderName(o);
    }
  }
}

ModbusRegister Reg(RegisterTable table, int address, T type) {
  ModbusRegister r;
  r.table = table;
  r.address = address;
  r.type = type;
  return r;
}

TEST(ModbusPlan, ContiguousRunsInFewestRequestsOfAtMost125) {
  std::vector<ModbusRegister> regs;
  // 63 float32 at 0, 2, ..., 124: 126 registers, one more than a request may read.
  for (int i = 62; i >= 0; --i) regs.push_back(Reg(RegisterTable::kHolding, 2 * i, T::kFloat32));
  regs.push_back(Reg(RegisterTable::kHolding, 200, T::kUint16));  // after a gap
  regs.push_back(Reg(RegisterTable::kHolding, 201, T::kUint64));  // contiguous with it
  regs.push_back(Reg(RegisterTable::kInput, 0, T::kInt16));       // another table
  const std::vector<ModbusRequest> q = PlanRequests(regs);
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[0].address, 0);
  EXPECT_EQ(q[0].count, 124);
  EXPECT_EQ(q[0].registers.size(), 62u);
  EXPECT_EQ(q[0].registers[0], 62u);  // the entry at address 0 was listed last
  EXPECT_EQ(q[1].address, 124);
  EXPECT_EQ(q[1].count, 2);
  EXPECT_EQ(q[2].address, 200);
  EXPECT_EQ(q[2].count, 5);
  EXPECT_EQ(q[3].table, RegisterTable::kInput);
  EXPECT_EQ(q[3].count, 1);
}

const char* kMap = R"(firstwall_site_map: 1
sources:
  - name: meter
    kind: modbus
    url: "modbus-tcp://127.0.0.1"
    interval: 1 s
    registers:
      - {name: power_w, address: 0, type: float32}
      - {name: energy_wh, address: 2, type: uint64, word_order: little}
      - {name: temp_c, table: input, address: 0, type: int16, scale: 0.1}
      - {name: stage_w, labels: {stage: UPS}, address: 10, type: float32}
bindings:
  - {source: meter, series: power_w, entity: meter, id: main, quantity: power, unit: W}
)";

TEST(ModbusSiteMap, ReadsTheRegisterMap) {
  const SiteMap m = ParseSiteMap(kMap, "map.yaml");
  const Source& s = m.sources.at(0);
  EXPECT_EQ(s.port, 502);
  EXPECT_EQ(s.host, "127.0.0.1");
  EXPECT_EQ(s.modbus.unit_id, 1);
  ASSERT_EQ(s.modbus.registers.size(), 4u);
  const ModbusRegister& e = s.modbus.registers[1];
  EXPECT_EQ(e.type, T::kUint64);
  EXPECT_EQ(e.word_order, kLittle);
  EXPECT_EQ(e.where, "map.yaml:9:9");
  EXPECT_EQ(s.modbus.registers[2].table, RegisterTable::kInput);
  EXPECT_EQ(s.modbus.registers[2].scale, 0.1);
  EXPECT_EQ(s.modbus.registers[3].labels, (std::vector<Label>{{"stage", "UPS"}}));
  // Holding 0-5, holding 10-11, input 0.
  ASSERT_EQ(s.modbus.requests.size(), 3u);
  EXPECT_EQ(s.modbus.requests[0].count, 6);
}

TEST(ModbusSiteMap, ErrorsNameFileLineColumn) {
  struct Case {
    std::string from, to, want;
  };
  const std::vector<Case> cases = {
      {"address: 2, type: uint64", "address: 1, type: uint64",
       "map.yaml:9:36: error: 'energy_wh' (holding registers 1 to 4) overlaps 'power_w' (0 to 1, "
       "map.yaml:8:9)"},
      {"address: 10, type: float32", "address: 65535, type: float32",
       "map.yaml:11:56: error: a float32 at address 65535 takes registers 65535 to 65536, past "
       "the last, 65535"},
      {"address: 10,", "address: 65536,",
       "map.yaml:11:56: error: 'sources[0].registers[3].address' is 65536, out of range"},
      {"word_order: little", "word_order: middle",
       "map.yaml:9:65: error: 'sources[0].registers[1].word_order' is 'middle'"},
      {"type: int16", "type: int8",
       "map.yaml:10:56: error: 'sources[0].registers[2].type' is 'int8'"},
      {"scale: 0.1", "scale: 0", "map.yaml:10:70: error: scale 0 would lose every value"},
      {"name: stage_w, labels: {stage: UPS}", "name: power_w",
       "map.yaml:11:16: error: register 0 already gives the name 'power_w'"},
      {"labels: {stage: UPS}", "labels: {2stage: UPS}",
       "map.yaml:11:42: error: '2stage' is not a label name"},
      {"\"modbus-tcp://127.0.0.1\"", "\"modbus-tcp://127.0.0.1/x\"",
       "map.yaml:5:10: error: 'modbus-tcp://127.0.0.1/x': a modbus url has no path"},
      {"\"modbus-tcp://127.0.0.1\"", "\"http://127.0.0.1\"",
       "map.yaml:5:10: error: 'http://127.0.0.1': a modbus source's url is modbus-tcp://"},
      {"    interval: 1 s\n", "    interval: 1 s\n    unit_id: 250\n",
       "map.yaml:7:14: error: unit id 250 is reserved"},
      {"kind: modbus\n    url: \"modbus-tcp://127.0.0.1\"",
       "kind: prometheus\n    url: \"http://127.0.0.1/metrics\"",
       "map.yaml:8:7: error: 'registers' is a modbus source's key, not a prometheus source's"},
      {"    registers:\n", "    regs:\n", "map.yaml:7:5: error: "},
  };
  // A modbus source without registers.
  std::string none = kMap;
  none.erase(none.find("    registers:"), none.find("bindings:") - none.find("    registers:"));
  try {
    ParseSiteMap(none, "map.yaml");
    ADD_FAILURE() << "no error for a modbus source without registers";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().ToString(), "map.yaml:3:5");
    EXPECT_EQ(e.message().rfind("a modbus source needs its register map", 0), 0u) << e.message();
  }
  for (const Case& c : cases) {
    std::string text = kMap;
    const size_t at = text.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    text.replace(at, c.from.size(), c.to);
    try {
      ParseSiteMap(text, "map.yaml");
      ADD_FAILURE() << "no error for: " << c.to;
    } catch (const InputError& e) {
      const std::string got = fmt::format("{}: error: {}", e.where().ToString(), e.message());
      EXPECT_EQ(got.rfind(c.want, 0), 0u) << "for " << c.to << "\n got: " << got;
    }
  }
}

// A snapshot with known meter values: the families the emulator's map reads.
std::shared_ptr<const Snapshot> KnownSnapshot(bool with_it_power = true) {
  auto s = std::make_shared<Snapshot>();
  s->t_s = 42;
  auto meter = [&](const char* name, double v, const char* type = "gauge") {
    s->families.push_back({name, type, "help", "W", 3, {{{}, v}}});
  };
  meter("firstwall_facility_power_watts", 123456.789);
  if (with_it_power) meter("firstwall_it_input_power_watts", 100000.25);
  meter("firstwall_facility_energy_joules_total", 7200000.5, "counter");  // 2000.000139 Wh
  meter("firstwall_it_input_energy_joules_total", 3600000, "counter");
  meter("firstwall_cooling_power_watts", 20000);
  meter("firstwall_chiller_power_watts", 12000);
  meter("firstwall_pump_power_watts", 3000);
  meter("firstwall_fan_power_watts", 5000);
  meter("firstwall_pue", 1.2345679);
  meter("firstwall_outdoor_temperature_celsius", -5.24);
  meter("firstwall_outdoor_wet_bulb_temperature_celsius", -7);
  meter("firstwall_coolant_supply_temperature_celsius", 32.5);
  meter("firstwall_server_inlet_temperature_celsius", 24);
  meter("firstwall_heat_rejected_watts", 140000.4);
  s->families.push_back({"firstwall_power_stage_input_watts",
                         "gauge",
                         "help",
                         "W",
                         3,
                         {{{{"stage", "rack PSU"}}, 104000}, {{{"stage", "UPS"}}, 110000}}});
  return s;
}

SiteMap ShippedMap(int port) {
  std::ifstream in("tests/inputs/live-site-map-modbus.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  const std::string from = "modbus-tcp://127.0.0.1:5020";
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos);
  if (at != std::string::npos)
    text.replace(at, from.size(), fmt::format("modbus-tcp://127.0.0.1:{}", port));
  return ParseSiteMap(text, "live-site-map-modbus.yaml");
}

std::map<std::string, double> ByName(const ReadResult& r) {
  std::map<std::string, double> out;
  for (const PromSample& s : r.samples) {
    std::string name = s.metric;
    for (const Label& l : s.labels) name += "/" + l.value;
    out[name] = s.value;
  }
  return out;
}

TEST(ModbusServer, TheShippedSiteMapReadsTheEmulatorsMap) {
  // Every register of the shipped site map is one of the emulator's, with its type, order, scale.
  const SiteMap m = ShippedMap(5020);
  const std::vector<ModbusRegister>& regs = m.sources.at(0).modbus.registers;
  EXPECT_EQ(regs.size(), 21u);
  for (const ModbusRegister& r : regs) {
    bool found = false;
    for (const EmulatedRegister& e : EmulatedRegisters()) {
      found = found || (e.table == r.table && e.address == r.address && e.type == r.type &&
                        e.word_order == r.word_order && e.scale == r.scale);
    }
    EXPECT_TRUE(found) << r.name << " at " << r.where;
  }
  EXPECT_EQ(m.sources[0].modbus.requests.size(), 3u);
}

TEST(ModbusServer, ReaderGetsTheSnapshotsValuesAsTheExpositionHasThem) {
  ModbusServer server("127.0.0.1:0", {"rack PSU", "UPS"});
  ASSERT_GT(server.port(), 0);
  const SiteMap map = ShippedMap(server.port());
  ReaderContext ctx;
  auto reader = MakeReader(map.sources[0], ctx);

  // Before the first tick: busy (exception 6), every register refused, the read answered.
  ReadResult r = reader->Read();
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.samples.empty());
  EXPECT_EQ(r.rejected, 21);
  ASSERT_EQ(r.rejects.size(), 3u);
  EXPECT_EQ(r.rejects[0].reason, "holding registers 0 to 29: Slave device or server is busy");
  std::map<std::string, double> v;

  const auto snap = KnownSnapshot();
  server.Publish(snap);
  r = reader->Read();
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.rejected, 0);
  EXPECT_EQ(r.samples.size(), 21u);
  v = ByName(r);
  // float32: the nearest float to the value.
  EXPECT_EQ(v["facility_power_w"], static_cast<double>(123456.789f));
  EXPECT_EQ(v["it_input_power_w"], 100000.25);
  EXPECT_EQ(v["it_input_power_w_cdab"], 100000.25);
  // uint64 Wh: 7200000.5 J / 3600 = 2000.000139, rounded.
  EXPECT_EQ(v["facility_energy_wh"], 2000);
  EXPECT_EQ(v["facility_energy_j"], 7200000.5);  // float64 keeps it whole
  EXPECT_EQ(v["it_input_energy_j"], 3600000);
  // uint32 in 0.1 kW: 123.456789 kW -> raw 1235 -> 123.5 kW.
  EXPECT_DOUBLE_EQ(v["facility_power_kw"], 123.5);
  EXPECT_EQ(v["cooling_power_w"], 20000);
  EXPECT_EQ(v["chiller_power_w"], 12000);
  EXPECT_EQ(v["pump_power_w"], 3000);
  EXPECT_EQ(v["fan_power_w"], 5000);
  EXPECT_EQ(v["pue"], static_cast<double>(1.2345679f));
  EXPECT_DOUBLE_EQ(v["pue_x1000"], 1.235);                 // raw 1235
  EXPECT_DOUBLE_EQ(v["outdoor_temperature_c_x10"], -5.2);  // raw -52
  EXPECT_EQ(v["outdoor_temperature_c"], static_cast<double>(-5.24f));
  EXPECT_EQ(v["outdoor_wet_bulb_c"], -7);
  EXPECT_EQ(v["coolant_supply_c"], 32.5);
  EXPECT_EQ(v["server_inlet_c"], 24);
  EXPECT_EQ(v["heat_rejected_w"], 140000);  // int32, whole W
  EXPECT_EQ(v["stage_input_power_w/rack PSU"], 104000);
  EXPECT_EQ(v["stage_input_power_w/UPS"], 110000);

  // The same tick's exposition: facility power within float32 rounding (half an ulp, 2^-24 of
  // the value) plus the exposition's 0.5 mW.
  const PromText text = ParsePrometheusText(RenderExposition(*snap));
  double prom = std::nan("");
  for (const PromSample& s : text.samples) {
    if (s.metric == "firstwall_facility_power_watts") prom = s.value;
  }
  EXPECT_NEAR(v["facility_power_w"], prom, prom * 0x1p-24 + 5e-4);

  // A stream that drops out: a float reads NaN, an integer keeps its last value.
  auto dropped = std::make_shared<Snapshot>(*snap);
  std::erase_if(dropped->families, [](const Family& f) {
    return f.metric == "firstwall_it_input_power_watts" ||
           f.metric == "firstwall_facility_energy_joules_total";
  });
  server.Publish(dropped);
  v = ByName(reader->Read());
  EXPECT_TRUE(std::isnan(v["it_input_power_w"]));
  EXPECT_TRUE(std::isnan(v["it_input_power_w_cdab"]));
  EXPECT_EQ(v["facility_energy_wh"], 2000);
  EXPECT_TRUE(std::isnan(v["facility_energy_j"]));
  EXPECT_EQ(server.refused(), 0);
  EXPECT_GE(server.requests(), 9);
  server.Stop();
}

TEST(ModbusServer, ExceptionsRefuseTheirRegistersAndWritesAreRefused) {
  ModbusServer server("127.0.0.1:0", {});
  server.Publish(KnownSnapshot());
  SiteMap map = ParseSiteMap(fmt::format(R"(firstwall_site_map: 1
sources:
  - name: meter
    kind: modbus
    url: "modbus-tcp://127.0.0.1:{}"
    interval: 1 s
    registers:
      - {{name: power_w, address: 0, type: float32}}
      - {{name: beyond, address: 500, type: uint16}}
      - {{name: beyond_input, table: input, address: 12, type: uint32}}
bindings:
  - {{source: meter, series: power_w, entity: meter, id: main, quantity: power, unit: W}}
)",
                                         server.port()),
                             "map.yaml");
  auto reader = MakeReader(map.sources[0], ReaderContext{});
  const ReadResult r = reader->Read();
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.samples.size(), 1u);
  EXPECT_EQ(r.samples[0].value, static_cast<double>(123456.789f));
  EXPECT_EQ(r.rejected, 2);
  ASSERT_EQ(r.rejects.size(), 2u);
  EXPECT_EQ(r.rejects[0].reason, "holding registers 500 to 500: Illegal data address");
  EXPECT_EQ(r.rejects[1].reason, "input registers 12 to 13: Illegal data address");

  // A write of a meter's register is refused with exception 2, the registers unchanged.
  modbus_t* client = modbus_new_tcp("127.0.0.1", server.port());
  ASSERT_NE(client, nullptr);
  ASSERT_EQ(modbus_connect(client), 0);
  EXPECT_EQ(modbus_write_register(client, 0, 42), -1);
  EXPECT_EQ(errno, EMBXILADD);
  uint16_t w[2] = {};
  EXPECT_EQ(modbus_read_registers(client, 0, 2, w), 2);
  EXPECT_EQ(DecodeRegister(w, T::kFloat32, kBig, 1), static_cast<double>(123456.789f));
  modbus_close(client);
  modbus_free(client);
  EXPECT_EQ(server.refused(), 1);
}

// The coolant supply setpoint (holding 200, int16 in 0.1 C) reads the scenario's until written; a
// write within 2 to 45 C is accepted, read back and handed to the emulation; others are refused.
TEST(ModbusServer, TheCoolantSetpointIsWritableWithinItsRange) {
  ModbusServer server("127.0.0.1:0", {}, "--modbus", 32);
  server.Publish(KnownSnapshot());
  modbus_t* client = modbus_new_tcp("127.0.0.1", server.port());
  ASSERT_NE(client, nullptr);
  ASSERT_EQ(modbus_connect(client), 0);
  uint16_t w = 0;
  ASSERT_EQ(modbus_read_registers(client, kSetpointAddress, 1, &w), 1);
  EXPECT_EQ(w, 320);  // 32.0 C
  EXPECT_TRUE(std::isnan(server.coolant_setpoint_c()));
  EXPECT_EQ(modbus_write_register(client, kSetpointAddress, 180), 1);
  ASSERT_EQ(modbus_read_registers(client, kSetpointAddress, 1, &w), 1);
  EXPECT_EQ(w, 180);
  EXPECT_DOUBLE_EQ(server.coolant_setpoint_c(), 18.0);
  // 45.1 C and -300 C (raw -3000 as a two's complement word) are out of range: exception 3.
  EXPECT_EQ(modbus_write_register(client, kSetpointAddress, 451), -1);
  EXPECT_EQ(errno, EMBXILVAL);
  EXPECT_EQ(modbus_write_register(client, kSetpointAddress, static_cast<uint16_t>(-3000)), -1);
  EXPECT_EQ(errno, EMBXILVAL);
  // Function 16 on the one register is a write too; on two registers it is refused.
  const uint16_t two[2] = {250, 250};
  EXPECT_EQ(modbus_write_registers(client, kSetpointAddress, 1, two), 1);
  EXPECT_DOUBLE_EQ(server.coolant_setpoint_c(), 25.0);
  EXPECT_EQ(modbus_write_registers(client, kSetpointAddress - 1, 2, two), -1);
  EXPECT_EQ(errno, EMBXILADD);
  ASSERT_EQ(modbus_read_registers(client, kSetpointAddress, 1, &w), 1);
  EXPECT_EQ(w, 250);
  modbus_close(client);
  modbus_free(client);
  EXPECT_EQ(server.refused(), 3);
}

// A raw TCP connection to `port` on loopback, with a 5 s receive timeout so no test can hang.
int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST(ModbusServer, AnUnparseableRequestClosesOnlyThatClient) {
  ModbusServer server("127.0.0.1:0", {});
  server.Publish(KnownSnapshot());
  const int bad = Connect(server.port());
  ASSERT_GE(bad, 0);
  // MBAP (transaction 1, protocol 0, length 6, unit 1), then function 16 (write multiple) whose
  // byte count, 255, runs past the 260-byte frame: libmodbus cannot take it.
  const uint8_t junk[] = {0, 1, 0, 0, 0, 6, 1, 0x10, 0, 0, 0, 0x7F, 0xFF};
  ASSERT_EQ(send(bad, junk, sizeof junk, 0), static_cast<ssize_t>(sizeof junk));
  uint8_t buf[64];
  EXPECT_EQ(recv(bad, buf, sizeof buf, 0), 0);  // closed by the server
  close(bad);
  EXPECT_EQ(server.refused(), 1);
  // Another client is served as before.
  const SiteMap map = ShippedMap(server.port());
  const ReadResult r = MakeReader(map.sources[0], ReaderContext{})->Read();
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.samples.size(), 21u);
}

// A peer that answers every request with `answer(request)`: garbage a real device might send.
class FakePeer {
 public:
  explicit FakePeer(std::function<std::vector<uint8_t>(const uint8_t*)> answer)
      : answer_(std::move(answer)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(fd_, 1);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      timeval tv{5, 0};
      setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      uint8_t req[12];
      // Read requests (12 bytes: MBAP, unit, function 3 or 4, address, count) until closed.
      while (recv(c, req, sizeof req, MSG_WAITALL) == static_cast<ssize_t>(sizeof req)) {
        const std::vector<uint8_t> out = answer_(req);
        send(c, out.data(), out.size(), MSG_NOSIGNAL);
      }
      close(c);
    });
  }
  ~FakePeer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  std::function<std::vector<uint8_t>(const uint8_t*)> answer_;
  int fd_ = -1, port_ = 0;
  std::thread thread_;
};

SiteMap OneRegisterMap(int port) {
  return ParseSiteMap(fmt::format(R"(firstwall_site_map: 1
sources:
  - {{name: m, kind: modbus, url: "modbus-tcp://127.0.0.1:{}", interval: 1 s, timeout: 200 ms,
     registers: [{{name: p, address: 0, type: float32}}, {{name: q, address: 9, type: uint16}}]}}
bindings:
  - {{source: m, series: p, entity: meter, id: main, quantity: power, unit: W}}
)",
                                  port),
                      "map.yaml");
}

TEST(ModbusReader, GarbageIsRefusedAndCountedAndTheNextReadReconnects) {
  // One register where two were asked for: libmodbus refuses the answer.
  FakePeer peer([](const uint8_t* q) {
    return std::vector<uint8_t>{q[0], q[1], 0, 0, 0, 5, q[6], q[7], 2, 0x12, 0x34};
  });
  const SiteMap map = OneRegisterMap(peer.port());
  auto reader = MakeReader(map.sources[0], ReaderContext{});
  const ReadResult r = reader->Read();
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.samples.empty());
  EXPECT_EQ(r.rejected, 2);  // both registers: the stream may be out of step, the rest skipped
  ASSERT_FALSE(r.rejects.empty());
  EXPECT_EQ(r.rejects[0].reason.rfind("holding registers 0 to 1: ", 0), 0u) << r.rejects[0].reason;
  // The connection was dropped; the peer served only one, so the next read fails to get an
  // answer or a connection, and says so instead of crashing.
  const ReadResult again = reader->Read();
  EXPECT_FALSE(again.ok);
  EXPECT_FALSE(again.error.empty());
}

TEST(ModbusReader, AnExceptionAnswerRefusesOnlyItsRequest) {
  // Exception 4 (server device failure) for the request at 0; 0x0102 at 9.
  FakePeer peer([](const uint8_t* q) {
    if (q[9] == 0) return std::vector<uint8_t>{q[0], q[1], 0, 0, 0, 3, q[6], 0x83, 4};
    return std::vector<uint8_t>{q[0], q[1], 0, 0, 0, 5, q[6], q[7], 2, 0x01, 0x02};
  });
  const SiteMap map = OneRegisterMap(peer.port());
  const ReadResult r = MakeReader(map.sources[0], ReaderContext{})->Read();
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.samples.size(), 1u);
  EXPECT_EQ(r.samples[0].metric, "q");
  EXPECT_EQ(r.samples[0].value, 258);
  EXPECT_EQ(r.rejected, 1);
}

TEST(ModbusReader, NoPeerIsAFailedReadWithItsReason) {
  // Port 1 on loopback: nothing listens there.
  const SiteMap map = OneRegisterMap(1);
  const ReadResult r = MakeReader(map.sources[0], ReaderContext{})->Read();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("cannot connect to 127.0.0.1:1"), std::string::npos) << r.error;
}

TEST(ModbusServer, BadListenAddressesAreRefusedNamingTheOption) {
  for (const std::string bad : {"nowhere", "localhost:502", "127.0.0.1:70000", "127.0.0.1:"}) {
    try {
      ModbusServer s(bad, {});
      ADD_FAILURE() << bad;
    } catch (const InputError& e) {
      EXPECT_EQ(e.where().file, "--modbus") << bad;
    }
  }
  ModbusServer first("127.0.0.1:0", {});
  try {
    ModbusServer second(fmt::format("127.0.0.1:{}", first.port()), {});
    ADD_FAILURE() << "a taken port was listened on";
  } catch (const InputError& e) {
    EXPECT_EQ(e.message(),
              fmt::format("cannot listen on 127.0.0.1:{}: the port is in use", first.port()));
  }
}

TEST(ModbusServer, DocsHoldTheRegisterMap) {
  std::ifstream in("docs/live.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const std::string begin = "<!-- modbus registers begin -->\n";
  const std::string end = "<!-- modbus registers end -->";
  const size_t a = doc.find(begin), b = doc.find(end);
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  EXPECT_EQ(doc.substr(a + begin.size(), b - a - begin.size()), EmulatedRegisterTable())
      << "docs/live.md's table between the markers should read:\n"
      << EmulatedRegisterTable();
}

}  // namespace
}  // namespace firstwall::live
