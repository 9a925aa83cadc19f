// The dashboard's log-in sessions (docs/dashboard.md, "Security"): after a good password
// (ops::Operations::Login), a session token for the cookie and a CSRF token the page sends back
// in a header with every request that changes something. Both are 32 bytes from libsodium's
// randombytes_buf as 64 hex digits, compared in constant time (sodium_memcmp). Sessions live in
// the server's memory only: a restart logs everyone out. A session unused for `idle_ms` is gone.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "ops/ops.h"

namespace firstwall::serve {

struct Session {
  std::string token;  // the cookie's value
  std::string csrf;   // the X-CSRF-Token header's
  ops::User user;
  int64_t last_ms = 0;  // last use, ms since the Unix epoch
};

class Sessions {
 public:
  Sessions(int64_t idle_ms, std::function<int64_t()> now_ms);
  // A new session for `user`.
  Session Open(const ops::User& user);
  // The session of `token`, its last use now; nullopt when unknown or idle past idle_ms (then
  // forgotten).
  std::optional<Session> Find(const std::string& token);
  void Close(const std::string& token);
  // Sessions not idle past idle_ms.
  size_t Count();

 private:
  int64_t idle_ms_;
  std::function<int64_t()> now_ms_;
  std::mutex mutex_;
  std::map<std::string, Session> by_token_;
};

// 32 random bytes as 64 lower-case hex digits.
std::string RandomToken();
// Equal, in time that depends only on the lengths.
bool SameSecret(const std::string& a, const std::string& b);
// The value of cookie `name` in a Cookie header ("a=1; fw_session=abc"), or "".
std::string CookieValue(const std::string& header, const std::string& name);

}  // namespace firstwall::serve
