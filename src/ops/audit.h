// The audit log: append-only, hash-chained (docs/operations.md, "Audit chain"). Each entry's hash
// is SHA-256 (libsodium's crypto_hash_sha256) of its canonical serialization, which includes the
// previous entry's hash: an entry changed, deleted or moved in the stored table breaks the chain
// from that entry on, and Verify names the first such entry.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "ops/sql.h"

namespace firstwall::ops {

// 64 hex zeros: the previous hash of entry 1.
inline constexpr const char* kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct AuditEntry {
  int64_t seq = 0;              // 1, 2, 3, ... in the order written
  int64_t t_ms = 0;             // when, ms since the Unix epoch
  std::string actor;            // the user who acted (the claimed name for a failed login)
  std::string action;           // user_created, login_failed, plan_proposed, plan_approved, ...
  std::string subject;          // what it acted on: "user:NAME", "plan:ID"
  std::string detail;           // a JSON object (keys sorted), the what
  std::string prev_hash, hash;  // lower-case hex SHA-256
};

// The bytes hashed: "firstwall-audit-1\n", then seq, t_ms, actor, action, subject, detail and
// prev_hash, each written as its length in bytes, ':', the bytes and '\n'.
std::string CanonicalAuditText(const AuditEntry& e);
// Lower-case hex SHA-256 of `text`.
std::string Sha256Hex(const std::string& text);

// The ops_audit table (created by ops_store.h's schema). Append must run inside a
// WriteTransaction: it chains from the last stored entry and returns the entry written.
AuditEntry AppendAudit(SqlDb& db, int64_t t_ms, const std::string& actor, const std::string& action,
                       const std::string& subject, const std::string& detail);
// Every stored entry in seq order, as stored.
std::vector<AuditEntry> ReadAudit(SqlDb& db);

struct AuditVerdict {
  bool ok = true;
  int64_t entries = 0;  // how many were read
  // seq of the first entry found changed, missing, moved or replaced (one past the last when
  // the chain does not end with the head given); 0 when ok
  int64_t first_bad = 0;
  std::string problem;  // what is wrong with it, for people; "" when ok
  std::string head;     // the last entry's hash: kept elsewhere, it also shows a cut-off tail
};

// Walks the chain from entry 1. A chain alone cannot show its last entries cut off (or the last
// replaced): `head`, when not "", is a hash kept elsewhere (an earlier verdict's head, an
// export's last hash) that the chain must end with.
AuditVerdict VerifyAudit(const std::vector<AuditEntry>& entries, const std::string& head = "");

// One JSON object per line: seq, t_ms, time (ISO 8601 UTC), actor, action, subject, detail (the
// object), prev_hash, hash.
void ExportAuditJsonLines(const std::vector<AuditEntry>& entries, std::ostream& out);

}  // namespace firstwall::ops
