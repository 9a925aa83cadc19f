#include "serve/login_throttle.h"

#include <algorithm>
#include <limits>

namespace firstwall::serve {
namespace {

// An address holds no NUL, so the pair's key (split at its first NUL) cannot collide with another
// pair's, nor, by its first letter, with an address's.
std::string PairKey(const std::string& user, const std::string& address) {
  return "u" + address + std::string(1, '\0') + user;
}
std::string AddressKey(const std::string& address) { return "a" + address; }

}  // namespace

LoginThrottle::LoginThrottle(std::function<int64_t()> now_ms) : now_ms_(std::move(now_ms)) {}

std::optional<int64_t> LoginThrottle::WaitOf(const std::string& key, size_t limit, int64_t now) {
  const auto it = failures_.find(key);
  if (it == failures_.end()) return std::nullopt;
  Times& t = it->second;
  // A clock stepped back counts as past the window too (as the sessions' idle time does).
  while (!t.empty() && (now - t.front() >= kWindowMs || now < t.front())) t.pop_front();
  if (t.empty()) {
    failures_.erase(it);
    return std::nullopt;
  }
  if (t.size() < limit) return std::nullopt;
  return t[t.size() - limit] + kWindowMs - now;
}

std::optional<int64_t> LoginThrottle::Wait(const std::string& user, const std::string& address) {
  std::lock_guard lock(mutex_);
  const int64_t now = now_ms_();
  const std::optional<int64_t> pair = WaitOf(PairKey(user, address), kPerUserAndAddress, now);
  const std::optional<int64_t> any = WaitOf(AddressKey(address), kPerAddress, now);
  if (!pair && !any) return std::nullopt;
  return std::max(pair.value_or(0), any.value_or(0));
}

void LoginThrottle::Add(const std::string& key, size_t limit, int64_t now) {
  if (failures_.size() >= kMaxKeys && !failures_.count(key)) {
    // Full: the key whose newest failure is oldest goes.
    const auto newest = [](const Times& t) {
      return t.empty() ? std::numeric_limits<int64_t>::min() : t.back();
    };
    failures_.erase(std::min_element(
        failures_.begin(), failures_.end(),
        [&](const auto& a, const auto& b) { return newest(a.second) < newest(b.second); }));
  }
  Times& t = failures_[key];
  t.push_back(now);
  while (t.size() > limit) t.pop_front();  // only the newest `limit` decide
}

void LoginThrottle::Failed(const std::string& user, const std::string& address) {
  std::lock_guard lock(mutex_);
  const int64_t now = now_ms_();
  Add(PairKey(user, address), kPerUserAndAddress, now);
  Add(AddressKey(address), kPerAddress, now);
}

void LoginThrottle::Succeeded(const std::string& user, const std::string& address) {
  std::lock_guard lock(mutex_);
  failures_.erase(PairKey(user, address));
}

}  // namespace firstwall::serve
