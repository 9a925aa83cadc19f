#include "serve/origins.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "core/error.h"

namespace firstwall::serve {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// "host[:port]" of "http(s)://host[:port]" with nothing after, its port (when given) 1-65535;
// "" when it is not one.
std::string Authority(const std::string& origin) {
  const std::string o = Lower(origin);
  for (const char* scheme : {"http://", "https://"}) {
    if (o.rfind(scheme, 0) != 0) continue;
    const std::string rest = o.substr(std::string(scheme).size());
    if (rest.empty() || rest.find_first_of("/@?#\\ ") != std::string::npos) return "";
    const size_t colon = rest.rfind(':');
    if (colon != std::string::npos && rest.find(']', colon) == std::string::npos) {
      const std::string port = rest.substr(colon + 1);
      if (colon == 0 || port.empty() || port.size() > 5 ||
          port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) < 1 ||
          std::stoi(port) > 65535) {
        return "";
      }
    }
    return rest;
  }
  return "";
}

}  // namespace

std::string HostName(const std::string& host_header) {
  const std::string h = Lower(host_header);
  if (!h.empty() && h.front() == '[') {
    const size_t end = h.find(']');
    return end == std::string::npos ? h : h.substr(1, end - 1);
  }
  const size_t colon = h.rfind(':');
  return colon == std::string::npos ? h : h.substr(0, colon);
}

bool OriginPolicy::IsLoopbackName(const std::string& host) {
  const std::string h = Lower(host);
  if (h == "localhost" || h == "::1") return true;
  // An IPv4 literal in 127.0.0.0/8, whole: "127.attacker.example" is a name anyone can point here.
  in_addr a{};
  return inet_pton(AF_INET, h.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

OriginPolicy::OriginPolicy(std::string listen_host, const std::vector<std::string>& allowed)
    : listen_host_(Lower(std::move(listen_host))) {
  for (const std::string& given : allowed) {
    std::string a = given;
    while (!a.empty() && a.back() == '/') a.pop_back();
    if (Authority(a).empty()) {
      throw InputError({"--allow-origin", 0, 0}, fmt::format("'{}' is not an origin", given),
                       "scheme://host[:port], as https://dashboard.example.com (no path)");
    }
    allowed_.push_back(Lower(a));
  }
}

std::string OriginPolicy::HostRefusal(const std::string& host_header) const {
  if (host_header.empty()) return "";  // HTTP/1.0 clients; origins are checked apart
  const std::string name = HostName(host_header);
  if (IsLoopbackName(name)) return "";
  for (const std::string& a : allowed_) {
    if (HostName(Authority(a)) == name) return "";
  }
  const bool loopback = IsLoopbackName(listen_host_);
  if (!loopback && (allowed_.empty() || name == listen_host_)) return "";
  return fmt::format(
      "Host {} is not this server's name (a name that points at this machine from another site's "
      "page is how DNS rebinding works); allow it with --allow-origin",
      host_header);
}

bool OriginPolicy::OriginAllowed(const std::string& origin, const std::string& host_header) const {
  const std::string authority = Authority(origin);
  if (authority.empty()) return false;
  if (!host_header.empty() && authority == Lower(host_header)) return true;  // the page itself
  std::string o = Lower(origin);
  while (!o.empty() && o.back() == '/') o.pop_back();
  return std::find(allowed_.begin(), allowed_.end(), o) != allowed_.end();
}

}  // namespace firstwall::serve
