// MCP's Streamable HTTP transport (revision 2025-06-18) for an McpServer (mcp.h): one endpoint,
// /mcp. A POST carries one JSON-RPC message; a request is answered 200 with application/json
// (never an SSE stream), a notification or response 202 with no body, text that is not JSON 400
// with the JSON-RPC parse error. GET and DELETE are 405: the server opens no stream and keeps no
// session (no Mcp-Session-Id), so any client may post at any time.
// Against DNS rebinding (the specification asks servers to check Origin): a request whose Origin
// header names a host other than localhost, 127.0.0.1, [::1] or the listening host is refused
// 403. An MCP-Protocol-Version header that names no version of kMcpVersions is refused 400; each
// POST is handled under its own header's version (2025-03-26 without one, as the transport's
// specification says to assume), so clients that agreed on different versions share a server. A
// body over kMcpMaxMessageBytes is refused 413 with a JSON-RPC error (-32600) saying so.
// Sockets as every HTTP server of the project (live/http_server.h).
#pragma once

#include <memory>
#include <string>

#include "ops/mcp.h"

namespace firstwall::ops {

class McpHttpServer {
 public:
  explicit McpHttpServer(McpServer& server);
  ~McpHttpServer();
  // Binds HOST:PORT (port 0: any free port) and returns the port; InputError at `option` when
  // it cannot (live/listen_address.h's words).
  int Bind(const std::string& host, int port, const std::string& option);
  // Serves until Stop (from another thread or a signal handler's thread).
  void Serve();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Whether an Origin header value ("http://localhost:3000") may reach a server on `host`.
bool McpOriginAllowed(const std::string& origin, const std::string& host);

}  // namespace firstwall::ops
