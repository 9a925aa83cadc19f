#include "live/site_map.h"

#include <charconv>
#include <set>

#include <fmt/format.h>

#include "core/text_input.h"
#include "scenario/reader.h"
#include "units/quantity.h"

namespace firstwall::live {
namespace {
using scenario::KeySpec;
using scenario::Schema;
using scenario::Section;
using scenario::ValueType;
using units::Dimension;

KeySpec Key(std::string path, ValueType type, bool required, std::string description,
            std::string def = "", std::string choices = "", Dimension dim = Dimension::kPower,
            std::string lo = "", std::string hi = "") {
  return {std::move(path),       type,          dim,           required,
          std::move(def),        std::move(lo), std::move(hi), std::move(choices),
          std::move(description)};
}

// The protocols a source may speak, each with the URL scheme its address is written in.
struct KindInfo {
  const char* kind;
  const char* scheme;
  int default_port;
};
constexpr KindInfo kKinds[] = {
    {"prometheus", "http", 80},
    {"mqtt", "mqtt", 1883},
};

std::string KindWords() {
  std::string out;
  for (const KindInfo& k : kKinds) out += fmt::format("{}{}", out.empty() ? "" : "|", k.kind);
  return out;
}

// SCHEME://host[:port][/path]; false with `why` otherwise.
bool SplitUrl(const std::string& url, const KindInfo& kind, Source& s, std::string& why) {
  const std::string scheme = fmt::format("{}://", kind.scheme);
  s.port = kind.default_port;
  if (!url.starts_with(scheme)) {
    why = fmt::format("a {} source's url is {}host[:port]/path", kind.kind, scheme);
    return false;
  }
  const std::string rest = url.substr(scheme.size());
  const size_t slash = rest.find('/');
  const std::string hostport = rest.substr(0, slash);
  s.path = slash == std::string::npos ? "/" : rest.substr(slash);
  const size_t colon = hostport.rfind(':');
  s.host = hostport.substr(0, colon);
  if (s.host.empty()) {
    why = "no host";
    return false;
  }
  if (colon != std::string::npos) {
    const std::string port = hostport.substr(colon + 1);
    int p = 0;
    const auto r = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || r.ec != std::errc() || r.ptr != port.data() + port.size() || p < 1 ||
        p > 65535) {
      why = fmt::format("port '{}' is not a whole number from 1 to 65535", port);
      return false;
    }
    s.port = p;
  }
  return true;
}

}  // namespace

const Schema& SiteMapSchema() {
  using VT = ValueType;
  static const Schema schema(
      "site map",
      {
          Key("firstwall_site_map", VT::kInt, true, "Site map format version. This build reads 1.",
              "", "", Dimension::kPower, "1", "1"),
          Key("site", VT::kString, false, "Name of the site, copied into the outputs."),
          Key("sources", VT::kList, true, "Where telemetry comes from."),
          Key("sources[].name", VT::kString, true, "Name bindings refer to; unique."),
          Key("sources[].kind", VT::kEnum, true,
              "Protocol. prometheus: the text exposition format scraped over HTTP (dcgm-exporter, "
              "node exporters, `firstwall emulate`). mqtt: messages on MQTT topics (building "
              "management), "
              "see sources[].topics.",
              "", KindWords()),
          Key("sources[].url", VT::kString, true,
              "Where the source is, in its protocol's scheme: prometheus http://host[:port]/path "
              "of the endpoint (/metrics); mqtt mqtt://host[:port] of the broker (port 1883)."),
          Key("sources[].interval", VT::kQuantity, true,
              "How often it is scraped; also the spacing quality expects of its streams.", "", "",
              Dimension::kDuration, "10 ms", "1 d"),
          Key("sources[].timeout", VT::kQuantity, false,
              "How long one scrape may take before it counts as failed.", "5 s", "",
              Dimension::kDuration, "10 ms", "10 min"),
          // kind: mqtt (mqtt_topic.h, docs/live.md "MQTT").
          Key("sources[].qos", VT::kInt, false,
              "mqtt: QoS of the subscriptions, 0 (at most once) or 1 (at least once).", "1", "",
              Dimension::kPower, "0", "1"),
          Key("sources[].client_id", VT::kString, false,
              "mqtt: client identifier (1-23 letters, digits, - or _); none: a clean session "
              "under a name the library picks."),
          Key("sources[].topics", VT::kList, false,
              "mqtt (required there): the topic filters subscribed to; a message is read by the "
              "first whose filter matches its topic."),
          Key("sources[].topics[].filter", VT::kString, true,
              "MQTT topic filter: levels split by '/', '+' one level, '#' all below "
              "(\"firstwall/+/bms/+/power_w\")."),
          Key("sources[].topics[].name", VT::kString, true,
              "Metric name of its samples, as bindings' series name it; every sample also has "
              "the label topic (its topic name)."),
          Key("sources[].topics[].labels", VT::kStringMap, false,
              "Labels from topic levels, label: level counted from 1 at the left "
              "({equipment: 4}), for ids like \"{equipment}\"."),
          Key("sources[].topics[].payload", VT::kEnum, false,
              "number: the payload is one number; json: an object holding it under `field`.",
              "json", "number|json"),
          Key("sources[].topics[].field", VT::kString, false,
              "json: top-level key holding the value (a JSON number).", "value"),
          Key("sources[].topics[].time_field", VT::kString, false,
              "json: top-level key holding the sample's time in whole ms since the Unix epoch; "
              "none: the time the message was taken."),
          Key("bindings", VT::kList, true, "Which stream is which twin entity and quantity."),
          Key("bindings[].source", VT::kString, true, "The source's name."),
          Key("bindings[].series", VT::kString, true,
              "Metric name with optional label matchers, as in the exposition format: "
              "'DCGM_FI_DEV_POWER_USAGE{gpu=\"3\",Hostname=\"node0\"}'."),
          Key("bindings[].entity", VT::kEnum, true, "Kind of twin entity.", "", EntityChoices()),
          Key("bindings[].id", VT::kString, true,
              "The entity's id; \"{label}\" is replaced by that label's value, binding every "
              "matching stream (\"{Hostname}/gpu{gpu}\")."),
          Key("bindings[].quantity", VT::kEnum, true, "What the stream measures.", "",
              QuantityChoices()),
          Key("bindings[].unit", VT::kEnum, true,
              "The unit the source reports in (stored in the quantity's base unit).", "",
              UnitChoices()),
      });
  return schema;
}

bool Binding::Matches(const PromSample& s, std::string& entity_id) const {
  if (s.metric != metric) return false;
  for (const Label& m : match) {
    const std::string* v = s.Find(m.name);
    if (!v || *v != m.value) return false;
  }
  entity_id.clear();
  for (size_t i = 0; i < id.size(); ++i) {
    if (id[i] != '{') {
      entity_id += id[i];
      continue;
    }
    const size_t close = id.find('}', i);
    const std::string* v = s.Find(std::string_view(id).substr(i + 1, close - i - 1));
    if (!v) return false;
    entity_id += *v;
    i = close;
  }
  return true;
}

const Source* SiteMap::FindSource(const std::string& name) const {
  for (const Source& s : sources) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

SiteMap ParseSiteMap(const std::string& text, const std::string& file) {
  const scenario::Document doc = scenario::Document::Parse(
      text, file, "a site map starts with 'firstwall_site_map: 1'; see docs/live.md");
  const Section root(doc, SiteMapSchema(), doc.root(), "", "", doc.At(doc.root()));
  root.Int("firstwall_site_map");
  SiteMap map;
  map.file = file;
  if (root.Has("site")) map.site = root.String("site");
  for (const Section& s : root.List("sources")) {
    Source src;
    src.name = s.String("name");
    if (src.name.empty()) s.Fail("name", "a source's name may not be empty");
    if (map.FindSource(src.name)) {
      s.Fail("name", fmt::format("a second source named '{}'", src.name));
    }
    src.kind = s.Enum("kind");
    src.url = s.String("url");
    const KindInfo* kind = nullptr;
    for (const KindInfo& k : kKinds) {
      if (src.kind == k.kind) kind = &k;
    }
    std::string why;
    if (!SplitUrl(src.url, *kind, src, why)) s.Fail("url", fmt::format("'{}': {}", src.url, why));
    src.interval_s = s.Quantity<units::Duration>("interval").base();
    src.timeout_s = s.Quantity<units::Duration>("timeout").base();
    src.mqtt = ReadMqttKeys(s, src.kind, src.path);
    map.sources.push_back(std::move(src));
  }
  std::set<std::string> fixed_ids;
  for (const Section& b : root.List("bindings")) {
    Binding bind;
    bind.where = b.where().ToString();
    bind.source = b.String("source");
    if (!map.FindSource(bind.source)) {
      std::string names;
      for (const Source& s : map.sources)
        names += fmt::format("{}{}", names.empty() ? "" : ", ", s.name);
      b.Fail("source", fmt::format("no source is named '{}'", bind.source),
             fmt::format("sources: {}", names));
    }
    const std::string series = b.String("series");
    // The selector is a sample line without its value: read it with the exposition reader.
    const PromText p = ParsePrometheusText(series + " 0");
    if (p.samples.size() != 1 || series.find('\n') != std::string::npos) {
      b.Fail("series",
             fmt::format("'{}' is not a metric name with label matchers: {}", series,
                         p.rejects.empty() ? "more than one line" : p.rejects[0].reason),
             "write it as DCGM_FI_DEV_POWER_USAGE{gpu=\"3\",Hostname=\"node0\"}");
    }
    bind.metric = p.samples[0].metric;
    bind.match = p.samples[0].labels;
    bind.entity = b.Enum("entity");
    bind.id = b.String("id");
    if (bind.id.empty()) b.Fail("id", "an entity id may not be empty");
    int depth = 0;
    for (size_t i = 0; i < bind.id.size(); ++i) {
      const char c = bind.id[i];
      if (c == '{' && ++depth > 1) b.Fail("id", "'{' inside a placeholder");
      if (c == '}' && --depth < 0) b.Fail("id", "'}' without '{'");
      if (c == '}' && bind.id[i - 1] == '{') b.Fail("id", "an empty placeholder '{}'");
    }
    if (depth != 0) b.Fail("id", "a placeholder not closed by '}'");
    bind.quantity = FindQuantity(b.Enum("quantity"));
    if (bind.id.find('{') == std::string::npos) {
      const std::string key = bind.entity + "/" + bind.id + "/" + std::string(bind.quantity->name);
      if (!fixed_ids.insert(key).second) {
        b.Fail("id", fmt::format("{} '{}' already has a {} stream", bind.entity, bind.id,
                                 bind.quantity->name));
      }
    }
    bind.unit = FindUnit(b.Enum("unit"));
    if (bind.unit->quantity != bind.quantity->name) {
      b.Fail("unit", fmt::format("'{}' measures {}, not {}", bind.unit->name, bind.unit->quantity,
                                 bind.quantity->name));
    }
    map.bindings.push_back(std::move(bind));
  }
  return map;
}

SiteMap LoadSiteMap(const std::string& path) {
  return ParseSiteMap(text::ReadFile(path, "site map"), path);
}

}  // namespace firstwall::live
