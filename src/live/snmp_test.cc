// SNMP without a peer: the OID map's keys, what each varbind type becomes, the emulator's OID
// table, and a read of an agent that is not there. The end-to-end test with a real snmpd is
// tests/live_snmp_test.cc.
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/error.h"
#include "live/reader.h"
#include "live/site_map.h"
#include "live/snmp_reader.h"
#include "live/snmp_server.h"
#include "live/temp_path_test_util.h"

namespace firstwall::live {
namespace {

const char* kMap = R"(firstwall_site_map: 1
sources:
  - name: ups
    kind: snmp
    url: "snmp://127.0.0.1"
    interval: 1 s
    timeout: 200 ms
    oids:
      - {oid: .1.3.6.1.2.1.33.1.4.4.1.4.1, name: ups_output_power_watts, labels: {line: "1"}}
      - oid: 1.3.6.1.4.1.8072.9999.9999.13.3.1.2.1
        name: node_power_watts
        scale: 0.1
bindings:
  - source: ups
    series: ups_output_power_watts
    entity: ups
    id: ups
    quantity: power
    unit: W
)";

std::string ErrorOf(const std::string& from, const std::string& to) {
  std::string text = kMap;
  const size_t at = text.find(from);
  if (at == std::string::npos) return "no '" + from + "' in the map";
  text.replace(at, from.size(), to);
  try {
    ParseSiteMap(text, "map.yaml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(SnmpMap, ReadsTheOidMap) {
  const SiteMap m = ParseSiteMap(kMap, "map.yaml");
  ASSERT_EQ(m.sources.size(), 1u);
  const Source& s = m.sources[0];
  EXPECT_EQ(s.kind, "snmp");
  EXPECT_EQ(s.host, "127.0.0.1");
  EXPECT_EQ(s.port, 161);
  EXPECT_EQ(s.snmp.community, "public");
  ASSERT_EQ(s.snmp.oids.size(), 2u);
  EXPECT_EQ(s.snmp.oids[0].arcs, (std::vector<uint32_t>{1, 3, 6, 1, 2, 1, 33, 1, 4, 4, 1, 4, 1}));
  EXPECT_EQ(s.snmp.oids[0].name, "ups_output_power_watts");
  EXPECT_EQ(s.snmp.oids[0].labels, (std::vector<Label>{{"line", "1"}}));
  EXPECT_EQ(s.snmp.oids[0].scale, 1);
  EXPECT_EQ(s.snmp.oids[1].scale, 0.1);
  EXPECT_EQ(OidText(s.snmp.oids[1].arcs), ".1.3.6.1.4.1.8072.9999.9999.13.3.1.2.1");
  EXPECT_EQ(ParseSiteMap(std::string(kMap).replace(std::string(kMap).find("127.0.0.1"), 9,
                                                   "10.0.0.5:1161\"\n    community: \"pdu-ro"),
                         "m.yaml")
                .sources[0]
                .snmp.community,
            "pdu-ro");
}

TEST(SnmpMap, BadKeysAreRefusedAtTheirPlace) {
  EXPECT_NE(ErrorOf(".1.3.6.1.2.1.33.1.4.4.1.4.1", "1.3.x.1")
                .find("map.yaml:9:15: error: '1.3.x.1' is not a numeric OID: arc 'x'"),
            std::string::npos)
      << ErrorOf(".1.3.6.1.2.1.33.1.4.4.1.4.1", "1.3.x.1");
  EXPECT_NE(ErrorOf(".1.3.6.1.2.1.33.1.4.4.1.4.1", "3.1").find("the first arc is 3"),
            std::string::npos);
  EXPECT_NE(ErrorOf(".1.3.6.1.2.1.33.1.4.4.1.4.1", "1").find("1 arcs"), std::string::npos);
  EXPECT_NE(ErrorOf(".1.3.6.1.2.1.33.1.4.4.1.4.1", "1.3.99999999999").find("arc '99999999999'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("scale: 0.1", "scale: 0").find("map.yaml:12:16: error: scale 0"),
            std::string::npos)
      << ErrorOf("scale: 0.1", "scale: 0");
  EXPECT_NE(ErrorOf("name: node_power_watts", "name: 9x").find("'9x' is not a metric name"),
            std::string::npos);
  EXPECT_NE(ErrorOf("name: node_power_watts",
                    "name: ups_output_power_watts\n        labels: {line: \"1\"}")
                .find("a second OID gives 'ups_output_power_watts' with the same labels"),
            std::string::npos);
  EXPECT_NE(ErrorOf("1.3.6.1.4.1.8072.9999.9999.13.3.1.2.1", ".1.3.6.1.2.1.33.1.4.4.1.4.1")
                .find("is polled twice"),
            std::string::npos);
  EXPECT_NE(ErrorOf("{line: \"1\"}", "{1ine: \"1\"}").find("'1ine' is not a label name"),
            std::string::npos);
  EXPECT_NE(ErrorOf("snmp://127.0.0.1", "snmp://127.0.0.1/x").find("without a path"),
            std::string::npos);
  EXPECT_NE(ErrorOf("snmp://127.0.0.1", "http://127.0.0.1").find("snmp://host"), std::string::npos);
  EXPECT_NE(ErrorOf("kind: snmp\n    url: \"snmp://127.0.0.1\"",
                    "kind: prometheus\n    url: \"http://127.0.0.1\"")
                .find("map.yaml:9:7: error: 'oids' is a key of snmp sources, not prometheus"),
            std::string::npos)
      << ErrorOf("kind: snmp\n    url: \"snmp://127.0.0.1\"",
                 "kind: prometheus\n    url: \"http://127.0.0.1\"");
  EXPECT_NE(ErrorOf("    oids:", "    community: x\n    bogus:").find("bogus"), std::string::npos);
  EXPECT_NE(ErrorOf("        scale: 0.1", "        scale: 0.1\n        unit: W").find("unit"),
            std::string::npos);
  // An snmp source without OIDs.
  std::string none = kMap;
  none.erase(none.find("    oids:"), none.find("bindings:") - none.find("    oids:"));
  try {
    ParseSiteMap(none, "map.yaml");
    ADD_FAILURE() << "no error without oids";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("map.yaml:4:11: error: an snmp source needs 'oids'"),
              std::string::npos)
        << e.what();
  }
}

// A varbind of `type` whose value is `data` (val_len bytes), built by hand.
netsnmp_variable_list Varbind(u_char type, void* data, size_t len) {
  netsnmp_variable_list v{};
  v.type = type;
  v.val.string = static_cast<u_char*>(data);
  v.val_len = len;
  return v;
}

TEST(SnmpNumber, EachVarbindType) {
  std::string why;
  long integer = -42;
  auto v = Varbind(ASN_INTEGER, &integer, sizeof integer);
  EXPECT_EQ(SnmpNumber(v, why), -42.0);
  u_long gauge = 4294967295ul;
  for (u_char type : {u_char(ASN_GAUGE), u_char(ASN_COUNTER), u_char(ASN_TIMETICKS)}) {
    v = Varbind(type, &gauge, sizeof gauge);
    EXPECT_EQ(SnmpNumber(v, why), 4294967295.0) << int(type);
  }
  counter64 c64{};
  c64.high = 2;
  c64.low = 5;
  v = Varbind(ASN_COUNTER64, &c64, sizeof c64);
  EXPECT_EQ(SnmpNumber(v, why), 2.0 * 4294967296.0 + 5);
  float f = 2.5f;
  v = Varbind(ASN_OPAQUE_FLOAT, &f, sizeof f);
  EXPECT_EQ(SnmpNumber(v, why), 2.5);
  double d = -0.125;
  v = Varbind(ASN_OPAQUE_DOUBLE, &d, sizeof d);
  EXPECT_EQ(SnmpNumber(v, why), -0.125);

  auto text = [&](std::string s) {
    v = Varbind(ASN_OCTET_STR, s.data(), s.size());
    why.clear();
    return SnmpNumber(v, why);
  };
  EXPECT_EQ(text("231.5"), 231.5);
  EXPECT_EQ(text(" 12 "), 12.0);
  EXPECT_EQ(text("+1e3"), 1000.0);
  EXPECT_EQ(text("1.234\n"), 1.234);
  EXPECT_FALSE(text("12 W"));
  EXPECT_NE(why.find("the OCTET STRING '12 W' is not a number"), std::string::npos) << why;
  EXPECT_FALSE(text(""));
  EXPECT_FALSE(text("nan"));
  EXPECT_FALSE(text(std::string(65, '1')));
  EXPECT_NE(why.find("65 bytes"), std::string::npos) << why;
  EXPECT_FALSE(text(std::string("1\x01", 2)));

  for (auto [type, want] : {std::pair{u_char(SNMP_NOSUCHOBJECT), "noSuchObject"},
                            {u_char(SNMP_NOSUCHINSTANCE), "noSuchInstance"},
                            {u_char(SNMP_ENDOFMIBVIEW), "endOfMibView"},
                            {u_char(ASN_OBJECT_ID), "type 0x06"},
                            {u_char(ASN_IPADDRESS), "type 0x40"}}) {
    v = Varbind(type, nullptr, 0);
    why.clear();
    EXPECT_FALSE(SnmpNumber(v, why));
    EXPECT_NE(why.find(want), std::string::npos) << why;
  }
  v = Varbind(ASN_INTEGER, nullptr, 0);
  EXPECT_FALSE(SnmpNumber(v, why));
}

Family Meter(const char* metric, std::vector<Reading> r) {
  return {metric, "gauge", "", "W", 3, std::move(r)};
}

TEST(SnmpObjects, ServeTheSnapshotUnderTheDocumentedOids) {
  Snapshot s;
  s.t_s = 12.5;
  s.families = {
      Meter("firstwall_facility_power_watts", {{{}, 150000.4}}),
      Meter("firstwall_facility_energy_joules_total", {{{}, 1875005.6}}),
      Meter("firstwall_it_input_power_watts", {{{}, 120000.5}}),
      Meter("firstwall_pue", {{{}, 1.25}}),
      Meter("firstwall_power_stage_input_watts",
            {{{{"stage", "rack PSU"}}, 120000.5}, {{{"stage", "UPS"}}, 127368.9}}),
      Meter("firstwall_node_power_watts",
            {{{{"Hostname", "node0"}}, 7000.04}, {{{"Hostname", "node1"}}, 7100.06}}),
  };
  const SnmpTable t = SnmpObjects(s, {"rack PSU", "UPS"});
  auto get = [&](std::vector<uint32_t> tail, bool ups = false) {
    std::vector<uint32_t> o =
        ups ? std::vector<uint32_t>(std::begin(kUpsMibRoot), std::end(kUpsMibRoot))
            : std::vector<uint32_t>(std::begin(kSnmpRoot), std::end(kSnmpRoot));
    o.insert(o.end(), tail.begin(), tail.end());
    const auto it = t.find(o);
    return it == t.end() ? SnmpValue{SnmpValue::Type::kOctetString, -1, "absent"} : it->second;
  };
  using T = SnmpValue::Type;
  EXPECT_EQ(get({1, 1, 0}), (SnmpValue{T::kCounter64, 12500, ""}));
  EXPECT_EQ(get({1, 2, 0}), (SnmpValue{T::kGauge32, 150000, ""}));
  EXPECT_EQ(get({1, 3, 0}), (SnmpValue{T::kCounter64, 1875006, ""}));
  EXPECT_EQ(get({1, 4, 0}), (SnmpValue{T::kGauge32, 120001, ""}));  // 120000.5 rounds up
  EXPECT_EQ(get({1, 5, 0}), (SnmpValue{T::kOctetString, 0, "1.250"}));
  EXPECT_EQ(get({2, 1, 1, 2}), (SnmpValue{T::kOctetString, 0, "UPS"}));
  EXPECT_EQ(get({2, 1, 2, 2}), (SnmpValue{T::kGauge32, 127369, ""}));
  EXPECT_EQ(get({3, 1, 1, 2}), (SnmpValue{T::kOctetString, 0, "node1"}));
  EXPECT_EQ(get({3, 1, 2, 1}), (SnmpValue{T::kGauge32, 70000, ""}));  // tenths of a W
  EXPECT_EQ(get({3, 1, 2, 2}), (SnmpValue{T::kGauge32, 71001, ""}));
  // UPS-MIB: one line; input is the UPS stage's, output the rack PSUs' input.
  EXPECT_EQ(get({1, 3, 2, 0}, true), (SnmpValue{T::kInteger, 1, ""}));
  EXPECT_EQ(get({1, 3, 3, 1, 5, 1}, true), (SnmpValue{T::kInteger, 127369, ""}));
  EXPECT_EQ(get({1, 4, 3, 0}, true), (SnmpValue{T::kInteger, 1, ""}));
  EXPECT_EQ(get({1, 4, 4, 1, 4, 1}, true), (SnmpValue{T::kInteger, 120001, ""}));
  EXPECT_EQ(t.size(), 17u);

  // A dropped-out stage is absent, and so is the UPS output it gives.
  s.families[4].readings.erase(s.families[4].readings.begin());
  const SnmpTable dropped = SnmpObjects(s, {"rack PSU", "UPS"});
  EXPECT_EQ(dropped.size(), 15u);
  // No stage named UPS: no UPS-MIB objects.
  EXPECT_EQ(SnmpObjects(s, {"rack PSU", "transformer"}).size(), 11u);
}

TEST(SnmpReader, AnAgentThatIsNotThereIsAFailedRead) {
  // A UDP port bound here but never answered.
  int fd = -1;
  const int port = FreePort(SOCK_DGRAM, &fd);
  std::string text = kMap;
  text.replace(text.find("127.0.0.1"), 9, "127.0.0.1:" + std::to_string(port));
  const SiteMap m = ParseSiteMap(text, "map.yaml");
  ReaderContext ctx;
  auto reader = MakeReader(m.sources[0], ctx);
  const ReadResult r = reader->Read();
  close(fd);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("no answer from 127.0.0.1"), std::string::npos) << r.error;
  EXPECT_TRUE(r.samples.empty());
}

}  // namespace
}  // namespace firstwall::live
