#include "serve/client_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <optional>

#include "core/error.h"

namespace firstwall::serve {
namespace {

std::string Trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t") - a + 1);
}

// The canonical text of an IPv4 or IPv6 address, or nothing.
std::optional<std::string> Canonical(const std::string& text) {
  unsigned char bytes[16];
  char out[INET6_ADDRSTRLEN];
  for (int family : {AF_INET, AF_INET6}) {
    if (inet_pton(family, text.c_str(), bytes) == 1 &&
        inet_ntop(family, bytes, out, sizeof out) != nullptr) {
      return std::string(out);
    }
  }
  return std::nullopt;
}

}  // namespace

std::string ClientAddress(const std::string& peer, const std::string& forwarded,
                          const std::vector<std::string>& trusted) {
  auto is_trusted = [&](const std::string& a) {
    return std::find(trusted.begin(), trusted.end(), a) != trusted.end();
  };
  if (!is_trusted(Canonical(peer).value_or(peer))) return peer;
  size_t end = forwarded.size();
  while (end > 0) {
    const size_t comma = forwarded.rfind(',', end - 1);
    const size_t begin = comma == std::string::npos ? 0 : comma + 1;
    const std::string entry = Trim(forwarded.substr(begin, end - begin));
    end = comma == std::string::npos ? 0 : comma;
    if (entry.empty()) continue;
    // An entry that is not an address (a port appended, "unknown", garbage) is the client as the
    // nearest proxy wrote it: counted as written, never skipped past.
    const std::optional<std::string> address = Canonical(entry);
    if (address && is_trusted(*address)) continue;
    return address.value_or(entry);
  }
  return peer;
}

std::string TrustedProxy(const std::string& text, const std::string& option) {
  const std::optional<std::string> address = Canonical(Trim(text));
  if (!address) {
    throw InputError({option, 0, 0}, "'" + text + "' is not an IPv4 or IPv6 address",
                     "the reverse proxy's address as the server sees it, e.g. 127.0.0.1");
  }
  return *address;
}

}  // namespace firstwall::serve
