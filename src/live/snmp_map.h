// The site map's keys for SNMP sources (`kind: snmp`): the community and the OID map that turns
// each polled OID into a named sample, so bindings claim SNMP values as they claim Prometheus
// series (reader.h). docs/live.md, "SNMP", describes the keys.
//
//   - name: ups-a
//     kind: snmp
//     url: "snmp://10.0.0.20"          # UDP, port 161 unless given
//     community: public                # SNMPv2c
//     interval: 5 s
//     oids:
//       - {oid: .1.3.6.1.2.1.33.1.4.4.1.4.1, name: ups_output_power_watts, labels: {line: "1"}}
//       - {oid: .1.3.6.1.4.1.8072.9999.9999.13.3.1.2.1, name: outlet_power_watts, scale: 0.1}
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "live/prometheus_text.h"

namespace firstwall::scenario {
class Section;
}

namespace firstwall::live {

// One polled OID and the sample it becomes: metric `name` with `labels`, value = raw x `scale`.
struct SnmpOid {
  std::string text;            // as written
  std::vector<uint32_t> arcs;  // numeric, at least two arcs
  std::string name;
  std::vector<Label> labels;
  double scale = 1;
  std::string where;  // file:line:col of the item, for messages
};

struct SnmpSource {
  std::string community = "public";  // SNMPv2c
  std::vector<SnmpOid> oids;         // in the order written; one GET per kSnmpOidsPerGet
};

// OIDs asked for in one GET request; a source with more is read in several.
inline constexpr size_t kSnmpOidsPerGet = 32;

// "1.3.6.1.2.1" or ".1.3.6.1.2.1": whole numbers 0 to 4294967295 separated by dots, at least two
// and at most 128 arcs, the first 0, 1 or 2. False with `why` otherwise.
bool ParseOid(std::string_view text, std::vector<uint32_t>& arcs, std::string& why);
// ".1.3.6.1.2.1".
std::string OidText(const std::vector<uint32_t>& arcs);

// Reads the keys SNMP adds under sources[] in SiteMapSchema() (community, oids[]) from source
// section `s` of kind `kind` whose URL path is `url_path` ("/" when the URL has none). InputError
// at file:line:col when a key is wrong, when a source of another kind has them, or when an snmp
// source has no OIDs or a path in its URL.
SnmpSource ReadSnmpKeys(const scenario::Section& s, const std::string& kind,
                        const std::string& url_path);

}  // namespace firstwall::live
