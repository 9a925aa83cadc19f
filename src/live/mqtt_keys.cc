// The site map's keys of `kind: mqtt` sources (mqtt_topic.h): apart from the topic and payload
// functions so that those need no scenario reader (their fuzz target links them alone).
#include <charconv>
#include <set>

#include <fmt/format.h>

#include "core/error.h"
#include "live/mqtt_topic.h"
#include "live/prometheus_text.h"
#include "scenario/reader.h"

namespace firstwall::live {
MqttKeys ReadMqttKeys(const scenario::Section& s, const std::string& kind,
                      const std::string& path) {
  MqttKeys keys;
  if (kind != "mqtt") {
    for (const char* key : {"qos", "client_id", "topics"}) {
      if (s.Has(key)) s.Fail(key, fmt::format("'{}' is a key of mqtt sources, not {}", key, kind));
    }
    return keys;
  }
  if (path != "/") s.Fail("url", "an mqtt url is mqtt://host[:port], without a path");
  keys.qos = s.Int("qos");
  if (s.Has("client_id")) {
    keys.client_id = s.String("client_id");
    if (keys.client_id.empty() || keys.client_id.size() > 23 ||
        keys.client_id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789-_") != std::string::npos) {
      s.Fail("client_id",
             fmt::format("'{}' is not 1 to 23 letters, digits, '-' or '_'", keys.client_id),
             "the lengths and characters every MQTT 3.1.1 broker accepts");
    }
  }
  const std::vector<scenario::Section> items = s.List("topics");
  if (items.empty()) s.Fail("topics", "an mqtt source needs at least one topic filter");
  for (const scenario::Section& t : items) {
    MqttTopic topic;
    topic.filter = t.String("filter");
    if (const std::string why = TopicFilterProblem(topic.filter); !why.empty()) {
      t.Fail("filter", fmt::format("'{}' is not an MQTT topic filter: {}", topic.filter, why),
             "levels split by '/'; '+' takes one whole level, '#' the last");
    }
    topic.name = t.String("name");
    if (!IsMetricName(topic.name)) {
      t.Fail("name",
             fmt::format("'{}' is not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)", topic.name));
    }
    const std::vector<std::string_view> levels = TopicLevels(topic.filter);
    const bool open = levels.back() == "#";
    std::set<std::string> seen;
    for (const scenario::Section::Entry& e : t.StringEntries("labels")) {
      if (!IsLabelName(e.key) || e.key == "topic") {
        throw InputError(e.at, fmt::format("'{}' is not a label name of its own ([a-zA-Z_][a-zA-Z0-"
                                           "9_]*; 'topic' is every sample's topic name)",
                                           e.key));
      }
      int level = 0;
      const auto r = std::from_chars(e.text.data(), e.text.data() + e.text.size(), level);
      const int most = open ? 1000 : static_cast<int>(levels.size());
      if (r.ec != std::errc() || r.ptr != e.text.data() + e.text.size() || level < 1 ||
          level > most) {
        throw InputError(e.at,
                         fmt::format("label '{}': level '{}' is not a whole number from 1 to {}",
                                     e.key, e.text, most),
                         fmt::format("levels of '{}' count from 1 at the left", topic.filter));
      }
      if (!seen.insert(e.key).second) {
        throw InputError(e.at, fmt::format("label '{}' is named twice", e.key));
      }
      topic.labels.push_back({e.key, level});
    }
    topic.payload =
        t.Enum("payload") == "number" ? MqttTopic::Payload::kNumber : MqttTopic::Payload::kJson;
    if (topic.payload == MqttTopic::Payload::kNumber) {
      for (const char* key : {"field", "time_field"}) {
        if (t.Has(key)) t.Fail(key, fmt::format("'{}' is for payload: json", key));
      }
    } else {
      topic.field = t.String("field");
      if (topic.field.empty()) t.Fail("field", "an empty field name");
      if (t.Has("time_field")) {
        topic.time_field = t.String("time_field");
        if (topic.time_field.empty()) t.Fail("time_field", "an empty field name");
      }
    }
    keys.topics.push_back(std::move(topic));
  }
  return keys;
}

}  // namespace firstwall::live
