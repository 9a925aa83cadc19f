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

LoginThrottle::Attempt LoginThrottle::Begin(const std::string& user, const std::string& address) {
  std::lock_guard lock(mutex_);
  const int64_t now = now_ms_();
  const std::string pair_key = PairKey(user, address), address_key = AddressKey(address);
  // No user (a name no user can have): the address's count alone.
  const std::optional<int64_t> pair =
      user.empty() ? std::nullopt : WaitOf(pair_key, kPerUserAndAddress, now);
  const std::optional<int64_t> any = WaitOf(address_key, kPerAddress, now);
  if (pair || any) {
    return {std::max(pair.value_or(0), any.value_or(0)), any.value_or(0) > pair.value_or(0), 0};
  }
  if (!user.empty()) Add(pair_key, kPerUserAndAddress, now);
  Add(address_key, kPerAddress, now);
  return {std::nullopt, false, now};
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

void LoginThrottle::Remove(const std::string& key, int64_t at_ms) {
  const auto it = failures_.find(key);
  if (it == failures_.end()) return;
  Times& t = it->second;
  // The newest entry at that time: the attempt's own (entries are in time order).
  const auto at = std::find(t.rbegin(), t.rend(), at_ms);
  if (at != t.rend()) t.erase(std::next(at).base());
  if (t.empty()) failures_.erase(it);
}

void LoginThrottle::Succeeded(const std::string& user, const std::string& address, int64_t at_ms) {
  std::lock_guard lock(mutex_);
  failures_.erase(PairKey(user, address));
  Remove(AddressKey(address), at_ms);
}

void LoginThrottle::Cancel(const std::string& user, const std::string& address, int64_t at_ms) {
  std::lock_guard lock(mutex_);
  Remove(PairKey(user, address), at_ms);
  Remove(AddressKey(address), at_ms);
}

}  // namespace firstwall::serve
