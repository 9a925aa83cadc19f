#include "ops/mcp.h"

#include <cmath>
#include <exception>
#include <istream>
#include <ostream>
#include <utility>

#include <fmt/format.h>

#include "core/error.h"

namespace firstwall::ops {

using nlohmann::json;

namespace {

// JSON-RPC 2.0's codes.
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;

std::string TypeName(const json& v) {
  if (v.is_object()) return "an object";
  if (v.is_array()) return "an array";
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_null()) return "null";
  return "a number";
}

bool IsWhole(const json& v) {
  if (v.is_number_integer()) return true;
  if (!v.is_number_float()) return false;
  const double d = v.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

bool IsType(const json& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "integer") return IsWhole(v);
  if (type == "number") return v.is_number();
  if (type == "null") return v.is_null();
  return false;
}

std::string NamesOf(const json& properties) {
  std::string out;
  for (const auto& [k, unused] : properties.items()) out += (out.empty() ? "" : ", ") + k;
  return out;
}

// The text of a failure for the agent: where (when known), what, and the hint.
std::string FailureText(const std::exception& e) {
  if (const auto* in = dynamic_cast<const InputError*>(&e)) {
    std::string where = in->where().ToString();
    std::string text = where.empty() ? in->message() : fmt::format("{}: {}", where, in->message());
    if (!in->hint().empty()) text += fmt::format(" (hint: {})", in->hint());
    return text;
  }
  return fmt::format("failed: {}", e.what());
}

// A number written with a fraction or an exponent, or too large for 64 bits, is read as a double
// and could not be echoed as sent (9007199254740993.0 would come back ...992, 1e3 as 1000.0):
// only strings and integers within 64 bits are ids (JSON-RPC 2.0: numbers SHOULD NOT contain
// fractional parts).
bool ValidId(const json& id) { return id.is_string() || id.is_number_integer(); }

}  // namespace

std::string McpSchemaError(const json& schema, const json& value, const std::string& path) {
  if (!schema.is_object()) return "";
  if (auto t = schema.find("type"); t != schema.end() && t->is_string()) {
    if (!IsType(value, t->get<std::string>())) {
      const std::string want = t->get<std::string>();
      return fmt::format("{} must be {} {}, got {}", path,
                         want == "integer" || want == "array" || want == "object" ? "an" : "a",
                         want, TypeName(value));
    }
  }
  if (auto e = schema.find("enum"); e != schema.end() && e->is_array()) {
    bool found = false;
    std::string names;
    for (const json& option : *e) {
      found = found || option == value;
      names += (names.empty() ? "" : ", ") + JsonLine(option);
    }
    if (!found) return fmt::format("{} must be one of {}, got {}", path, names, JsonLine(value));
  }
  if (value.is_number()) {
    const double v = value.get<double>();
    if (!std::isfinite(v)) return fmt::format("{} must be finite", path);
    if (auto m = schema.find("minimum");
        m != schema.end() && m->is_number() && v < m->get<double>())
      return fmt::format("{} must be at least {}, got {}", path, JsonLine(*m), JsonLine(value));
    if (auto m = schema.find("maximum");
        m != schema.end() && m->is_number() && v > m->get<double>())
      return fmt::format("{} must be at most {}, got {}", path, JsonLine(*m), JsonLine(value));
  }
  if (value.is_string()) {
    if (auto m = schema.find("minLength"); m != schema.end() && m->is_number_integer() &&
                                           value.get<std::string>().size() < m->get<size_t>())
      return fmt::format("{} must have at least {} characters", path, m->get<size_t>());
  }
  if (value.is_object()) {
    const json props = schema.value("properties", json::object());
    if (auto r = schema.find("required"); r != schema.end() && r->is_array()) {
      for (const json& k : *r) {
        if (k.is_string() && !value.contains(k.get<std::string>()))
          return fmt::format("{}.{} is required", path, k.get<std::string>());
      }
    }
    for (const auto& [k, v] : value.items()) {
      if (props.contains(k)) {
        if (std::string why = McpSchemaError(props[k], v, path + "." + k); !why.empty()) return why;
        continue;
      }
      const auto extra = schema.find("additionalProperties");
      if (extra == schema.end()) continue;
      if (extra->is_boolean() && !extra->get<bool>()) {
        return fmt::format("{}.{} is not known here (expected: {})", path, k, NamesOf(props));
      }
      if (std::string why = McpSchemaError(*extra, v, path + "." + k); !why.empty()) return why;
    }
  }
  if (value.is_array()) {
    if (auto items = schema.find("items"); items != schema.end()) {
      for (size_t i = 0; i < value.size(); ++i) {
        if (std::string why = McpSchemaError(*items, value[i], fmt::format("{}[{}]", path, i));
            !why.empty())
          return why;
      }
    }
  }
  return "";
}

json JsonRpcError(const json& id, int code, const std::string& message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

std::string JsonLine(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void ServeStdio(McpServer& server, std::istream& in, std::ostream& out) {
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (std::optional<std::string> answer = server.Handle(line))
      out << *answer << '\n' << std::flush;
  }
}

McpServer::McpServer(std::string name, std::string version, std::string instructions)
    : name_(std::move(name)),
      version_(std::move(version)),
      instructions_(std::move(instructions)) {}

void McpServer::AddTool(McpTool tool) {
  std::lock_guard lock(mutex_);
  tools_.push_back(std::move(tool));
}

std::string McpServer::version() const {
  std::lock_guard lock(mutex_);
  return agreed_;
}

std::optional<std::string> McpServer::Handle(const std::string& text, const std::string* version) {
  if (text.size() > kMcpMaxMessageBytes) {
    return JsonLine(JsonRpcError(nullptr, kInvalidRequest,
                                 fmt::format("a message of {} bytes is over the limit of {} bytes",
                                             text.size(), kMcpMaxMessageBytes)));
  }
  json message = json::parse(text, nullptr, false);
  if (message.is_discarded()) {
    return JsonLine(JsonRpcError(nullptr, kParseError, "parse error: the message is not JSON"));
  }
  std::optional<json> answer = HandleJson(message, version);
  if (!answer) return std::nullopt;
  return JsonLine(*answer);
}

std::optional<json> McpServer::HandleJson(const json& message, const std::string* version) {
  std::lock_guard lock(mutex_);
  if (!message.is_array()) return HandleOne(message);
  if ((version ? *version : agreed_) != "2025-03-26") {
    return JsonRpcError(nullptr, kInvalidRequest,
                        "a batch (JSON array) is not a message of MCP 2025-06-18; send one "
                        "request at a time");
  }
  if (message.empty()) return JsonRpcError(nullptr, kInvalidRequest, "an empty batch");
  json answers = json::array();
  for (const json& m : message) {
    if (auto a = HandleOne(m)) answers.push_back(std::move(*a));
  }
  if (answers.empty()) return std::nullopt;
  return answers;
}

std::optional<json> McpServer::HandleOne(const json& m) {
  if (!m.is_object()) {
    return JsonRpcError(nullptr, kInvalidRequest, "a message must be a JSON object");
  }
  const auto id = m.find("id");
  if (id != m.end() && !ValidId(*id)) {
    return JsonRpcError(nullptr, kInvalidRequest,
                        "the id must be a string or an integer (within 64 bits, without a fraction "
                        "or an exponent)");
  }
  const json id_value = id != m.end() ? *id : json(nullptr);
  if (m.value("jsonrpc", json()) != "2.0") {
    return JsonRpcError(id_value, kInvalidRequest, "\"jsonrpc\" must be \"2.0\"");
  }
  const auto method = m.find("method");
  if (method == m.end()) {
    // A response to a request of ours (we send none): nothing to answer.
    if (id != m.end() && (m.contains("result") || m.contains("error"))) return std::nullopt;
    return JsonRpcError(id_value, kInvalidRequest, "a request needs a \"method\"");
  }
  if (!method->is_string()) {
    return JsonRpcError(id_value, kInvalidRequest, "\"method\" must be a string");
  }
  if (id == m.end()) return std::nullopt;  // a notification (initialized, cancelled, ...)
  const json params = m.value("params", json::object());
  if (!params.is_object()) {
    return JsonRpcError(id_value, kInvalidParams, "\"params\" must be an object");
  }
  const std::string name = method->get<std::string>();
  try {
    json result;
    if (name == "initialize") {
      if (!params.contains("protocolVersion") || !params["protocolVersion"].is_string()) {
        return JsonRpcError(id_value, kInvalidParams,
                            "initialize needs params.protocolVersion, a string");
      }
      result = Initialize(params);
    } else if (name == "ping") {
      result = json::object();
    } else if (name == "tools/list") {
      result = ListTools();
    } else if (name == "tools/call") {
      return CallTool(id_value, params);
    } else {
      return JsonRpcError(id_value, kMethodNotFound, fmt::format("method not found: {}", name));
    }
    return json{{"jsonrpc", "2.0"}, {"id", id_value}, {"result", std::move(result)}};
  } catch (const std::exception& e) {
    return JsonRpcError(id_value, kInternalError, fmt::format("internal error: {}", e.what()));
  }
}

json McpServer::Initialize(const json& params) {
  const std::string asked = params["protocolVersion"].get<std::string>();
  agreed_ = kMcpVersions[0];
  for (const char* v : kMcpVersions) {
    if (asked == v) agreed_ = v;
  }
  return {{"protocolVersion", agreed_},
          {"capabilities", {{"tools", {{"listChanged", false}}}}},
          {"serverInfo", {{"name", name_}, {"version", version_}}},
          {"instructions", instructions_}};
}

json McpServer::ListTools() const {
  json tools = json::array();
  for (const McpTool& t : tools_) {
    tools.push_back(
        {{"name", t.name}, {"description", t.description}, {"inputSchema", t.input_schema}});
  }
  return {{"tools", tools}};
}

json McpServer::CallTool(const json& id, const json& params) {
  const auto name = params.find("name");
  if (name == params.end() || !name->is_string()) {
    return JsonRpcError(id, kInvalidParams, "tools/call needs params.name, a string");
  }
  const McpTool* tool = nullptr;
  std::string names;
  for (const McpTool& t : tools_) {
    if (t.name == name->get<std::string>()) tool = &t;
    names += (names.empty() ? "" : ", ") + t.name;
  }
  if (!tool) {
    return JsonRpcError(
        id, kInvalidParams,
        fmt::format("unknown tool: {} (this server's tools: {})", JsonLine(*name), names));
  }
  const json arguments = params.value("arguments", json::object());
  if (std::string why = McpSchemaError(tool->input_schema, arguments, "arguments"); !why.empty()) {
    return JsonRpcError(id, kInvalidParams, fmt::format("{}: {}", tool->name, why));
  }
  json result;
  try {
    json answer = tool->call(arguments);
    result = {{"content", json::array({{{"type", "text"}, {"text", JsonLine(answer)}}})},
              {"structuredContent", answer},
              {"isError", false}};
  } catch (const std::exception& e) {
    result = {{"content", json::array({{{"type", "text"}, {"text", FailureText(e)}}})},
              {"isError", true}};
  }
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

}  // namespace firstwall::ops
