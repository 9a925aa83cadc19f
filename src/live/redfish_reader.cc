#include <curl/curl.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "core/error.h"
#include "live/listen_address.h"
#include "live/prometheus_text.h"
#include "live/redfish.h"
#include "scenario/reader.h"

namespace firstwall::live {
namespace {

struct Body {
  std::string text;
  size_t limit = 0;
  bool too_big = false;
};

size_t Collect(char* data, size_t size, size_t n, void* user) {
  auto* b = static_cast<Body*>(user);
  const size_t len = size * n;
  if (b->text.size() + len > b->limit) {
    b->too_big = true;
    return 0;  // libcurl ends the transfer with CURLE_WRITE_ERROR
  }
  b->text.append(data, len);
  return len;
}

class RedfishReader : public SourceReader {
 public:
  RedfishReader(const Source& s, const ReaderContext& c) : src_(s), ctx_(c) {
    static std::once_flag global;
    std::call_once(global, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (!src_.password_env.empty()) {
      const char* pw = std::getenv(src_.password_env.c_str());
      if (!pw) {
        throw InputError({src_.name, 0, 0},
                         fmt::format("redfish source '{}': the environment variable {} (its "
                                     "password_env) is not set",
                                     src_.name, src_.password_env),
                         "export it before starting ingest");
      }
      password_ = pw;
    }
    curl_ = curl_easy_init();
    FW_CHECK(curl_ != nullptr, "curl_easy_init failed");
    headers_ = curl_slist_append(nullptr, "Accept: application/json");
  }
  ~RedfishReader() override {
    curl_slist_free_all(headers_);
    curl_easy_cleanup(curl_);
  }

  ReadResult Read() override {
    ReadResult r;
    std::map<std::string, std::optional<nlohmann::json>> docs;  // path -> parsed, or not JSON
    std::map<std::string, std::string> not_json;
    for (const RedfishResource& res : src_.resources) {
      if (docs.count(res.path)) continue;
      Body body;
      std::string error;
      if (!Get(res.path, body, error)) {
        r.error = error;
        return r;
      }
      try {
        docs[res.path] = nlohmann::json::parse(body.text);
      } catch (const nlohmann::json::parse_error& e) {
        docs[res.path] = std::nullopt;
        not_json[res.path] = e.what();
      }
    }
    r.ok = true;
    int index = 0;
    for (const RedfishResource& res : src_.resources) {
      ++index;
      const auto& doc = docs[res.path];
      std::string why;
      bool is_null = false;
      std::optional<double> v;
      if (!doc) {
        why = fmt::format("not JSON: {}", not_json[res.path]);
      } else {
        v = RedfishReading(*doc, res.pointer, why, is_null);
      }
      if (is_null) continue;
      if (!v) {
        ++r.rejected;
        if (r.rejects.size() < 8) {
          r.rejects.push_back({index, fmt::format("{} {}: {}", res.path, res.pointer, why)});
        }
        continue;
      }
      r.samples.push_back({res.name, res.labels, *v, std::nullopt});
    }
    return r;
  }

 private:
  bool Get(const std::string& path, Body& body, std::string& error) {
    body.limit = ctx_.max_body_bytes;
    const std::string url = fmt::format("http://{}{}", HostPort(src_.host, src_.port), path);
    const long ms = std::max(1L, std::lround(src_.timeout_s / ctx_.speed * 1000));
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, ms);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl_, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(ctx_.max_body_bytes));
    if (!src_.user.empty()) {
      curl_easy_setopt(curl_, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(curl_, CURLOPT_USERNAME, src_.user.c_str());
      curl_easy_setopt(curl_, CURLOPT_PASSWORD, password_.c_str());
    }
    const CURLcode rc = curl_easy_perform(curl_);
    if (body.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
      error = fmt::format("{}: body larger than {} bytes, refused", path, ctx_.max_body_bytes);
      return false;
    }
    if (rc != CURLE_OK) {
      error = fmt::format("{}: no answer: {}", path, curl_easy_strerror(rc));
      return false;
    }
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
      error = fmt::format("{}: HTTP status {}{}", path, status,
                          status == 401 ? " (check user and password_env)" : "");
      return false;
    }
    return true;
  }

  const Source& src_;
  ReaderContext ctx_;
  std::string password_;
  CURL* curl_ = nullptr;
  curl_slist* headers_ = nullptr;
};

}  // namespace

std::optional<double> RedfishReading(const nlohmann::json& doc, const std::string& pointer,
                                     std::string& why, bool& is_null) {
  is_null = false;
  why.clear();
  const nlohmann::json* at = nullptr;
  try {
    const nlohmann::json::json_pointer p(pointer);
    if (doc.contains(p)) at = &doc.at(p);
  } catch (const nlohmann::json::exception& e) {
    why = fmt::format("pointer '{}': {}", pointer, e.what());
    return std::nullopt;
  }
  if (!at) {
    why = fmt::format("no member at {}", pointer);
    return std::nullopt;
  }
  if (at->is_null()) {
    is_null = true;
    return std::nullopt;
  }
  if (!at->is_number()) {
    why = fmt::format("a {}, not a number", at->type_name());
    return std::nullopt;
  }
  return at->get<double>();
}

void ParseRedfishKeys(const scenario::Section& s, Source& src) {
  const bool redfish = src.kind == "redfish";
  for (const char* key : {"resources", "user", "password_env"}) {
    if (!redfish && s.Has(key)) {
      s.Fail(key, fmt::format("'{}' is a key of redfish sources, not of kind {}", key, src.kind));
    }
  }
  if (!redfish) return;
  if (!s.Has("resources")) {
    s.Fail("resources", "a redfish source lists the resources it reads",
           "resources: [{path: /redfish/v1/Chassis/1/Power, pointer: "
           "/PowerControl/0/PowerConsumedWatts, name: node_power_watts}]");
  }
  if (s.Has("user")) src.user = s.String("user");
  if (s.Has("password_env")) src.password_env = s.String("password_env");
  if (!src.password_env.empty() && src.user.empty()) {
    s.Fail("password_env", "a password without a user", "add user: NAME");
  }
  if (src.path != "/") {
    s.Fail("url", fmt::format("'{}': a redfish source's url is the BMC's http://host[:port]; "
                              "resources give the paths",
                              src.url));
  }
  for (const scenario::Section& r : s.List("resources")) {
    RedfishResource res;
    res.path = r.String("path");
    if (!res.path.starts_with("/"))
      r.Fail("path", fmt::format("'{}' does not start with /", res.path));
    res.pointer = r.String("pointer");
    try {
      const nlohmann::json::json_pointer p(res.pointer);
      if (res.pointer.empty()) throw std::invalid_argument("empty");
    } catch (const std::exception&) {
      r.Fail("pointer", fmt::format("'{}' is not a JSON pointer to a member", res.pointer),
             "write it as in RFC 6901: /PowerControl/0/PowerConsumedWatts");
    }
    res.name = r.String("name");
    if (!IsMetricName(res.name)) {
      r.Fail("name", fmt::format("'{}' is not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)", res.name));
    }
    for (const auto& e : r.StringEntries("labels")) {
      if (!IsLabelName(e.key) || e.key.starts_with("__")) {
        r.Fail("labels", fmt::format("'{}' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not "
                                     "starting with __)",
                                     e.key));
      }
      res.labels.push_back({e.key, e.text});
    }
    for (const RedfishResource& other : src.resources) {
      if (other.name == res.name && other.labels == res.labels) {
        r.Fail("name",
               fmt::format("a second resource named '{}' with the same labels: both would "
                           "be one stream",
                           res.name),
               "tell them apart with labels");
      }
    }
    src.resources.push_back(std::move(res));
  }
}

std::unique_ptr<SourceReader> MakeRedfishReader(const Source& source,
                                                const ReaderContext& context) {
  return std::make_unique<RedfishReader>(source, context);
}

}  // namespace firstwall::live
