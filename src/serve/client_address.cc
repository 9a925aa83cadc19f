#include "serve/client_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string_view>

#include "core/error.h"

namespace firstwall::serve {
namespace {

std::string Trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t") - a + 1);
}

// The canonical text of an IPv4 or IPv6 address, or nothing. An IPv4-mapped IPv6 address
// (::ffff:192.0.2.1, RFC 4291 section 2.5.5.2) is its IPv4 address: a server listening on [::]
// sees IPv4 peers so, and they are the same clients and proxies as on 0.0.0.0.
std::optional<std::string> Canonical(const std::string& text) {
  unsigned char bytes[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1 &&
      inet_ntop(AF_INET, bytes, out, sizeof out) != nullptr) {
    return std::string(out);
  }
  if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) {
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const bool mapped = std::equal(kMapped, kMapped + 12, bytes);
    if (mapped ? inet_ntop(AF_INET, bytes + 12, out, sizeof out) != nullptr
               : inet_ntop(AF_INET6, bytes, out, sizeof out) != nullptr) {
      return std::string(out);
    }
  }
  return std::nullopt;
}

// A node as an address: "[v6]:port" and "v4:port" lose the port and brackets; anything else
// ("unknown", "_hidden", garbage) is kept as written.
std::string ForNode(const std::string& node) {
  if (node.starts_with('[')) {
    const size_t close = node.find(']');
    if (close != std::string::npos) return node.substr(1, close - 1);
    return node;
  }
  const size_t colon = node.find(':');
  if (colon != std::string::npos && node.find(':', colon + 1) == std::string::npos) {
    return node.substr(0, colon);
  }
  return node;
}

// X-Forwarded-For's entries, left to right, ports dropped (some proxies append them: every
// connection would be a client of its own to the throttle).
std::vector<std::string> XForwardedFor(const std::string& value) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (begin <= value.size()) {
    const size_t comma = std::min(value.find(',', begin), value.size());
    out.push_back(ForNode(Trim(value.substr(begin, comma - begin))));
    begin = comma + 1;
  }
  return out;
}

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Forwarded's elements' `for` nodes, left to right (RFC 7239, section 4: elements separated by
// commas, pairs by semicolons, each value a token or a quoted string, names in any case);
// "unknown" for an element without one.
//
// Read from the right, as the client is looked for: the elements the trusted proxies appended
// are the last ones, and the text left of them is whatever the client sent. Read from the left, a
// client's stray quote would pair with the quote that opens the proxy's `for="[v6]:port"` and the
// client would choose what is read. From the right the proxy's elements are read first and the
// client's text cannot reach them. Where the text stops being well-formed, reading stops: what
// is left of that point is one more element, "unknown", never its text (a client could make it
// anything, to escape the throttle or to name a victim).
std::vector<std::string> ForwardedFor(const std::string& value) {
  std::vector<std::string> right_to_left;
  std::string node;
  bool has_for = false, any = false;
  auto end_element = [&] {
    if (any) right_to_left.push_back(has_for ? node : "unknown");
    node.clear();
    has_for = any = false;
  };
  size_t i = value.size();  // the text left of i is unread
  auto skip_space = [&] {
    while (i > 0 && (value[i - 1] == ' ' || value[i - 1] == '\t')) --i;
  };
  while (true) {
    skip_space();
    if (i == 0) break;
    if (value[i - 1] == ',') {
      end_element();
      --i;
      continue;
    }
    if (value[i - 1] == ';') {
      --i;
      continue;
    }
    // A pair, name=value, read from its value's end.
    std::string v;
    bool ok = true;
    if (value[i - 1] == '"') {
      // The opening quote: the first one to the left not escaped by an odd run of backslashes.
      size_t j = i - 1;
      size_t open = std::string::npos;
      while (j > 0) {
        --j;
        if (value[j] != '"') continue;
        size_t slashes = 0;
        while (slashes < j && value[j - 1 - slashes] == '\\') ++slashes;
        if (slashes % 2 == 0) {
          open = j;
          break;
        }
      }
      if (open == std::string::npos) {
        ok = false;
      } else {
        for (size_t k = open + 1; k + 1 < i; ++k) {
          if (value[k] == '\\' && k + 2 < i) ++k;
          v += value[k];
        }
        i = open;
      }
    } else {
      // A token; a port on IPv4 or brackets unquoted are taken too, as proxies write them.
      const size_t end = i;
      while (i > 0 && std::string_view(",;=\" \t").find(value[i - 1]) == std::string_view::npos)
        --i;
      v = value.substr(i, end - i);
    }
    if (ok && (i == 0 || value[i - 1] != '=')) ok = false;
    size_t name_begin = 0, name_end = 0;
    if (ok) {
      name_end = --i;
      while (i > 0 && IsTokenChar(value[i - 1])) --i;
      name_begin = i;
      ok = name_begin < name_end;
    }
    if (ok) {
      skip_space();
      ok = i == 0 || value[i - 1] == ',' || value[i - 1] == ';';
    }
    if (!ok) {
      // Malformed: the whole elements read so far stand; the rest, with the element it cuts
      // into, is one element of no one.
      any = true;
      has_for = false;
      break;
    }
    std::string name = value.substr(name_begin, name_end - name_begin);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    any = true;
    // Read from the right, the leftmost `for` of an element is the last one met.
    if (name == "for") {
      has_for = true;
      node = ForNode(Trim(v));
      if (node.empty()) node = "unknown";  // `for=` or `for=""`: no one, not skipped past
    }
  }
  end_element();
  return {right_to_left.rbegin(), right_to_left.rend()};
}

}  // namespace

const char* ProxyHeaderName(ProxyHeader h) {
  return h == ProxyHeader::kForwarded ? "Forwarded" : "X-Forwarded-For";
}

ProxyHeader ParseProxyHeader(const std::string& text, const std::string& option) {
  std::string lower = Trim(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (lower == "x-forwarded-for") return ProxyHeader::kXForwardedFor;
  if (lower == "forwarded") return ProxyHeader::kForwarded;
  throw InputError({option, 0, 0}, "'" + text + "' is not a header firstwall reads",
                   "x-forwarded-for (the default) or forwarded (RFC 7239): the one your "
                   "reverse proxy sets");
}

std::string ClientAddress(const std::string& peer, const std::string& forwarded,
                          const std::vector<std::string>& trusted, ProxyHeader header) {
  auto is_trusted = [&](const std::string& a) {
    return std::find(trusted.begin(), trusted.end(), a) != trusted.end();
  };
  const std::string from = Canonical(peer).value_or(peer);
  if (!is_trusted(from)) return from;
  const std::vector<std::string> entries =
      header == ProxyHeader::kForwarded ? ForwardedFor(forwarded) : XForwardedFor(forwarded);
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (it->empty()) continue;
    // An entry that is not an address (a port appended, "unknown", garbage) is the client as the
    // nearest proxy wrote it: counted as written, never skipped past.
    const std::optional<std::string> address = Canonical(*it);
    if (address && is_trusted(*address)) continue;
    return address.value_or(*it);
  }
  return from;
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
