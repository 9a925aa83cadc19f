// The Model Context Protocol (MCP, revisions 2025-06-18 and 2025-03-26) as a server of tools, on
// JSON-RPC 2.0, without a transport: each message in, its answer out. `firstwall mcp` feeds it the
// lines of standard input (stdio transport) or the bodies of HTTP POSTs (mcp_http.h); the tools of
// the twin are in mcp_tools.h. docs/operations.md, "MCP", describes what a client sees.
//
// What it answers (JSON-RPC error codes of the JSON-RPC 2.0 specification):
//  - initialize (the protocol version: the client's when it is one of kMcpVersions, else the
//    newest), ping, tools/list, tools/call, and the notifications (no answer);
//  - text that is not JSON: -32700 (parse error, id null); JSON that is not a request, a
//    notification or a response: -32600 (invalid request); an unknown method: -32601;
//  - tools/call of an unknown tool, or with arguments its inputSchema refuses: -32602 (invalid
//    params), naming the tool or the argument;
//  - a tool that fails on valid arguments (bad input, a refusal): a result with isError true and
//    the reason as text, so the agent reads it.
// A batch (a JSON array) is answered only under 2025-03-26, which has them; 2025-06-18 removed
// them (-32600). Nothing a client sends throws out of Handle.
#pragma once

#include <functional>
#include <iosfwd>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace firstwall::ops {

// Newest first.
inline constexpr const char* kMcpVersions[] = {"2025-06-18", "2025-03-26"};

// Longest message read (bytes); a longer one is refused with -32600 without being parsed.
inline constexpr size_t kMcpMaxMessageBytes = 4u << 20;

struct McpTool {
  std::string name;
  std::string description;
  nlohmann::json input_schema;  // a JSON Schema object (the subset McpSchemaError reads)
  // The tool's answer as a JSON object (the result's structuredContent, and its text). Throws
  // InputError (or any std::exception) for a failure the agent should read (isError).
  std::function<nlohmann::json(const nlohmann::json& arguments)> call;
};

// "" when `value` matches `schema`, else why not, naming the path ("arguments.overrides"). Reads
// type (object, string, number, integer, boolean, array), properties, required,
// additionalProperties (false or a schema), items, enum, minimum, maximum, minLength.
std::string McpSchemaError(const nlohmann::json& schema, const nlohmann::json& value,
                           const std::string& path);

class McpServer {
 public:
  McpServer(std::string name, std::string version, std::string instructions);
  void AddTool(McpTool tool);

  // One message (a line of stdio, an HTTP body): the answer's text (one line of JSON), or nullopt
  // when there is none (notifications, responses). Serialized: tools run one at a time.
  // `version`: the protocol version this message is under, where the transport says it per message
  // (HTTP's MCP-Protocol-Version header); nullptr: the one the last initialize agreed (stdio, one
  // client a process).
  std::optional<std::string> Handle(const std::string& text, const std::string* version = nullptr);
  // The same on parsed JSON; nullopt for no answer.
  std::optional<nlohmann::json> HandleJson(const nlohmann::json& message,
                                           const std::string* version = nullptr);

  // The version agreed by the last initialize ("" before any).
  std::string version() const;

 private:
  std::optional<nlohmann::json> HandleOne(const nlohmann::json& message);
  nlohmann::json Initialize(const nlohmann::json& params);
  nlohmann::json ListTools() const;
  nlohmann::json CallTool(const nlohmann::json& id, const nlohmann::json& params);

  std::string name_, version_, instructions_;
  std::vector<McpTool> tools_;
  std::string agreed_;
  mutable std::recursive_mutex mutex_;
};

// The stdio transport: each line of `in` (newline-delimited JSON; a trailing CR dropped, empty
// lines skipped) handled, each answer written to `out` as one line and flushed, until `in` ends.
void ServeStdio(McpServer& server, std::istream& in, std::ostream& out);

// A JSON-RPC error answer.
nlohmann::json JsonRpcError(const nlohmann::json& id, int code, const std::string& message);

// JSON text on one line, any invalid UTF-8 replaced (never throws for a string's bytes).
std::string JsonLine(const nlohmann::json& j);

}  // namespace firstwall::ops
