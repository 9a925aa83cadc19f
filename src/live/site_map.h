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
// Only `kind: prometheus` is read so far; the other protocols of issue #13 (remote-write, Modbus,
// SNMP, MQTT, Redfish) are new kinds with their own keys under sources[].
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "live/mqtt_topic.h"
#include "live/prometheus_text.h"
#include "live/vocabulary.h"
#include "scenario/schema.h"

namespace firstwall::live {

struct Source {
  std::string name;
  std::string kind;        // "prometheus", "mqtt"
  std::string url;         // http://host:port/path
  double interval_s = 15;  // how often it is scraped, and the spacing quality expects
  double timeout_s = 5;
  // Parts of `url`.
  std::string host, path;
  int port = 80;
  MqttKeys mqtt;  // kind: mqtt (mqtt_topic.h)
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

struct SiteMap {
  std::string file, site;
  std::vector<Source> sources;
  std::vector<Binding> bindings;
  const Source* FindSource(const std::string& name) const;
};

const scenario::Schema& SiteMapSchema();
// Reads a site map; InputError at file:line:col for any fault (unknown key or word, a binding whose
// unit does not measure its quantity or that names no declared source, a URL that is not
// http://host[:port]/path, two sources or two fixed ids with the same name).
SiteMap ParseSiteMap(const std::string& text, const std::string& file);
SiteMap LoadSiteMap(const std::string& path);

}  // namespace firstwall::live
