#include "live/mqtt_topic.h"

#include <cctype>
#include <charconv>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace firstwall::live {
namespace {

// A payload or topic shortened for a message: at most 40 bytes, control bytes as '?'.
std::string Shown(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 40; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    out += c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c);
  }
  if (s.size() > 40) out += "...";
  return out;
}

// Deepest nesting of arrays and objects outside strings: nlohmann's parser and destructor recurse,
// so a payload of a million '[' is refused before it is parsed.
int NestingDepth(std::string_view s) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

constexpr int kMaxJsonDepth = 32;

}  // namespace

std::string TopicFilterProblem(std::string_view filter) {
  if (filter.empty()) return "an empty topic filter";
  if (filter.size() > 65535) return "longer than 65535 bytes";
  if (filter.find('\0') != std::string_view::npos) return "a NUL byte";
  const std::vector<std::string_view> levels = TopicLevels(filter);
  for (size_t i = 0; i < levels.size(); ++i) {
    const std::string_view l = levels[i];
    if (l.find('#') != std::string_view::npos) {
      if (l != "#") return fmt::format("'#' shares level {} with other text", i + 1);
      if (i + 1 != levels.size()) return "'#' is not the last level";
    }
    if (l.find('+') != std::string_view::npos && l != "+") {
      return fmt::format("'+' shares level {} with other text", i + 1);
    }
  }
  return "";
}

std::vector<std::string_view> TopicLevels(std::string_view topic) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t slash = topic.find('/', start);
    out.push_back(topic.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

bool TopicMatches(std::string_view filter, std::string_view topic) {
  if (!topic.empty() && topic[0] == '$' && !filter.empty() &&
      (filter[0] == '+' || filter[0] == '#'))
    return false;
  const std::vector<std::string_view> f = TopicLevels(filter);
  const std::vector<std::string_view> t = TopicLevels(topic);
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "#") return true;  // this level and all below, none included ("a/#" matches "a")
    if (i >= t.size()) return false;
    if (f[i] != "+" && f[i] != t[i]) return false;
  }
  return f.size() == t.size();
}

MqttDecoded DecodeMqttMessage(const std::vector<MqttTopic>& topics, std::string_view topic,
                              std::string_view payload, int64_t now_ms) {
  MqttDecoded out;
  const MqttTopic* entry = nullptr;
  for (const MqttTopic& t : topics) {
    if (TopicMatches(t.filter, topic)) {
      entry = &t;
      break;
    }
  }
  auto refuse = [&](std::string why) {
    out.reason = fmt::format("topic '{}': {}", Shown(topic), why);
    return out;
  };
  if (!entry) return refuse("no topic filter of the source matches");
  PromSample& s = out.sample;
  s.metric = entry->name;
  const std::vector<std::string_view> levels = TopicLevels(topic);
  for (const MqttTopic::LevelLabel& l : entry->labels) {
    if (l.level > static_cast<int>(levels.size())) {
      return refuse(fmt::format("no level {} for label '{}'", l.level, l.label));
    }
    s.labels.push_back({l.label, std::string(levels[static_cast<size_t>(l.level - 1)])});
  }
  s.labels.push_back({"topic", std::string(topic)});

  if (entry->payload == MqttTopic::Payload::kNumber) {
    std::string_view text = payload;
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
      text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
      text.remove_suffix(1);
    double v = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || r.ec != std::errc() || r.ptr != text.data() + text.size() ||
        !std::isfinite(v)) {
      return refuse(fmt::format("payload '{}' is not a number", Shown(payload)));
    }
    s.value = v;
    s.timestamp_ms = now_ms;
    out.ok = true;
    return out;
  }

  if (NestingDepth(payload) > kMaxJsonDepth) {
    return refuse(fmt::format("JSON nested deeper than {} levels", kMaxJsonDepth));
  }
  const nlohmann::json j = nlohmann::json::parse(payload, nullptr, false);
  if (j.is_discarded()) return refuse(fmt::format("payload '{}' is not JSON", Shown(payload)));
  if (!j.is_object())
    return refuse(fmt::format("payload '{}' is not a JSON object", Shown(payload)));
  const auto v = j.find(entry->field);
  if (v == j.end()) return refuse(fmt::format("no field '{}'", entry->field));
  if (!v->is_number()) {
    return refuse(fmt::format("field '{}' is {}, not a number", entry->field, v->type_name()));
  }
  s.value = v->get<double>();
  if (!std::isfinite(s.value)) return refuse(fmt::format("field '{}' is not finite", entry->field));
  s.timestamp_ms = now_ms;
  if (!entry->time_field.empty()) {
    const auto t = j.find(entry->time_field);
    if (t == j.end()) return refuse(fmt::format("no time field '{}'", entry->time_field));
    const double ms = t->is_number() ? t->get<double>() : -1;
    // Whole milliseconds from the epoch up to 2^53 (year 287,396): what a double holds exactly.
    if (!(ms >= 0 && ms <= 0x1.0p53 && std::floor(ms) == ms)) {
      return refuse(fmt::format("time field '{}' is not whole ms since the Unix epoch: {}",
                                entry->time_field, Shown(t->dump())));
    }
    s.timestamp_ms = static_cast<int64_t>(ms);
  }
  out.ok = true;
  return out;
}

bool RetainedRepeats::Repeat(std::string_view topic, std::string_view payload,
                             bool retained) const {
  if (!retained) return false;
  const auto it = last_.find(topic);
  return it != last_.end() && it->second == payload;
}

void RetainedRepeats::Accepted(std::string_view topic, std::string_view payload) {
  const auto it = last_.find(topic);
  if (it != last_.end()) {
    it->second.assign(payload);
  } else if (last_.size() < max_topics_) {
    last_.emplace(std::string(topic), std::string(payload));
  }
}

}  // namespace firstwall::live
