#include "live/site_map.h"

#include <charconv>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "core/text_input.h"
#include "live/redfish.h"
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
    {"prometheus", "http", 80}, {"modbus", "modbus-tcp", 502}, {"remote_write", "http", 0},
    {"redfish", "http", 80},    {"snmp", "snmp", 161},         {"mqtt", "mqtt", 1883},
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
  // An IPv6 address in brackets, as URLs write it (RFC 3986); Source::host keeps it without them.
  size_t colon = hostport.rfind(':');
  if (hostport.starts_with('[')) {
    const size_t close = hostport.find(']');
    if (close == std::string::npos || close == 1 ||
        (close + 1 < hostport.size() && hostport[close + 1] != ':')) {
      why = fmt::format("'{}' is not [IPV6]:PORT", hostport);
      return false;
    }
    s.host = hostport.substr(1, close - 1);
    colon = close + 1 < hostport.size() ? close + 1 : std::string::npos;
  } else {
    s.host = hostport.substr(0, colon);
    if (s.host.find(':') != std::string::npos) {
      why = fmt::format("'{}': an IPv6 address goes in brackets, [::1]:PORT", hostport);
      return false;
    }
  }
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
  if (s.port == 0) {  // a listener: a port taken by default would be a surprise (80 needs root)
    why = fmt::format("a {} source's url names its port: {}host:port/path", kind.kind, scheme);
    return false;
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
              "node exporters, `firstwall emulate`). modbus: Modbus TCP registers (meters, UPS). "
              "remote_write: Prometheus remote-write 1.0 received (protobuf + snappy POSTs; "
              "ingest listens). redfish: a BMC's Redfish resources polled over HTTP (JSON). snmp: "
              "SNMPv2c GETs of an OID map (UPS, PDUs). mqtt: messages on MQTT topics (building "
              "management), see sources[].topics.",
              "", KindWords()),
          Key("sources[].url", VT::kString, true,
              "Where the source is, in its protocol's scheme: prometheus http://host[:port]/path "
              "of the endpoint (/metrics); modbus modbus-tcp://host[:port] (port 502 by default); "
              "remote_write http://host:port/path where ingest listens (/api/v1/write; loopback "
              "unless another host is written); redfish http://host[:port] of the BMC; snmp "
              "snmp://host[:port] (UDP, 161 by default); mqtt mqtt://host[:port] of the broker "
              "(port 1883)."),
          Key("sources[].interval", VT::kQuantity, true,
              "How often it is scraped; also the spacing quality expects of its streams.", "", "",
              Dimension::kDuration, "10 ms", "1 d"),
          Key("sources[].timeout", VT::kQuantity, false,
              "How long one scrape may take before it counts as failed.", "5 s", "",
              Dimension::kDuration, "10 ms", "10 min"),
          Key("sources[].unit_id", VT::kInt, false,
              "modbus: the unit (slave) id of requests: 0 to 247, or 255.", "1", "",
              Dimension::kPower, "0", "255"),
          Key("sources[].registers", VT::kList, false,
              "modbus: the registers to read, each a sample named `name` (with `labels`) for "
              "bindings."),
          Key("sources[].registers[].name", VT::kString, true, "Metric name bindings use."),
          Key("sources[].registers[].labels", VT::kStringMap, false, "Labels of the sample."),
          Key("sources[].registers[].table", VT::kEnum, false,
              "holding (function 3) or input (function 4) registers.", "holding", "holding|input"),
          Key("sources[].registers[].address", VT::kInt, true,
              "0-based address of the first register (mbpoll -0 -r).", "", "", Dimension::kPower,
              "0", "65535"),
          Key("sources[].registers[].type", VT::kEnum, true,
              "The number its 1, 2 or 4 registers hold.", "",
              "uint16|int16|uint32|int32|float32|uint64|int64|float64"),
          Key("sources[].registers[].word_order", VT::kEnum, false,
              "Which 16-bit word of a multi-register value comes first: big (most significant, "
              "ABCD) or little (CDAB); bytes within a word are big-endian.",
              "big", "big|little"),
          Key("sources[].registers[].scale", VT::kNumber, false,
              "The value is raw x scale, in the binding's unit.", "1"),
          // kind redfish (redfish.h)
          Key("sources[].resources", VT::kList, false,
              "redfish: the readings to take, each a number in a resource."),
          Key("sources[].resources[].path", VT::kString, true,
              "The resource's path: /redfish/v1/Chassis/1/Power."),
          Key("sources[].resources[].pointer", VT::kString, true,
              "JSON pointer (RFC 6901) to the number: /PowerControl/0/PowerConsumedWatts, "
              "/Temperatures/0/ReadingCelsius."),
          Key("sources[].resources[].name", VT::kString, true,
              "Metric name the reading gets, for bindings' series."),
          Key("sources[].resources[].labels", VT::kStringMap, false,
              "Labels the reading gets ({node: node0}), for bindings' matchers and ids."),
          Key("sources[].user", VT::kString, false, "redfish: HTTP basic-auth user."),
          Key("sources[].password_env", VT::kString, false,
              "redfish: the environment variable that holds the password (never the password)."),
          // kind snmp (snmp_map.h).
          Key("sources[].community", VT::kString, false,
              "snmp: the SNMPv2c community the agent answers reads for.", "public"),
          Key("sources[].oids", VT::kList, false,
              "snmp (required there): the OIDs polled, all in one GET request (several when more "
              "than 32), each becoming a sample that bindings name by `name` and `labels`."),
          Key("sources[].oids[].oid", VT::kString, true,
              "Numeric OID of one instance, dotted: .1.3.6.1.2.1.33.1.4.4.1.4.1 (UPS-MIB "
              "upsOutputPower, line 1). MIB names are not read."),
          Key("sources[].oids[].name", VT::kString, true,
              "Metric name of its samples, what bindings' `series` names: ups_output_power_watts."),
          Key("sources[].oids[].scale", VT::kNumber, false,
              "Value = the OID's raw number x scale (0.1 for a MIB that reports tenths); the "
              "binding's unit is that of the scaled value.",
              "1"),
          Key("sources[].oids[].labels", VT::kStringMap, false,
              "Labels of its samples, for bindings' matchers and {label} ids: {line: \"1\"}."),
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
          Key("balances", VT::kList, false,
              "Meters that should add up, checked by `firstwall quality --site-map` (accuracy of "
              "the parent)."),
          Key("balances[].name", VT::kString, false, "Name for messages; default: the parent."),
          Key("balances[].parent", VT::kString, true,
              "ENTITY/ID of the upstream meter (facility/site, ups/ups-1)."),
          Key("balances[].children", VT::kTextList, true,
              "ENTITY/ID of each meter it feeds ([pdu/pdu-1, pdu/pdu-2])."),
          Key("balances[].quantity", VT::kEnum, false,
              "The quantity compared: power, the one that adds up (temperatures and PUEs do not, "
              "an energy counter balances through the power it counts).",
              "power", QuantityChoices()),
          Key("balances[].efficiency", VT::kFraction, false,
              "The children's sum over the parent: the losses between them (a UPS's efficiency).",
              "100 %", "", Dimension::kPower, "0.01", "1"),
          Key("balances[].tolerance", VT::kFraction, false,
              "How far a parent sample may be off its children's sum, relative to it.", "2 %", "",
              Dimension::kPower, "0.0001", "1"),
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
    if (src.kind == "modbus") {
      if (src.path != "/") s.Fail("url", fmt::format("'{}': a modbus url has no path", src.url));
      src.modbus = ReadModbusSource(s);
    } else if (s.Has("registers") || s.Has("unit_id")) {
      const char* key = s.Has("registers") ? "registers" : "unit_id";
      s.Fail(key, fmt::format("'{}' is a modbus source's key, not a {} source's", key, src.kind));
    }
    src.interval_s = s.Quantity<units::Duration>("interval").base();
    src.timeout_s = s.Quantity<units::Duration>("timeout").base();
    ParseRedfishKeys(s, src);
    src.snmp = ReadSnmpKeys(s, src.kind, src.path);
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
  if (root.Has("balances")) {
    // ENTITY/ID, or a failure at `at`.
    auto entity_id = [](const std::string& written, const SourceLocation& at) {
      const size_t slash = written.find('/');
      if (slash == std::string::npos || slash == 0 || slash + 1 == written.size() ||
          !IsEntityKind(written.substr(0, slash))) {
        throw InputError(at, fmt::format("'{}' is not ENTITY/ID", written),
                         fmt::format("ENTITY one of {}", EntityChoices()));
      }
      return std::pair{written.substr(0, slash), written.substr(slash + 1)};
    };
    for (const Section& b : root.List("balances")) {
      Balance bal;
      bal.where = b.where().ToString();
      const std::string parent = b.String("parent");
      std::tie(bal.parent_entity, bal.parent_id) = entity_id(parent, b.ValueAt("parent"));
      bal.name = b.Has("name") ? b.String("name") : parent;
      const std::vector<std::string> children = b.Texts("children");
      for (size_t i = 0; i < children.size(); ++i) {
        bal.children.push_back(entity_id(children[i], b.ItemAt("children", i)));
        if (bal.children.back() == std::pair{bal.parent_entity, bal.parent_id}) {
          throw InputError(b.ItemAt("children", i),
                           fmt::format("'{}' is its own parent's child", children[i]));
        }
        if (std::find(bal.children.begin(), bal.children.end() - 1, bal.children.back()) !=
            bal.children.end() - 1) {
          throw InputError(b.ItemAt("children", i),
                           fmt::format("'{}' is listed twice: it would count twice", children[i]));
        }
      }
      if (bal.children.empty()) b.Fail("children", "a balance needs at least one child");
      bal.quantity = b.Enum("quantity");
      if (FindQuantity(bal.quantity)->counter) {
        b.Fail("quantity",
               fmt::format("'{}' is a counter: balance the power it counts", bal.quantity));
      }
      if (bal.quantity != "power") {  // the children's temperatures or PUEs do not add up
        b.Fail("quantity", fmt::format("a balance sums its children, and {} does not add up: only "
                                       "power does",
                                       bal.quantity));
      }
      bal.efficiency = b.Fraction("efficiency");
      bal.tolerance = b.Fraction("tolerance");
      map.balances.push_back(std::move(bal));
    }
  }
  return map;
}

SiteMap LoadSiteMap(const std::string& path) {
  return ParseSiteMap(text::ReadFile(path, "site map"), path);
}

}  // namespace firstwall::live
