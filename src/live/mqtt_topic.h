// MQTT sources (`kind: mqtt` in a site map, docs/live.md "MQTT"): which topics a source subscribes
// to and how a message on one of them becomes a sample named like a Prometheus series, so that
// bindings are written as for every other protocol. Pure functions, no network: the client that
// receives the messages is mqtt_reader.cc, the emulator's publisher mqtt_server.h.
//
//   sources:
//     - name: bms
//       kind: mqtt
//       url: "mqtt://127.0.0.1:1883"
//       interval: 1 s               # how often ingest takes what arrived; the spacing quality
//       expects qos: 1 topics:
//         - filter: "firstwall/+/bms/+/power_w"
//           name: bms_power_w        # the metric name bindings use
//           labels: {site: 2, equipment: 4}   # label <- topic level (1 = the first level)
//           payload: json
//           field: value             # the JSON key that holds the number
//           time_field: t_ms         # optional: the JSON key with ms since the Unix epoch
//
// A message on topic "firstwall/hall-a/bms/chiller/power_w" with payload {"value":1200,"t_ms":...}
// becomes
// bms_power_w{site="hall-a",equipment="chiller",topic="firstwall/hall-a/bms/chiller/power_w"} 1200
// at t_ms. Every sample carries the label `topic` (the whole topic name); the first topic entry
// whose filter matches claims a message. `payload: number` takes the whole payload as one number
// ("21.5"), stamped with the time it arrived.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "live/prometheus_text.h"

namespace firstwall::scenario {
class Section;
}

namespace firstwall::live {

struct MqttTopic {
  std::string filter;  // an MQTT topic filter: levels split by '/', '+' one level, '#' the rest
  std::string name;    // metric name of its samples
  struct LevelLabel {
    std::string label;
    int level = 0;  // 1-based level of the topic whose text becomes the label's value
  };
  std::vector<LevelLabel> labels;
  enum class Payload { kNumber, kJson };
  Payload payload = Payload::kJson;
  std::string field = "value";  // kJson: the top-level key holding the value (a JSON number)
  std::string time_field;       // kJson: top-level key holding ms since the epoch; "" = none
};

// The keys of one `kind: mqtt` source.
struct MqttKeys {
  std::vector<MqttTopic> topics;
  int qos = 1;            // of the subscriptions: 0 at most once, 1 at least once
  std::string client_id;  // "" = the broker gives none: a clean session under a random id
};

// "" when `filter` is a valid MQTT topic filter, else why not ('+' and '#' must take a whole
// level, '#' only the last; not empty; no NUL; at most 65535 bytes).
std::string TopicFilterProblem(std::string_view filter);
// Whether topic name `topic` matches `filter` (MQTT 3.1.1 section 4.7): '+' matches one level,
// empty included; '#' the parent level and any below; a filter starting with a wildcard does not
// match a topic starting with '$'.
bool TopicMatches(std::string_view filter, std::string_view topic);
// The topic's levels, split at '/' ("a//b" has three, the middle one empty).
std::vector<std::string_view> TopicLevels(std::string_view topic);

// A message made into a sample, or the reason it is refused.
struct MqttDecoded {
  bool ok = false;
  PromSample sample;
  std::string reason;  // when !ok
};
// Decodes a message on `topic` for the first entry of `topics` that matches it. A sample without
// a time of its own gets `now_ms`. Refused, with a reason naming the topic: no entry matches, a
// level a label names is missing, a payload that is not one finite number (number), not a JSON
// object, without the field, or with a non-number value or time (json). Never throws.
MqttDecoded DecodeMqttMessage(const std::vector<MqttTopic>& topics, std::string_view topic,
                              std::string_view payload, int64_t now_ms);

// A broker sends a topic's retained message again whenever a client subscribes, so after a
// reconnect ingest would store the last reading twice (a duplicate, or with `payload: number` the
// same reading restamped at its new arrival). Remembers each topic's last accepted payload; a
// retained message equal to it is a repeat. Memory: one payload per topic, for at most
// `max_topics` topics (past that, repeats of new topics pass).
class RetainedRepeats {
 public:
  explicit RetainedRepeats(size_t max_topics = 100000) : max_topics_(max_topics) {}
  // Whether the message is a retained repeat of the topic's last accepted payload.
  bool Repeat(std::string_view topic, std::string_view payload, bool retained) const;
  void Accepted(std::string_view topic, std::string_view payload);

 private:
  size_t max_topics_;
  std::map<std::string, std::string, std::less<>> last_;
};

// Reads the mqtt keys of a site map's source (`qos`, `client_id`, `topics`); when `kind` is not
// mqtt, InputError at the first of them present. `path` is the URL's path part: an mqtt URL has
// none. In mqtt_keys.cc (library fw_live): the rest of this header needs only fw_mqtt_topic.
MqttKeys ReadMqttKeys(const scenario::Section& source, const std::string& kind,
                      const std::string& path);

}  // namespace firstwall::live
