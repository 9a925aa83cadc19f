#include "live/snmp_reader.h"

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <mutex>

#include <fmt/format.h>

namespace firstwall::live {
namespace {

// net-snmp's library state is global: set it up once per process, reading no configuration
// files, MIBs or persistent state (OIDs are numeric in the site map).
void InitNetSnmp() {
  static std::once_flag once;
  std::call_once(once, [] {
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    // No MIB modules (the OIDs are numeric), unless the user's MIBS says otherwise.
    setenv("MIBS", "", 0);
    init_snmp("firstwall-ingest");
  });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' ||
                        s.back() == '\r' || s.back() == '\0')) {
    s.remove_suffix(1);
  }
  return s;
}

class SnmpReader : public SourceReader {
 public:
  SnmpReader(const Source& s, const ReaderContext& c) : src_(s), ctx_(c) { InitNetSnmp(); }
  ~SnmpReader() override {
    if (session_) snmp_sess_close(session_);
  }

  ReadResult Read() override {
    ReadResult r;
    if (!session_ && !Open(r.error)) return r;
    const std::vector<SnmpOid>& oids = src_.snmp.oids;
    for (size_t first = 0; first < oids.size(); first += kSnmpOidsPerGet) {
      const size_t last = std::min(oids.size(), first + kSnmpOidsPerGet);
      if (!Get(first, last, r)) {
        // Nothing usable from this request: the read failed (a new session next time).
        snmp_sess_close(session_);
        session_ = nullptr;
        r.ok = false;
        r.samples.clear();
        return r;
      }
    }
    r.ok = true;
    return r;
  }

 private:
  bool Open(std::string& error) {
    netsnmp_session s;
    snmp_sess_init(&s);
    s.version = SNMP_VERSION_2c;
    std::string peer = fmt::format("udp:{}:{}", src_.host, src_.port);
    if (src_.host.find(':') != std::string::npos) {
      peer = fmt::format("udp6:[{}]:{}", src_.host, src_.port);
    }
    s.peername = peer.data();
    s.community = reinterpret_cast<u_char*>(const_cast<char*>(src_.snmp.community.data()));
    s.community_len = src_.snmp.community.size();
    s.retries = 1;
    const double timeout_us = std::max(1000.0, src_.timeout_s / ctx_.speed * 1e6 / 2);
    s.timeout = static_cast<long>(std::min(timeout_us, 600e6));  // per try; two tries
    session_ = snmp_sess_open(&s);
    if (!session_) {
      int liberr = 0, syserr = 0;
      char* text = nullptr;
      snmp_error(&s, &liberr, &syserr, &text);
      error = fmt::format("cannot open an SNMP session to {}: {}", peer, text ? text : "?");
      free(text);
      return false;
    }
    return true;
  }

  void Refuse(ReadResult& r, size_t index, const std::string& why) {
    ++r.rejected;
    if (r.rejects.size() < 8) {
      r.rejects.push_back({static_cast<int>(index + 1),
                           fmt::format("OID {}: {}", src_.snmp.oids[index].text, why)});
    }
  }

  // One GET of oids [first, last); false when the agent gave no usable answer.
  bool Get(size_t first, size_t last, ReadResult& r) {
    const std::vector<SnmpOid>& oids = src_.snmp.oids;
    netsnmp_pdu* pdu = snmp_pdu_create(SNMP_MSG_GET);
    std::vector<oid> name;
    for (size_t i = first; i < last; ++i) {
      name.assign(oids[i].arcs.begin(), oids[i].arcs.end());
      snmp_add_null_var(pdu, name.data(), name.size());
    }
    netsnmp_pdu* response = nullptr;
    const int status = snmp_sess_synch_response(session_, pdu, &response);
    if (status != STAT_SUCCESS || !response) {
      r.error = status == STAT_TIMEOUT
                    ? fmt::format("no answer from {}:{} within {:g} s", src_.host, src_.port,
                                  src_.timeout_s)
                    : fmt::format("SNMP request failed: {}",
                                  snmp_api_errstring(snmp_sess_session(session_)->s_snmp_errno));
      if (response) snmp_free_pdu(response);
      return false;
    }
    // An error status names the varbind at fault (1-based); the others carry no values then
    // (RFC 3416 4.2.1), so that OID is refused and the rest are asked again without it.
    if (response->errstat != SNMP_ERR_NOERROR) {
      const long at = response->errindex;
      const std::string why = snmp_errstring(static_cast<int>(response->errstat));
      snmp_free_pdu(response);
      if (at < 1 || static_cast<size_t>(at) > last - first) {
        r.error = fmt::format("the agent answered '{}'", why);
        return false;
      }
      const size_t bad = first + static_cast<size_t>(at) - 1;
      Refuse(r, bad, fmt::format("the agent answered '{}'", why));
      return (bad == first || Get(first, bad, r)) && (bad + 1 == last || Get(bad + 1, last, r));
    }
    size_t i = first;
    for (netsnmp_variable_list* v = response->variables; v && i < last; v = v->next_variable, ++i) {
      const SnmpOid& o = oids[i];
      const bool same =
          v->name_length == o.arcs.size() && std::equal(o.arcs.begin(), o.arcs.end(), v->name);
      std::string why;
      const std::optional<double> raw = same ? SnmpNumber(*v, why) : std::nullopt;
      if (!same) why = "the answer's varbind names another OID";
      if (!raw) {
        Refuse(r, i, why);
        continue;
      }
      r.samples.push_back({o.name, o.labels, *raw * o.scale, std::nullopt});
    }
    for (; i < last; ++i) Refuse(r, i, "missing from the answer");
    snmp_free_pdu(response);
    return true;
  }

  const Source& src_;
  ReaderContext ctx_;
  void* session_ = nullptr;
};

}  // namespace

std::optional<double> SnmpNumber(const ::variable_list& v, std::string& why) {
  switch (v.type) {
    case ASN_INTEGER:
      if (v.val.integer) return static_cast<double>(*v.val.integer);
      break;
    case ASN_COUNTER:
    case ASN_GAUGE:  // also Unsigned32
    case ASN_TIMETICKS:
      // net-snmp keeps these 32-bit values in a u_long.
      if (v.val.integer) return static_cast<double>(static_cast<uint32_t>(*v.val.integer));
      break;
    case ASN_COUNTER64:
#ifdef NETSNMP_WITH_OPAQUE_SPECIAL_TYPES
    case ASN_OPAQUE_U64:
    case ASN_OPAQUE_I64:
#endif
      if (v.val.counter64) {
        const uint64_t u = (static_cast<uint64_t>(v.val.counter64->high) << 32) |
                           static_cast<uint32_t>(v.val.counter64->low);
#ifdef NETSNMP_WITH_OPAQUE_SPECIAL_TYPES
        if (v.type == ASN_OPAQUE_I64) return static_cast<double>(static_cast<int64_t>(u));
#endif
        return static_cast<double>(u);
      }
      break;
#ifdef NETSNMP_WITH_OPAQUE_SPECIAL_TYPES
    case ASN_OPAQUE_FLOAT:
      if (v.val.floatVal) return static_cast<double>(*v.val.floatVal);
      break;
    case ASN_OPAQUE_DOUBLE:
      if (v.val.doubleVal) return *v.val.doubleVal;
      break;
#endif
    case ASN_OCTET_STR: {
      if (v.val_len > 64 || !v.val.string) {
        why = fmt::format("an OCTET STRING of {} bytes, not a number", v.val_len);
        return std::nullopt;
      }
      const std::string_view text =
          Trim(std::string_view(reinterpret_cast<const char*>(v.val.string), v.val_len));
      double d = 0;
      const char* b = text.data();
      const char* e = b + text.size();
      if (!text.empty() && *b == '+') ++b;
      const auto res = std::from_chars(b, e, d);
      if (text.empty() || res.ec != std::errc() || res.ptr != e || !std::isfinite(d)) {
        std::string shown;
        for (char c : text) shown += (c >= 32 && c < 127) ? c : '?';
        why = fmt::format("the OCTET STRING '{}' is not a number", shown);
        return std::nullopt;
      }
      return d;
    }
    case SNMP_NOSUCHOBJECT:
      why = "noSuchObject: the agent has no such object";
      return std::nullopt;
    case SNMP_NOSUCHINSTANCE:
      why = "noSuchInstance: the agent has no such instance";
      return std::nullopt;
    case SNMP_ENDOFMIBVIEW:
      why = "endOfMibView";
      return std::nullopt;
    default:
      why = fmt::format("ASN.1 type 0x{:02x} is not a number", static_cast<unsigned>(v.type));
      return std::nullopt;
  }
  why = "a varbind without a value";
  return std::nullopt;
}

std::unique_ptr<SourceReader> MakeSnmpReader(const Source& source, const ReaderContext& context) {
  return std::make_unique<SnmpReader>(source, context);
}

}  // namespace firstwall::live
