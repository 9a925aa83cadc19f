#include <httplib.h>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "live/reader.h"

namespace firstwall::live {
namespace {

// httplib's error names ("Read") said as what happened.
std::string Why(httplib::Error e, double timeout_s) {
  switch (e) {
    case httplib::Error::Connection:
      return "could not connect (refused, or no route)";
    case httplib::Error::ConnectionTimeout:
      return fmt::format("could not connect within the {:g} s timeout", timeout_s);
    case httplib::Error::Read:
      return fmt::format(
          "no full HTTP response: the connection closed, the reply was not HTTP, or nothing came "
          "within the {:g} s timeout",
          timeout_s);
    case httplib::Error::Write:
      return "could not send the request: the connection closed";
    default:
      return httplib::to_string(e);
  }
}

class PrometheusReader : public SourceReader {
 public:
  PrometheusReader(const Source& s, const ReaderContext& c) : src_(s), ctx_(c) {}

  ReadResult Read() override {
    ReadResult r;
    std::string body;
    bool too_big = false;
    httplib::Client client(src_.host, src_.port);
    const auto timeout = std::chrono::duration<double>(src_.timeout_s / ctx_.speed);
    const auto usec = std::max<int64_t>(
        1000, std::chrono::duration_cast<std::chrono::microseconds>(timeout).count());
    // Seconds and microseconds apart: select() refuses a microsecond part of a second or more.
    const auto sec = static_cast<time_t>(usec / 1000000);
    const auto rest = static_cast<time_t>(usec % 1000000);
    client.set_connection_timeout(sec, rest);
    client.set_read_timeout(sec, rest);
    client.set_write_timeout(sec, rest);
    auto res = client.Get(src_.path.c_str(), [&](const char* data, size_t len) {
      if (body.size() + len > ctx_.max_body_bytes) {
        too_big = true;
        return false;
      }
      body.append(data, len);
      return true;
    });
    if (too_big) {
      r.error = fmt::format("body larger than {} bytes, refused", ctx_.max_body_bytes);
    } else if (!res) {
      r.error = fmt::format("no answer from {}:{}: {}", src_.host, src_.port,
                            Why(res.error(), src_.timeout_s));
    } else if (res->status != 200) {
      r.error =
          fmt::format("HTTP status {} from {}:{}{}", res->status, src_.host, src_.port, src_.path);
    } else {
      r.ok = true;
      PromText p = ParsePrometheusText(body, 8);
      r.samples = std::move(p.samples);
      r.rejected = p.rejected;
      r.rejects = std::move(p.rejects);
    }
    return r;
  }

 private:
  const Source& src_;
  ReaderContext ctx_;
};

}  // namespace

std::unique_ptr<SourceReader> MakePrometheusReader(const Source& source,
                                                   const ReaderContext& context) {
  return std::make_unique<PrometheusReader>(source, context);
}

}  // namespace firstwall::live
