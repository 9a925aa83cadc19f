#include "serve/origins.h"

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

// "http://host[:port]" with nothing after; "" when it is not one.
std::string Authority(const std::string& origin) {
  const std::string o = Lower(origin);
  for (const char* scheme : {"http://", "https://"}) {
    if (o.rfind(scheme, 0) != 0) continue;
    const std::string rest = o.substr(std::string(scheme).size());
    if (rest.empty() || rest.find_first_of("/@?#\\ ") != std::string::npos) return "";
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
  return h == "localhost" || h == "::1" || h.rfind("127.", 0) == 0;
}

OriginPolicy::OriginPolicy(std::string listen_host, const std::vector<std::string>& allowed)
    : listen_host_(Lower(std::move(listen_host))) {
  for (std::string a : allowed) {
    while (!a.empty() && a.back() == '/') a.pop_back();
    if (Authority(a).empty()) {
      throw InputError({"--allow-origin", 0, 0}, fmt::format("'{}' is not an origin", a),
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
