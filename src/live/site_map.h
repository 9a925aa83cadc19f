// The site map: which telemetry sources a site has and which of their streams is which twin entity
// and quantity. A YAML file declared through the scenario Schema machinery (SiteMapSchema), so
// unknown keys are refused and every error names file:line:col; docs/live.md embeds its key table.
//
//   firstwall_site_map: 1
//   site: hall-a
//   sources:
//     - {name: node0, kind: prometheus, url: "http://127.0.0.1:9400/metrics", interval: 1 s}
//   bindings:
//     - source: node0
//       series: 'DCGM_FI_DEV_POWER_USAGE{gpu="3",Hostname="node0"}'
//       entity: gpu
//       id: node0/gpu3
//       quantity: power
//       unit: W
//
// `series` is a metric name with optional label matchers (equality only), written as in the
// exposition format. `id` may name labels in braces ("{Hostname}/gpu{gpu}"): such a binding binds
// every sample of the source that matches, each to the entity its labels name.
//
// Kinds read so far: prometheus (scraped), remote_write (received; remote_write.h), modbus (its
// `unit_id` and `registers` keys: modbus_map.h), redfish (polled; its own keys under sources[]:
// redfish.h) and snmp (its keys: snmp_map.h). The other protocols of issue #13 are new kinds with
// their own keys under sources[].
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "live/modbus_map.h"
#include "live/mqtt_topic.h"
#include "live/prometheus_text.h"
#include "live/snmp_map.h"
#include "live/vocabulary.h"
#include "scenario/schema.h"

namespace firstwall::live {

// A reading a redfish source takes (redfish.h).
struct RedfishResource {
  std::string path;     // /redfish/v1/Chassis/1/Power
  std::string pointer;  // JSON pointer to a number in it: /PowerControl/0/PowerConsumedWatts
  std::string name;     // the metric name bindings use
  std::vector<Label> labels;
};

struct Source {
  std::string name;
  std::string kind;        // a word of sources[].kind: "prometheus", "modbus", "snmp", "mqtt", ...
  std::string url;         // http://host:port/path, snmp://host:port, mqtt://host:port, ...
  double interval_s = 15;  // how often it is scraped, and the spacing quality expects
  double timeout_s = 5;
  // Parts of `url`.
  std::string host, path;
  int port = 80;
  ModbusSource modbus;  // kind: modbus (modbus_map.h)
  // kind redfish (redfish.h): what it reads; basic auth when `user` is set, the password from the
  // environment variable `password_env` names.
  std::vector<RedfishResource> resources;
  std::string user, password_env;
  SnmpSource snmp;  // kind snmp: community and OID map (snmp_map.h)
  MqttKeys mqtt;    // kind: mqtt (mqtt_topic.h)
};

struct Binding {
  std::string source;  // a Source::name
  std::string metric;
  std::vector<Label> match;  // every one must equal the sample's label
  std::string entity;        // a word of kEntityKinds
  std::string id;            // may hold "{label}" placeholders
  const QuantityKind* quantity = nullptr;
  const UnitKind* unit = nullptr;  // of `quantity`
  std::string where;               // file:line:col of the binding, for messages

  // Whether `s` is this binding's; when it is, `entity_id` receives the id with placeholders
  // filled. A placeholder naming a label the sample lacks does not match.
  bool Matches(const PromSample& s, std::string& entity_id) const;
};

// A meter against the meters below it: `parent` should read the sum of `children` divided by
// `efficiency` (a UPS's input against its PDUs; the building's meter against its IT and cooling
// feeds, efficiency 1). Entities are written ENTITY/ID; the streams compared are their `quantity`.
struct Balance {
  std::string name;
  std::string parent_entity, parent_id;
  std::vector<std::pair<std::string, std::string>> children;  // (entity, id)
  std::string quantity = "power";
  double efficiency = 1;    // children's sum / parent, 0-1
  double tolerance = 0.02;  // relative to the parent's expected value
  std::string where;        // file:line:col, for messages
};

struct SiteMap {
  std::string file, site;
  std::vector<Source> sources;
  std::vector<Binding> bindings;
  std::vector<Balance> balances;
  const Source* FindSource(const std::string& name) const;
};

const scenario::Schema& SiteMapSchema();
// Reads a site map; InputError at file:line:col for any fault (unknown key or word, a binding whose
// unit does not measure its quantity or that names no declared source, a URL that is not
// in its kind's scheme, two sources or two fixed ids with the same name, a modbus register map's
// faults: ReadModbusSource).
SiteMap ParseSiteMap(const std::string& text, const std::string& file);
SiteMap LoadSiteMap(const std::string& path);

}  // namespace firstwall::live
