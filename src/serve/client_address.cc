#include "serve/client_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
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

// X-Forwarded-For's entries, left to right.
std::vector<std::string> XForwardedFor(const std::string& value) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (begin <= value.size()) {
    const size_t comma = std::min(value.find(',', begin), value.size());
    out.push_back(Trim(value.substr(begin, comma - begin)));
    begin = comma + 1;
  }
  return out;
}

// A Forwarded `for` node as an address: "[v6]:port" and "v4:port" lose the port and brackets;
// anything else ("unknown", "_hidden", garbage) is kept as written.
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

// Forwarded's elements' `for` nodes, left to right (RFC 7239, section 4: elements separated by
// commas, pairs by semicolons, each value a token or a quoted string, names in any case);
// "unknown" for an element without one.
std::vector<std::string> ForwardedFor(const std::string& value) {
  std::vector<std::string> out;
  std::string node;
  bool has_for = false, any = false;
  size_t i = 0;
  auto end_element = [&] {
    if (any) out.push_back(has_for ? node : "unknown");
    node.clear();
    has_for = any = false;
  };
  while (i < value.size()) {
    const char c = value[i];
    if (c == ',') {
      end_element();
      ++i;
      continue;
    }
    if (c == ';' || c == ' ' || c == '\t') {
      ++i;
      continue;
    }
    // A pair: name=value.
    const size_t eq = value.find_first_of("=,;", i);
    if (eq == std::string::npos || value[eq] != '=') {
      any = true;  // a bare word: a malformed pair, still an element
      i = eq == std::string::npos ? value.size() : eq;
      continue;
    }
    std::string name = Trim(value.substr(i, eq - i));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    i = eq + 1;
    std::string v;
    // A quoted string's end; npos when it is not closed. An unclosed quote is taken as a
    // character of a token, not as the start of a string that runs to the header's end: it would
    // swallow the elements the proxies appended after it and let the client choose what is read.
    size_t close = std::string::npos;
    if (i < value.size() && value[i] == '"') {
      for (size_t j = i + 1; j < value.size(); ++j) {
        if (value[j] == '\\') {
          ++j;  // a quoted pair
        } else if (value[j] == '"') {
          close = j;
          break;
        }
      }
    }
    if (close != std::string::npos) {
      for (++i; i < close; ++i) {
        if (value[i] == '\\' && i + 1 < close) ++i;
        v += value[i];
      }
      i = close + 1;
    } else {
      const size_t stop = std::min(value.find_first_of(",;", i), value.size());
      v = Trim(value.substr(i, stop - i));
      i = stop;
    }
    any = true;
    if (name == "for" && !has_for) {
      has_for = true;
      node = ForNode(Trim(v));
    }
  }
  end_element();
  return out;
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
  if (!is_trusted(Canonical(peer).value_or(peer))) return peer;
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
