// The reader of `kind: snmp` (snmp_reader.cc): SNMPv2c GETs of a source's OID map with net-snmp's
// single-session client API (snmp_sess_*, safe with one session per thread). One GET carries up
// to kSnmpOidsPerGet OIDs; a source with more is read in several, one after another. A request
// waits the source's timeout (over the ingest's speed) and is sent at most twice (one retry).
//
// What a varbind becomes (SnmpNumber): INTEGER, Counter32, Gauge32/Unsigned32, TimeTicks (in
// hundredths of a second, as sent) and Counter64 are numbers; so are the Opaque float, double and
// 64-bit integers net-snmp decodes, and an OCTET STRING that holds one decimal number ("231.5",
// blanks around it allowed, at most 64 bytes). Anything else (noSuchObject, noSuchInstance,
// endOfMibView, an OID, an address, text) is refused with its reason and counted; an error status
// in the response refuses the OID it names, and the read still keeps the other OIDs' values. A
// source that does not answer at all is a failed read.
#pragma once

#include <optional>
#include <string>

#include "live/reader.h"

struct variable_list;  // net-snmp's netsnmp_variable_list

namespace firstwall::live {

// The number a varbind carries, raw (before the OID's scale); nullopt with `why` when it carries
// none.
std::optional<double> SnmpNumber(const ::variable_list& v, std::string& why);

}  // namespace firstwall::live
