#include "ops/audit.h"

#include <sodium.h>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace firstwall::ops {

std::string CanonicalAuditText(const AuditEntry& e) {
  std::string out = "firstwall-audit-1\n";
  for (const std::string& field : {std::to_string(e.seq), std::to_string(e.t_ms), e.actor, e.action,
                                   e.subject, e.detail, e.prev_hash}) {
    out += fmt::format("{}:{}\n", field.size(), field);
  }
  return out;
}

std::string Sha256Hex(const std::string& text) {
  FW_CHECK(sodium_init() >= 0, "libsodium does not initialize");
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  char hex[2 * crypto_hash_sha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

AuditEntry AppendAudit(SqlDb& db, int64_t t_ms, const std::string& actor, const std::string& action,
                       const std::string& subject, const std::string& detail) {
  AuditEntry e;
  e.t_ms = t_ms;
  e.actor = actor;
  e.action = action;
  e.subject = subject;
  e.detail = detail;
  const auto last = db.Query("SELECT seq, hash FROM ops_audit ORDER BY seq DESC LIMIT 1");
  e.seq = last.empty() ? 1 : std::stoll(*last[0][0]) + 1;
  e.prev_hash = last.empty() ? kGenesisHash : *last[0][1];
  e.hash = Sha256Hex(CanonicalAuditText(e));
  db.Query(
      "INSERT INTO ops_audit(seq, t_ms, actor, action, subject, detail, prev_hash, hash) "
      "VALUES($1,$2,$3,$4,$5,$6,$7,$8)",
      {std::to_string(e.seq), std::to_string(e.t_ms), e.actor, e.action, e.subject, e.detail,
       e.prev_hash, e.hash});
  return e;
}

std::vector<AuditEntry> ReadAudit(SqlDb& db) {
  std::vector<AuditEntry> out;
  for (const SqlRow& r :
       db.Query("SELECT seq, t_ms, actor, action, subject, detail, prev_hash, hash FROM ops_audit "
                "ORDER BY seq")) {
    AuditEntry e;
    e.seq = std::stoll(r[0].value_or("0"));
    e.t_ms = std::stoll(r[1].value_or("0"));
    e.actor = r[2].value_or("");
    e.action = r[3].value_or("");
    e.subject = r[4].value_or("");
    e.detail = r[5].value_or("");
    e.prev_hash = r[6].value_or("");
    e.hash = r[7].value_or("");
    out.push_back(std::move(e));
  }
  return out;
}

AuditVerdict VerifyAudit(const std::vector<AuditEntry>& entries, const std::string& head) {
  AuditVerdict v;
  v.entries = static_cast<int64_t>(entries.size());
  auto bad = [&](int64_t seq, std::string why) {
    v.ok = false;
    v.first_bad = seq;
    v.problem = std::move(why);
    return v;
  };
  std::string prev = kGenesisHash;
  int64_t expected = 1;
  for (const AuditEntry& e : entries) {
    if (e.seq > expected) {
      return bad(expected, fmt::format("entry {} is missing (deleted): the next stored is {}",
                                       expected, e.seq));
    }
    if (e.seq < expected) return bad(e.seq, fmt::format("entry {} is stored twice", e.seq));
    if (Sha256Hex(CanonicalAuditText(e)) != e.hash) {
      // Its fields hold up under another number: it was written as that entry, and entries
      // were renumbered (reordered, or some deleted). Tried only for the first bad entry.
      AuditEntry as_written = e;
      for (as_written.seq = 1; as_written.seq <= v.entries + 1; ++as_written.seq) {
        if (as_written.seq != e.seq && Sha256Hex(CanonicalAuditText(as_written)) == e.hash) {
          return bad(e.seq, fmt::format("entry {} holds what was written as entry {}: entries "
                                        "were reordered or deleted",
                                        e.seq, as_written.seq));
        }
      }
      return bad(
          e.seq,
          fmt::format("entry {} was changed: its fields do not hash to its stored hash", e.seq));
    }
    if (e.prev_hash != prev) {
      // Both hold up alone and the numbers run on: the one before was replaced, its hash
      // recomputed, and this one still chains from the original.
      return bad(e.seq - 1, fmt::format("entry {} was replaced (its hash recomputed): entry {} "
                                        "chains from another hash",
                                        e.seq - 1, e.seq));
    }
    prev = e.hash;
    ++expected;
  }
  v.head = entries.empty() ? kGenesisHash : entries.back().hash;
  if (!head.empty() && head != v.head) {
    bad(v.entries + 1, fmt::format("the chain ends at entry {} with hash {}, not with the head "
                                   "kept: entries were cut off its end or the last replaced",
                                   v.entries, v.head));
  }
  return v;
}

void ExportAuditJsonLines(const std::vector<AuditEntry>& entries, std::ostream& out) {
  for (const AuditEntry& e : entries) {
    nlohmann::ordered_json j;
    j["seq"] = e.seq;
    j["t_ms"] = e.t_ms;
    j["time"] =
        fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", fmt::gmtime(static_cast<std::time_t>(e.t_ms / 1000)));
    j["actor"] = e.actor;
    j["action"] = e.action;
    j["subject"] = e.subject;
    j["detail"] = nlohmann::json::parse(e.detail, nullptr, false);
    if (j["detail"].is_discarded()) j["detail"] = e.detail;  // a changed entry, shown as stored
    j["prev_hash"] = e.prev_hash;
    j["hash"] = e.hash;
    out << j.dump() << "\n";
  }
}

}  // namespace firstwall::ops
