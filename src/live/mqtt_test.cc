// MQTT without a broker: topic filters, labels from levels, payload decoding, the site map's mqtt
// keys and their errors, and the emulator's topic tree and payloads. tests/live_mqtt_test.cc runs
// the same against a real mosquitto.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "live/mqtt_server.h"
#include "live/mqtt_topic.h"
#include "live/site_map.h"

namespace firstwall::live {
namespace {

TEST(MqttTopic, FiltersMatchAsTheStandardSays) {
  // '+' is exactly one level, empty included.
  EXPECT_TRUE(TopicMatches("a/+/c", "a/b/c"));
  EXPECT_TRUE(TopicMatches("a/+/c", "a//c"));
  EXPECT_FALSE(TopicMatches("a/+/c", "a/b/x/c"));
  EXPECT_FALSE(TopicMatches("a/+", "a/b/c"));
  EXPECT_TRUE(TopicMatches("+/+", "/x"));  // a leading '/' makes an empty first level
  // '#' is the parent and everything below.
  EXPECT_TRUE(TopicMatches("a/#", "a"));
  EXPECT_TRUE(TopicMatches("a/#", "a/b/c/d"));
  EXPECT_FALSE(TopicMatches("a/#", "b/a"));
  EXPECT_TRUE(TopicMatches("#", "anything/at/all"));
  EXPECT_TRUE(TopicMatches("firstwall/+/bms/#", "firstwall/hall-a/bms/chiller/power_w"));
  // Exact levels are compared whole and case-sensitively.
  EXPECT_TRUE(TopicMatches("a/b", "a/b"));
  EXPECT_FALSE(TopicMatches("a/b", "a/B"));
  EXPECT_FALSE(TopicMatches("a/b", "a/bc"));
  EXPECT_FALSE(TopicMatches("a/b", "a/b/"));
  // Topics starting with '$' (broker statistics) are not matched by a leading wildcard.
  EXPECT_FALSE(TopicMatches("#", "$SYS/broker/uptime"));
  EXPECT_FALSE(TopicMatches("+/broker/uptime", "$SYS/broker/uptime"));
  EXPECT_TRUE(TopicMatches("$SYS/#", "$SYS/broker/uptime"));
}

TEST(MqttTopic, BadFiltersAreNamed) {
  EXPECT_EQ(TopicFilterProblem("a/+/b/#"), "");
  EXPECT_EQ(TopicFilterProblem("+"), "");
  EXPECT_EQ(TopicFilterProblem(""), "an empty topic filter");
  EXPECT_EQ(TopicFilterProblem("a/#/b"), "'#' is not the last level");
  EXPECT_EQ(TopicFilterProblem("a/b#"), "'#' shares level 2 with other text");
  EXPECT_EQ(TopicFilterProblem("a+/b"), "'+' shares level 1 with other text");
  EXPECT_EQ(TopicLevels("a//b").size(), 3u);
}

std::vector<MqttTopic> Topics() {
  MqttTopic power;
  power.filter = "firstwall/+/bms/+/power_w";
  power.name = "bms_power_w";
  power.labels = {{"site", 2}, {"equipment", 4}};
  power.field = "value";
  power.time_field = "t_ms";
  MqttTopic plain;
  plain.filter = "plain/#";
  plain.name = "plain_c";
  plain.payload = MqttTopic::Payload::kNumber;
  plain.labels = {{"room", 3}};  // beyond the filter's levels: '#' may supply it
  return {power, plain};
}

TEST(MqttTopic, AMessageBecomesASampleWithLabelsFromItsLevels) {
  const MqttDecoded d = DecodeMqttMessage(Topics(), "firstwall/hall-a/bms/chiller/power_w",
                                          R"({"value": 1234.5, "t_ms": 1764590400000})", 7);
  ASSERT_TRUE(d.ok) << d.reason;
  EXPECT_EQ(d.sample.metric, "bms_power_w");
  const std::vector<Label> want = {{"site", "hall-a"},
                                   {"equipment", "chiller"},
                                   {"topic", "firstwall/hall-a/bms/chiller/power_w"}};
  EXPECT_EQ(d.sample.labels, want);
  EXPECT_EQ(d.sample.value, 1234.5);
  EXPECT_EQ(d.sample.timestamp_ms, 1764590400000);

  // A number payload, blanks around it allowed, stamped with the time it was taken.
  const MqttDecoded n = DecodeMqttMessage(Topics(), "plain/hall/r12", " -3.25e1\n", 42);
  ASSERT_TRUE(n.ok) << n.reason;
  EXPECT_EQ(n.sample.value, -32.5);
  EXPECT_EQ(n.sample.timestamp_ms, 42);
  EXPECT_EQ(*n.sample.Find("room"), "r12");
  // An integer JSON value and no time field declared: the time the message was taken.
  std::vector<MqttTopic> t = Topics();
  t[0].time_field.clear();
  const MqttDecoded i = DecodeMqttMessage(t, "firstwall/x/bms/pump/power_w", R"({"value":800})", 9);
  ASSERT_TRUE(i.ok) << i.reason;
  EXPECT_EQ(i.sample.value, 800);
  EXPECT_EQ(i.sample.timestamp_ms, 9);
}

TEST(MqttTopic, MalformedPayloadsAreRefusedWithTopicAndReason) {
  struct Case {
    std::string topic, payload, why;
  };
  const std::string p = "firstwall/a/bms/fan/power_w";
  const std::vector<Case> cases = {
      {"other/topic", "1", "topic 'other/topic': no topic filter of the source matches"},
      {p, "12.5", "topic '" + p + "': payload '12.5' is not a JSON object"},
      {p, "{\"value\":", "payload '{\"value\":' is not JSON"},
      {p, "", "payload '' is not JSON"},
      {p, R"({"v":1,"t_ms":5})", "no field 'value'"},
      {p, R"({"value":"12","t_ms":5})", "field 'value' is string, not a number"},
      {p, R"({"value":null,"t_ms":5})", "field 'value' is null, not a number"},
      {p, R"({"value":1})", "no time field 't_ms'"},
      {p, R"({"value":1,"t_ms":1.5})", "time field 't_ms' is not whole ms"},
      {p, R"({"value":1,"t_ms":-1})", "time field 't_ms' is not whole ms"},
      {p, R"({"value":1,"t_ms":"now"})", "time field 't_ms' is not whole ms"},
      {p, std::string(100, '[') + std::string(100, ']'), "JSON nested deeper than 32 levels"},
      {"plain/x/y", "abc", "payload 'abc' is not a number"},
      {"plain/x/y", "12 kW", "payload '12 kW' is not a number"},
      {"plain/x/y", "nan", "payload 'nan' is not a number"},
      {"plain/x/y", "inf", "payload 'inf' is not a number"},
      {"plain/x", "1", "no level 3 for label 'room'"},
      {p, std::string("\x01\xff{", 3), "payload '?\xff{' is not JSON"},
  };
  for (const Case& c : cases) {
    const MqttDecoded d = DecodeMqttMessage(Topics(), c.topic, c.payload, 0);
    EXPECT_FALSE(d.ok) << c.payload;
    EXPECT_NE(d.reason.find(c.why), std::string::npos)
        << "want: " << c.why << "\ngot: " << d.reason;
  }
  // A long payload is shortened in the reason.
  const MqttDecoded big = DecodeMqttMessage(Topics(), p, std::string(5000, 'x'), 0);
  EXPECT_LT(big.reason.size(), 200u);
}

const char* kMap = R"(firstwall_site_map: 1
sources:
  - name: bms
    kind: mqtt
    url: "mqtt://127.0.0.1:1884"
    interval: 1 s
    qos: 0
    client_id: fw-ingest-1
    topics:
      - filter: "firstwall/+/bms/+/power_w"
        name: bms_power_w
        labels: {site: 2, equipment: 4}
        time_field: t_ms
      - filter: "weather/#"
        name: outdoor_c
        payload: number
bindings:
  - source: bms
    series: bms_power_w
    entity: meter
    id: "{equipment}"
    quantity: power
    unit: W
)";

// A broker sends a topic's retained message again at each subscription: equal to the last one
// taken, it is a repeat; a new payload, or a live (not retained) message, is not.
TEST(MqttTopic, RetainedRepeatsAreKnown) {
  RetainedRepeats r(2);
  EXPECT_FALSE(r.Repeat("a/power_w", "{\"value\":1}", true));  // nothing taken yet
  r.Accepted("a/power_w", "{\"value\":1}");
  EXPECT_TRUE(r.Repeat("a/power_w", "{\"value\":1}", true));
  EXPECT_FALSE(r.Repeat("a/power_w", "{\"value\":1}", false));  // published again: a reading
  EXPECT_FALSE(r.Repeat("a/power_w", "{\"value\":2}", true));
  r.Accepted("a/power_w", "{\"value\":2}");
  EXPECT_FALSE(r.Repeat("a/power_w", "{\"value\":1}", true));
  r.Accepted("b", "7");
  r.Accepted("c", "8");  // past max_topics: not remembered
  EXPECT_TRUE(r.Repeat("b", "7", true));
  EXPECT_FALSE(r.Repeat("c", "8", true));
}

TEST(MqttSiteMap, ReadsTheMqttKeys) {
  const SiteMap m = ParseSiteMap(kMap, "map.yaml");
  ASSERT_EQ(m.sources.size(), 1u);
  const Source& s = m.sources[0];
  EXPECT_EQ(s.kind, "mqtt");
  EXPECT_EQ(s.host, "127.0.0.1");
  EXPECT_EQ(s.port, 1884);
  EXPECT_EQ(s.mqtt.qos, 0);
  EXPECT_EQ(s.mqtt.client_id, "fw-ingest-1");
  ASSERT_EQ(s.mqtt.topics.size(), 2u);
  const MqttTopic& t = s.mqtt.topics[0];
  EXPECT_EQ(t.name, "bms_power_w");
  ASSERT_EQ(t.labels.size(), 2u);
  EXPECT_EQ(t.labels[1].label, "equipment");
  EXPECT_EQ(t.labels[1].level, 4);
  EXPECT_EQ(t.payload, MqttTopic::Payload::kJson);
  EXPECT_EQ(t.field, "value");  // the default
  EXPECT_EQ(t.time_field, "t_ms");
  EXPECT_EQ(s.mqtt.topics[1].payload, MqttTopic::Payload::kNumber);

  // The default port, and the binding's placeholder filled from a level label.
  std::string text = kMap;
  text.replace(text.find(":1884"), 5, "");
  const SiteMap d = ParseSiteMap(text, "map.yaml");
  EXPECT_EQ(d.sources[0].port, 1883);
  const MqttDecoded msg = DecodeMqttMessage(
      d.sources[0].mqtt.topics, "firstwall/h/bms/pump/power_w", R"({"value":5,"t_ms":1})", 0);
  ASSERT_TRUE(msg.ok);
  std::string id;
  EXPECT_TRUE(d.bindings[0].Matches(msg.sample, id));
  EXPECT_EQ(id, "pump");
}

TEST(MqttSiteMap, ErrorsNameFileLineColumn) {
  struct Case {
    std::string from, to, want;
  };
  const std::vector<Case> cases = {
      {"/+/bms/+/power_w", "/+/bms/+/power_w#",
       "map.yaml:10:17: error: 'firstwall/+/bms/+/power_w#' "
       "is not an MQTT topic filter: '#' shares level 5"},
      {"equipment: 4", "equipment: 6",
       "map.yaml:12:38: error: label 'equipment': level '6' is not "
       "a whole number from 1 to 5"},
      {"equipment: 4", "topic: 4", "map.yaml:12:34: error: 'topic' is not a label name"},
      {"name: bms_power_w", "name: bms-power",
       "map.yaml:11:15: error: 'bms-power' is not a metric"},
      {"qos: 0", "qos: 2", "map.yaml:7:10"},
      {"client_id: fw-ingest-1", "client_id: a/b", "map.yaml:8:16: error: 'a/b' is not 1 to 23"},
      {"payload: number", "payload: number\n        field: v",
       "map.yaml:17:16: error: 'field' is for payload: json"},
      {"payload: number", "payload: text", "map.yaml:16:18"},
      {"time_field: t_ms", "time_field: ''",
       "map.yaml:13:21: error: 'sources[0].topics[0].time_field' is empty"},
      {"1884\"", "1884/x\"",
       "map.yaml:5:10: error: an mqtt url is mqtt://host[:port], without a path"},
      {"mqtt://", "http://", "map.yaml:5:10: error: 'http://127.0.0.1:1884'"},
      {"kind: mqtt\n    url: \"mqtt", "kind: prometheus\n    url: \"http",
       "map.yaml:7:10: error: 'qos' is a key of mqtt sources, not prometheus"},
      {"    topics:\n      - filter: \"firstwall", "    topicz:\n      - filter: \"firstwall",
       "map.yaml:9:5"},
  };
  for (const Case& c : cases) {
    std::string text = kMap;
    const size_t at = text.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    text.replace(at, c.from.size(), c.to);
    try {
      ParseSiteMap(text, "map.yaml");
      ADD_FAILURE() << "no error for " << c.to;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(c.want), std::string::npos)
          << "want: " << c.want << "\ngot: " << e.what();
    }
  }
}

TEST(MqttServer, TheEmulatorsTopicTreeAndPayloads) {
  EXPECT_EQ(TopicLevel("live twin test hall"), "live-twin-test-hall");
  EXPECT_EQ(TopicLevel("a/b+#"), "a-b--");
  EXPECT_EQ(TopicLevel(""), "site");
  Snapshot s;
  s.t_s = 2.5;
  s.epoch0_ms = 1000;
  s.families.push_back({"firstwall_chiller_power_watts", "gauge", "", "W", 3, {{{}, 1234.56789}}});
  s.families.push_back(
      {"firstwall_outdoor_wet_bulb_temperature_celsius", "gauge", "", "C", 3, {{{}, 18.25}}});
  s.families.push_back({"firstwall_pump_power_watts", "gauge", "", "W", 3, {}});  // dropped out
  s.families.push_back({"firstwall_fan_power_watts", "gauge", "", "W", 3, {{{}, std::nan("")}}});
  const std::vector<MqttMessage> m = BmsMessages(s, "hall");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].topic, "firstwall/hall/bms/chiller/power_w");
  // Rounded to the exposition's 3 decimals; t_ms = 1000 + 2.5 s.
  EXPECT_EQ(m[0].payload, R"({"value":1234.568,"t_ms":3500})");
  EXPECT_EQ(m[1].topic, "firstwall/hall/bms/weather/wet_bulb_c");
  EXPECT_EQ(m[1].payload, R"({"value":18.25,"t_ms":3500})");
  EXPECT_THROW(StartMqttPublisher("tcp://x:1", "s"), InputError);
  EXPECT_THROW(StartMqttPublisher("mqtt://x:0", "s"), InputError);
  EXPECT_THROW(StartMqttPublisher("mqtt://:1883", "s"), InputError);
  // Port 1 on loopback: no broker there, and emulate says so (exit 2) instead of running blind.
  try {
    StartMqttPublisher("mqtt://127.0.0.1:1", "s");
    ADD_FAILURE() << "no error without a broker";
  } catch (const InputError& e) {
    EXPECT_NE(
        std::string(e.what()).find(
            "--mqtt: error: cannot connect to the MQTT broker at 127.0.0.1:1: Connection refused"),
        std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace firstwall::live
