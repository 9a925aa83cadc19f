#include "serve/sessions.h"

#include <sodium.h>

#include "core/error.h"

namespace firstwall::serve {

std::string RandomToken() {
  FW_CHECK(sodium_init() >= 0, "libsodium could not start");
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  char hex[2 * sizeof bytes + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return hex;
}

bool SameSecret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string CookieValue(const std::string& header, const std::string& name) {
  size_t at = 0;
  while (at < header.size()) {
    while (at < header.size() && (header[at] == ' ' || header[at] == ';')) ++at;
    const size_t end = std::min(header.find(';', at), header.size());
    const std::string pair = header.substr(at, end - at);
    const size_t eq = pair.find('=');
    if (eq != std::string::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    at = end;
  }
  return "";
}

Sessions::Sessions(int64_t idle_ms, std::function<int64_t()> now_ms)
    : idle_ms_(idle_ms), now_ms_(std::move(now_ms)) {}

Session Sessions::Open(const ops::User& user) {
  Session s{RandomToken(), RandomToken(), user, now_ms_()};
  std::lock_guard lock(mutex_);
  by_token_[s.token] = s;
  return s;
}

std::optional<Session> Sessions::Find(const std::string& token) {
  if (token.empty()) return std::nullopt;
  const int64_t now = now_ms_();
  std::lock_guard lock(mutex_);
  // A map lookup by the token would leak its prefix through timing: every key is compared whole.
  for (auto it = by_token_.begin(); it != by_token_.end(); ++it) {
    if (!SameSecret(it->first, token)) continue;
    if (now - it->second.last_ms > idle_ms_) {
      by_token_.erase(it);
      return std::nullopt;
    }
    it->second.last_ms = now;
    return it->second;
  }
  return std::nullopt;
}

void Sessions::Close(const std::string& token) {
  std::lock_guard lock(mutex_);
  for (auto it = by_token_.begin(); it != by_token_.end(); ++it) {
    if (SameSecret(it->first, token)) {
      by_token_.erase(it);
      return;
    }
  }
}

size_t Sessions::Count() {
  const int64_t now = now_ms_();
  std::lock_guard lock(mutex_);
  std::erase_if(by_token_, [&](const auto& kv) { return now - kv.second.last_ms > idle_ms_; });
  return by_token_.size();
}

}  // namespace firstwall::serve
