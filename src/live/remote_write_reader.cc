#include <httplib.h>
#include <snappy.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "core/error.h"
#include "live/remote_write.h"
#include "remote_write.pb.h"

namespace firstwall::live {
namespace {

namespace pb = ::firstwall::remote_write;

// Prometheus' stale marker: a NaN with this payload marks a series that went away.
constexpr uint64_t kStaleNaN = 0x7ff0000000000002ull;

bool IsStaleMarker(double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  return bits == kStaleNaN;
}

// Well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    const uint32_t least[] = {0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

RemoteWriteBody Refuse(int status, std::string reason) {
  RemoteWriteBody b;
  b.status = status;
  b.reason = std::move(reason);
  return b;
}

class RemoteWriteReader : public SourceReader {
 public:
  RemoteWriteReader(const Source& s, const ReaderContext& c) : src_(s), ctx_(c) {
    server_.set_payload_max_length(ctx_.max_body_bytes);
    server_.Post(src_.path,
                 [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
    // What httplib answers by itself (a body over the limit, a path or method not served): counted
    // too. Those answers come here without a body; ours always carry their reason.
    server_.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      const std::string why = res.status == 413
                                  ? fmt::format("body larger than {} bytes", ctx_.max_body_bytes)
                                  : fmt::format("HTTP {} for {} {} (remote-write is POST {})",
                                                res.status, req.method, req.path, src_.path);
      Reject(why);
      res.set_content(why + "\n", "text/plain");
    });
    // Only SO_REUSEADDR: httplib's default adds SO_REUSEPORT, with which a second listener on a
    // port in use would start without an error and share the connections.
    server_.set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    if (!server_.bind_to_port(src_.host, src_.port)) {
      throw InputError({src_.name, 0, 0},
                       fmt::format("remote_write source '{}': cannot listen on {}:{}", src_.name,
                                   src_.host, src_.port),
                       "the port may be in use by another program");
    }
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // Until it runs, stop() would not reach it (a reader destroyed at once would hang).
    for (int i = 0; i < 5000 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  ~RemoteWriteReader() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  ReadResult Read() override {
    ReadResult r;
    std::lock_guard<std::mutex> lock(mu_);
    r.ok = true;
    r.samples.swap(buffer_);
    r.rejected = rejected_;
    r.rejects.swap(rejects_);
    r.dropped = dropped_;
    rejected_ = 0;
    dropped_ = 0;
    return r;
  }

 private:
  void Reject(const std::string& why) {
    std::lock_guard<std::mutex> lock(mu_);
    ++rejected_;
    if (rejects_.size() < 8) rejects_.push_back({static_cast<int>(requests_), why});
  }

  void Handle(const httplib::Request& req, httplib::Response& res) {
    ++requests_;
    RemoteWriteBody b;
    const std::string encoding = req.get_header_value("Content-Encoding");
    const std::string type = req.get_header_value("Content-Type");
    if (encoding != "snappy") {
      b = Refuse(400, fmt::format("Content-Encoding '{}', expected snappy", encoding));
    } else if (type.rfind("application/x-protobuf", 0) != 0) {
      b = Refuse(400, fmt::format("Content-Type '{}', expected application/x-protobuf", type));
    } else {
      b = DecodeRemoteWrite(req.body, ctx_.max_body_bytes);
    }
    res.status = b.status;
    if (b.status != 204) {
      Reject(b.reason);
      res.set_content(b.reason + "\n", "text/plain");
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    const size_t room =
        ctx_.max_buffered_samples > buffer_.size() ? ctx_.max_buffered_samples - buffer_.size() : 0;
    const size_t take = std::min(room, b.samples.size());
    dropped_ += static_cast<int64_t>(b.samples.size() - take);
    buffer_.insert(buffer_.end(), std::make_move_iterator(b.samples.begin()),
                   std::make_move_iterator(b.samples.begin() + static_cast<ptrdiff_t>(take)));
  }

  const Source& src_;
  ReaderContext ctx_;
  httplib::Server server_;
  std::thread thread_;
  std::atomic<int64_t> requests_{0};
  std::mutex mu_;  // guards what follows
  std::vector<PromSample> buffer_;
  int rejected_ = 0;
  std::vector<PromReject> rejects_;
  int64_t dropped_ = 0;
};

}  // namespace

RemoteWriteBody DecodeRemoteWrite(std::string_view body, size_t max_bytes) {
  if (body.size() > max_bytes) {
    return Refuse(413, fmt::format("body of {} bytes, more than {}", body.size(), max_bytes));
  }
  size_t length = 0;
  if (!snappy::GetUncompressedLength(body.data(), body.size(), &length)) {
    return Refuse(400, "not snappy-compressed (no valid block length)");
  }
  if (length > max_bytes) {
    return Refuse(413, fmt::format("uncompresses to {} bytes, more than {}", length, max_bytes));
  }
  std::string raw;
  if (!snappy::Uncompress(body.data(), body.size(), &raw)) {
    return Refuse(400, "snappy data corrupt or truncated");
  }
  pb::WriteRequest request;
  if (!request.ParseFromString(raw)) {
    return Refuse(400, "not a remote-write WriteRequest (protobuf decoding failed)");
  }
  RemoteWriteBody out;
  out.status = 204;
  size_t n = 0;
  for (const pb::TimeSeries& ts : request.timeseries()) n += static_cast<size_t>(ts.samples_size());
  out.samples.reserve(n);
  for (int i = 0; i < request.timeseries_size(); ++i) {
    const pb::TimeSeries& ts = request.timeseries(i);
    PromSample proto;
    bool named = false;
    for (const pb::Label& l : ts.labels()) {
      if (!IsUtf8(l.name()) || !IsUtf8(l.value())) {
        return Refuse(400, fmt::format("series {}: a label that is not UTF-8", i + 1));
      }
      if (l.name().empty())
        return Refuse(400, fmt::format("series {}: an empty label name", i + 1));
      if (l.name() == "__name__") {
        proto.metric = l.value();
        named = true;
      } else {
        proto.labels.push_back({l.name(), l.value()});
      }
    }
    if (!named || proto.metric.empty()) {
      return Refuse(400, fmt::format("series {}: no __name__ label", i + 1));
    }
    for (const pb::Sample& s : ts.samples()) {
      if (IsStaleMarker(s.value())) {
        ++out.stale_markers;
        continue;
      }
      PromSample p = proto;
      p.value = s.value();
      p.timestamp_ms = s.timestamp();
      out.samples.push_back(std::move(p));
    }
  }
  return out;
}

std::string EncodeRemoteWrite(const std::vector<PromSample>& samples) {
  pb::WriteRequest request;
  for (const PromSample& s : samples) {
    pb::TimeSeries* ts = request.add_timeseries();
    pb::Label* name = ts->add_labels();
    name->set_name("__name__");
    name->set_value(s.metric);
    for (const Label& l : s.labels) {
      pb::Label* pl = ts->add_labels();
      pl->set_name(l.name);
      pl->set_value(l.value);
    }
    pb::Sample* ps = ts->add_samples();
    ps->set_value(s.value);
    ps->set_timestamp(s.timestamp_ms.value_or(0));
  }
  std::string raw, out;
  request.SerializeToString(&raw);
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

std::unique_ptr<SourceReader> MakeRemoteWriteReader(const Source& source,
                                                    const ReaderContext& context) {
  return std::make_unique<RemoteWriteReader>(source, context);
}

}  // namespace firstwall::live
