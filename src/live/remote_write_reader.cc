#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "core/error.h"
#include "live/http_server.h"
#include "live/listen_address.h"
#include "live/remote_write.h"

namespace firstwall::live {
namespace {

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
    SetUpHttpServer(server_);
    if (!server_.bind_to_port(src_.host, src_.port)) {
      ThrowCannotListen(src_.name, fmt::format("remote_write source '{}': ", src_.name), src_.host,
                        src_.port);
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

  bool Pushed() const override { return true; }
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

std::unique_ptr<SourceReader> MakeRemoteWriteReader(const Source& source,
                                                    const ReaderContext& context) {
  return std::make_unique<RemoteWriteReader>(source, context);
}

}  // namespace firstwall::live
