// MQTT messages as a broker hands them to an mqtt source (src/live/mqtt_topic.h): the input's first
// line is the topic, the rest the payload. Every input must decode or be refused without throwing,
// and what decodes must be a finite value on a matching topic.
#include <cmath>

#include "fuzz/fuzz_main.h"
#include "live/mqtt_topic.h"

namespace {

std::vector<firstwall::live::MqttTopic> Topics() {
  using firstwall::live::MqttTopic;
  MqttTopic json;
  json.filter = "site/+/bms/+/power_w";
  json.name = "power_w";
  json.labels = {{"site", 2}, {"equipment", 4}};
  json.time_field = "t_ms";
  MqttTopic number;
  number.filter = "plain/#";
  number.name = "plain";
  number.payload = MqttTopic::Payload::kNumber;
  number.labels = {{"room", 3}};
  MqttTopic any;
  any.filter = "#";
  any.name = "any";
  any.field = "v";
  return {json, number, any};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<firstwall::live::MqttTopic> topics = Topics();
  return firstwall::fuzz::Run(data, size, [](const std::string& text) {
    const size_t nl = text.find('\n');
    const std::string topic = text.substr(0, nl);
    const std::string payload = nl == std::string::npos ? "" : text.substr(nl + 1);
    const firstwall::live::MqttDecoded d =
        firstwall::live::DecodeMqttMessage(topics, topic, payload, 1);
    FW_CHECK(d.ok != !d.reason.empty(), "a message is either decoded or refused with a reason");
    if (d.ok) {
      FW_CHECK(std::isfinite(d.sample.value), "a decoded value is finite");
      bool matched = false;
      for (const auto& t : topics)
        matched = matched || firstwall::live::TopicMatches(t.filter, topic);
      FW_CHECK(matched, "a decoded message's topic matches a filter");
    }
  });
}
