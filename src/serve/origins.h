// Who may talk to the dashboard (docs/dashboard.md, "Security"), by the Host and Origin headers.
//  - Host: on a loopback address (the default) a request must name a loopback host (localhost,
//    127.0.0.1, [::1]) or the host of an allowed origin: a page on another name that resolves to
//    127.0.0.1 (DNS rebinding) is refused, /metrics and the page included. Beyond loopback, any
//    Host (the server cannot know every name it is reached by) unless origins are allowed, then
//    those hosts, the listen address and loopback.
//  - Origin (browsers send it with every POST and DELETE, and with cross-origin reads): the
//    page's own (scheme://HOST[:PORT] naming the request's Host) or one given with
//    --allow-origin (a reverse proxy's public URL); anything else is refused, another port of
//    localhost included.
#pragma once

#include <string>
#include <vector>

namespace firstwall::serve {

class OriginPolicy {
 public:
  // `listen_host`: the address served on; `allowed`: origins as scheme://host[:port] (InputError at
  // --allow-origin for anything else).
  OriginPolicy(std::string listen_host, const std::vector<std::string>& allowed);
  // "" when a request with this Host header may be served, else why not.
  std::string HostRefusal(const std::string& host_header) const;
  // Whether an Origin header value may use the server reached as `host_header`.
  bool OriginAllowed(const std::string& origin, const std::string& host_header) const;

  static bool IsLoopbackName(const std::string& host);

 private:
  std::string listen_host_;
  std::vector<std::string> allowed_;  // lower case, no trailing slash
};

// The host of a Host header value ("Example.com:8080" -> "example.com", "[::1]:80" -> "::1").
std::string HostName(const std::string& host_header);

}  // namespace firstwall::serve
