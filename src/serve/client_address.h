// The address a log-in is counted against (login_throttle.h). A request straight from a client
// is counted by its peer address. Behind a reverse proxy every request has the proxy's address,
// so the proxy's X-Forwarded-For names the client: only from a peer the operator named as a
// trusted proxy (`firstwall serve --trusted-proxy`), since any client can send the header. The
// header lists "client, proxy1, proxy2" (each proxy appends the address it received the request
// from; MDN, "X-Forwarded-For"), so it is read from the right, past the trusted proxies, and the
// first address that is not one of them is the client: the entries left of it could be forged.
#pragma once

#include <string>
#include <vector>

namespace firstwall::serve {

// `peer`: the TCP peer's address; `forwarded`: the X-Forwarded-For header's value ("" when none);
// `trusted`: the trusted proxies' addresses, as TrustedProxy normalizes them. The peer when it is
// not trusted or the header names no one else; else the rightmost untrusted entry, normalized.
std::string ClientAddress(const std::string& peer, const std::string& forwarded,
                          const std::vector<std::string>& trusted);

// `text` as an IPv4 or IPv6 address in its canonical text form (inet_ntop's); InputError at
// `option` when it is not an address.
std::string TrustedProxy(const std::string& text, const std::string& option);

}  // namespace firstwall::serve
