// The address a log-in is counted against (login_throttle.h). A request straight from a client
// is counted by its peer address. Behind a reverse proxy every request has the proxy's address,
// so the proxy's X-Forwarded-For names the client: only from a peer the operator named as a
// trusted proxy (`firstwall serve --trusted-proxy`), since any client can send the header. The
// header lists "client, proxy1, proxy2" (each proxy appends the address it received the request
// from; MDN, "X-Forwarded-For"), so it is read from the right, past the trusted proxies, and the
// first address that is not one of them is the client: the entries left of it could be forged.
//
// The standard `Forwarded` header (RFC 7239) says the same in its `for=` parameters
// (`Forwarded: for=192.0.2.43, for="[2001:db8:cafe::17]:4711";proto=https`), read the same way.
// Which of the two headers is believed is the operator's choice (`--proxy-header`), never both
// and never a guess: a proxy that sets one passes the other through as the client sent it, and a
// header the proxy did not write would let a client name itself. Forwarded is parsed from its
// right end, where the trusted proxies' elements are, so a client's malformed text (a stray quote)
// cannot change how they are read; text reached past them that is not well-formed names no one
// ("unknown"), never what it says.
#pragma once

#include <string>
#include <vector>

namespace firstwall::serve {

enum class ProxyHeader { kXForwardedFor, kForwarded };
// "X-Forwarded-For" or "Forwarded".
const char* ProxyHeaderName(ProxyHeader h);
// `--proxy-header`'s value: x-forwarded-for or forwarded (any case); InputError at `option` else.
ProxyHeader ParseProxyHeader(const std::string& text, const std::string& option);

// `peer`: the TCP peer's address; `forwarded`: the header's value ("" when none), X-Forwarded-For's
// or Forwarded's as `header` says; `trusted`: the trusted proxies' addresses, as TrustedProxy
// normalizes them. The peer when it is not trusted or the header names no one else; else the
// rightmost untrusted entry. Addresses are normalized (inet_ntop's text; an IPv4-mapped IPv6
// address, as a server on [::] sees IPv4 peers, is its IPv4 address), and an entry or node loses
// its port and an IPv6 one its brackets ("[2001:db8::1]:4711", "192.0.2.1:80"). A Forwarded
// element without `for`, or with "unknown", an empty or an obfuscated node ("_x"), is a client as
// written ("unknown" for none), never skipped past; so is text that is not well-formed, as
// "unknown".
std::string ClientAddress(const std::string& peer, const std::string& forwarded,
                          const std::vector<std::string>& trusted,
                          ProxyHeader header = ProxyHeader::kXForwardedFor);

// `text` as an IPv4 or IPv6 address in its canonical text form (inet_ntop's; IPv4-mapped IPv6 as
// IPv4, so `--trusted-proxy 127.0.0.1` and `::ffff:127.0.0.1` are one proxy); InputError at
// `option` when it is not an address.
std::string TrustedProxy(const std::string& text, const std::string& option);

}  // namespace firstwall::serve
