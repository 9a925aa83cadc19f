#include "ops/mcp_http.h"

#include <algorithm>
#include <string_view>

#include <fmt/format.h>

#include "live/http_server.h"
#include "live/listen_address.h"

namespace firstwall::ops {

namespace {

constexpr const char* kJson = "application/json";

void Refuse(httplib::Response& res, int status, int code, const std::string& message) {
  res.status = status;
  res.set_content(JsonLine(JsonRpcError(nullptr, code, message)), kJson);
}

}  // namespace

bool McpOriginAllowed(const std::string& origin, const std::string& host) {
  const size_t scheme = origin.find("://");
  if (scheme == std::string::npos) return false;
  std::string_view rest = std::string_view(origin).substr(scheme + 3);
  rest = rest.substr(0, rest.find('/'));
  std::string_view name = rest;
  if (!rest.empty() && rest.front() == '[') {
    name = rest.substr(1, rest.find(']') == std::string_view::npos ? 0 : rest.find(']') - 1);
  } else if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    name = rest.substr(0, colon);
  }
  return name == "localhost" || name == "127.0.0.1" || name == "::1" ||
         (!host.empty() && name == host);
}

struct McpHttpServer::Impl {
  McpServer& mcp;
  httplib::Server http;
  std::string host;
};

McpHttpServer::McpHttpServer(McpServer& server) : impl_(new Impl{server, {}, {}}) {
  httplib::Server& http = impl_->http;
  live::SetUpHttpServer(http);
  http.set_payload_max_length(kMcpMaxMessageBytes);
  Impl* impl = impl_.get();
  http.Post("/mcp", [impl](const httplib::Request& req, httplib::Response& res) {
    if (req.has_header("Origin") && !McpOriginAllowed(req.get_header_value("Origin"), impl->host)) {
      Refuse(res, 403, -32600,
             fmt::format("origin {} may not use this server", req.get_header_value("Origin")));
      return;
    }
    // Each request's version is its own header's: clients of one server may have agreed on
    // different ones. Without the header, 2025-03-26, as the 2025-06-18 transport says a server
    // should assume (no sessions here to remember an initialize by).
    std::string version = "2025-03-26";
    if (req.has_header("MCP-Protocol-Version")) {
      version = req.get_header_value("MCP-Protocol-Version");
      if (std::none_of(std::begin(kMcpVersions), std::end(kMcpVersions),
                       [&](const char* known) { return version == known; })) {
        Refuse(res, 400, -32600, fmt::format("unsupported MCP-Protocol-Version {}", version));
        return;
      }
    }
    const std::optional<std::string> answer = impl->mcp.Handle(req.body, &version);
    if (!answer) {
      res.status = 202;
      return;
    }
    // A message that could not be read at all is the client's error at the HTTP level too.
    const nlohmann::json parsed = nlohmann::json::parse(*answer, nullptr, false);
    const bool unread = parsed.is_object() && parsed.contains("error") && parsed["id"].is_null();
    res.status = unread ? 400 : 200;
    res.set_content(*answer, kJson);
  });
  // A body over the limit is refused by httplib before any handler (413): say why, as JSON-RPC.
  http.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (res.status != 413 || !res.body.empty())
          return httplib::Server::HandlerResponse::Unhandled;
        res.set_content(JsonLine(JsonRpcError(nullptr, -32600,
                                              fmt::format("a message over the limit of {} bytes",
                                                          kMcpMaxMessageBytes))),
                        kJson);
        return httplib::Server::HandlerResponse::Handled;
      }));
  auto no_stream = [](const httplib::Request&, httplib::Response& res) {
    res.status = 405;
    res.set_header("Allow", "POST");
  };
  http.Get("/mcp", no_stream);
  http.Delete("/mcp", no_stream);
}

McpHttpServer::~McpHttpServer() = default;

int McpHttpServer::Bind(const std::string& host, int port, const std::string& option) {
  impl_->host = host;
  return live::BindHttpServer(impl_->http, host, port, option, "the MCP server: ");
}

void McpHttpServer::Serve() { impl_->http.listen_after_bind(); }

void McpHttpServer::Stop() { impl_->http.stop(); }

}  // namespace firstwall::ops
