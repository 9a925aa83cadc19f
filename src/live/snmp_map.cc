#include "live/snmp_map.h"

#include <charconv>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "live/prometheus_text.h"
#include "scenario/reader.h"

namespace firstwall::live {
bool ParseOid(std::string_view text, std::vector<uint32_t>& arcs, std::string& why) {
  arcs.clear();
  std::string_view rest = text;
  if (rest.starts_with('.')) rest.remove_prefix(1);
  while (true) {
    const size_t dot = rest.find('.');
    const std::string_view part = rest.substr(0, dot);
    uint32_t v = 0;
    const auto r = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || r.ec != std::errc() || r.ptr != part.data() + part.size()) {
      why = fmt::format("arc '{}' is not a whole number from 0 to 4294967295", part);
      return false;
    }
    arcs.push_back(v);
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (arcs.size() < 2 || arcs.size() > 128) {
    why = fmt::format("{} arcs; an OID has 2 to 128", arcs.size());
    return false;
  }
  if (arcs[0] > 2) {
    why = fmt::format("the first arc is {}; it is 0, 1 or 2", arcs[0]);
    return false;
  }
  return true;
}

std::string OidText(const std::vector<uint32_t>& arcs) {
  std::string out;
  for (uint32_t a : arcs) out += fmt::format(".{}", a);
  return out;
}

SnmpSource ReadSnmpKeys(const scenario::Section& s, const std::string& kind,
                        const std::string& url_path) {
  SnmpSource out;
  if (kind != "snmp") {
    for (const char* k : {"community", "oids"}) {
      if (s.Has(k)) s.Fail(k, fmt::format("'{}' is a key of snmp sources, not {}", k, kind));
    }
    return out;
  }
  if (url_path != "/") {
    s.Fail("url", fmt::format("an snmp source's url is snmp://host[:port], without a path ('{}')",
                              url_path));
  }
  out.community = s.String("community");
  if (out.community.empty() || out.community.size() > 255) {
    s.Fail("community", "a community is 1 to 255 characters");
  }
  if (!s.Has("oids")) {
    s.Fail("kind", "an snmp source needs 'oids': the OIDs to poll and the names they get");
  }
  std::set<std::string> series, oids;
  for (const scenario::Section& o : s.List("oids")) {
    SnmpOid item;
    item.where = o.where().ToString();
    item.text = o.String("oid");
    std::string why;
    if (!ParseOid(item.text, item.arcs, why)) {
      o.Fail("oid", fmt::format("'{}' is not a numeric OID: {}", item.text, why),
             "write it dotted, as .1.3.6.1.2.1.33.1.4.4.1.4.1");
    }
    if (!oids.insert(OidText(item.arcs)).second) {
      o.Fail("oid", fmt::format("{} is polled twice in this source", OidText(item.arcs)));
    }
    item.name = o.String("name");
    if (!IsMetricName(item.name)) {
      o.Fail("name",
             fmt::format("'{}' is not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)", item.name));
    }
    item.scale = o.Number("scale");
    if (!std::isfinite(item.scale) || item.scale == 0) {
      o.Fail("scale", fmt::format("scale {} is not a finite number other than 0", item.scale));
    }
    for (const scenario::Section::Entry& e : o.StringEntries("labels")) {
      if (!IsLabelName(e.key) || e.key.starts_with("__")) {
        throw InputError(e.at, fmt::format("'{}' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, "
                                           "not starting with __)",
                                           e.key));
      }
      item.labels.push_back({e.key, e.text});
    }
    std::string key = item.name;
    for (const Label& l : item.labels) key += fmt::format("|{}={}", l.name, l.value);
    if (!series.insert(key).second) {
      o.Fail("name", fmt::format("a second OID gives '{}' with the same labels", item.name),
             "give one of them other labels or another name");
    }
    out.oids.push_back(std::move(item));
  }
  if (out.oids.empty()) s.Fail("oids", "an snmp source polls at least one OID");
  return out;
}

}  // namespace firstwall::live
