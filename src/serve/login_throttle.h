// Failed log-ins slow a password guesser down (docs/dashboard.md, "Security"): after
// kPerUserAndAddress failures for one user name from one client address, or kPerAddress failures
// from one address for any names, within kWindowMs, that pair (or address) is refused without
// checking the password (429 with Retry-After) until the oldest of those failures is kWindowMs
// old. Counting per name and address, not per name alone, keeps a guesser from locking the real
// user out from her own machine; the per-address count stops one address trying many names.
// Each attempt is counted as a failure when it begins (Begin), so that requests waiting together
// for the store cannot all pass the check; a good password takes its own attempt back and clears
// its pair's failures (Succeeded), an attempt the store could not answer is taken back (Cancel).
// The address's other failures stay. The address is the client's (client_address.h): behind a
// reverse proxy named with --trusted-proxy, the one its X-Forwarded-For gives.
// The policy follows OWASP's Authentication Cheat Sheet ("Protect against automated attacks":
// throttling by account and by address rather than a permanent lockout); the counts and window
// are this project's choice, not a cited figure. Kept in memory only, like the sessions; at most
// kMaxKeys keys are remembered (the oldest dropped beyond), so a flood of names cannot grow it;
// the caller passes only real user names (others as "", one key per address).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace firstwall::serve {

class LoginThrottle {
 public:
  static constexpr int kPerUserAndAddress = 5;
  static constexpr int kPerAddress = 20;
  static constexpr int64_t kWindowMs = 15 * 60'000;
  static constexpr size_t kMaxKeys = 10'000;

  explicit LoginThrottle(std::function<int64_t()> now_ms);

  struct Attempt {
    std::optional<int64_t> wait_ms;  // set: refused, this long to wait
    bool by_address = false;         // refused by the address's count (else the pair's)
    int64_t at_ms = 0;               // when counted (not refused): for Succeeded and Cancel
  };
  // Refuses, or counts a failure for `user` from `address` now; `user` empty (no user can have the
  // name tried): for the address alone.
  Attempt Begin(const std::string& user, const std::string& address);
  // The password was right: the attempt is taken back and the pair's failures cleared.
  void Succeeded(const std::string& user, const std::string& address, int64_t at_ms);
  // Nothing was decided (the store failed): the attempt is taken back.
  void Cancel(const std::string& user, const std::string& address, int64_t at_ms);

 private:
  // The failures still inside the window, oldest first.
  using Times = std::deque<int64_t>;
  std::optional<int64_t> WaitOf(const std::string& key, size_t limit, int64_t now);
  void Add(const std::string& key, size_t limit, int64_t now);
  void Remove(const std::string& key, int64_t at_ms);

  std::function<int64_t()> now_ms_;
  std::mutex mutex_;
  std::map<std::string, Times> failures_;
};

}  // namespace firstwall::serve
