// The reader of `kind: mqtt` (mqtt_topic.h): a libmosquitto client on its own network thread
// (mosquitto_loop_start) subscribes to the source's topic filters each time it connects, decodes
// every message into a sample and buffers it until ingest's next Read(). libmosquitto reconnects by
// itself after a lost connection, waiting 1 s and doubling up to 30 s of wall time
// (mosquitto_reconnect_delay_set); a broker absent at start is tried the same way.
#include <mosquitto.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>

#include <fmt/format.h>

#include "live/reader.h"

namespace firstwall::live {
namespace {

constexpr int kKeepaliveS = 30;
constexpr size_t kMaxReasons = 8;

void InitLibrary() {
  static std::once_flag once;
  // Never cleaned up: other clients (the emulator's publisher) may live as long as the process.
  std::call_once(once, [] { mosquitto_lib_init(); });
}

class MqttReader : public SourceReader {
 public:
  MqttReader(const Source& s, const ReaderContext& c) : src_(s), ctx_(c) {
    InitLibrary();
    const std::string& id = src_.mqtt.client_id;
    mosq_ = mosquitto_new(id.empty() ? nullptr : id.c_str(), true, this);
    if (!mosq_) {
      error_ = "libmosquitto could not make a client";
      return;
    }
    mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_connect_callback_set(mosq_, [](mosquitto* m, void* self, int rc) {
      static_cast<MqttReader*>(self)->OnConnect(m, rc);
    });
    mosquitto_disconnect_callback_set(mosq_, [](mosquitto*, void* self, int rc) {
      static_cast<MqttReader*>(self)->OnDisconnect(rc);
    });
    mosquitto_message_callback_set(mosq_, [](mosquitto*, void* self, const mosquitto_message* msg) {
      static_cast<MqttReader*>(self)->OnMessage(msg);
    });
    mosquitto_reconnect_delay_set(mosq_, 1, 30, true);
    // Connecting may fail now (no broker yet): the network thread retries with the same backoff.
    const int rc = mosquitto_connect_async(mosq_, src_.host.c_str(), src_.port, kKeepaliveS);
    if (rc != MOSQ_ERR_SUCCESS) error_ = Why(rc);
    const int loop = mosquitto_loop_start(mosq_);
    if (loop != MOSQ_ERR_SUCCESS) {
      error_ = fmt::format("no network thread: {}", Why(loop));
      return;
    }
    // Give the first connection the source's timeout, so that the first read does not fail only
    // because the broker has not answered yet; a broker that is not there is not waited for longer.
    std::unique_lock<std::mutex> lock(mu_);
    answered_.wait_for(lock, std::chrono::duration<double>(src_.timeout_s / ctx_.speed),
                       [&] { return connected_ || refused_; });
  }

  ~MqttReader() override {
    if (!mosq_) return;
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, true);
    mosquitto_destroy(mosq_);
  }

  ReadResult Read() override {
    ReadResult r;
    std::lock_guard<std::mutex> lock(mu_);
    r.rejected = rejected_;
    r.rejects = std::move(rejects_);
    r.dropped = dropped_;
    rejected_ = 0;
    rejects_.clear();
    dropped_ = 0;
    if (!connected_) {
      // What arrived before the connection was lost stays for the next read that succeeds.
      r.error = fmt::format("not connected to the broker at {}:{}: {}", src_.host, src_.port,
                            error_.empty() ? "connecting" : error_);
      return r;
    }
    r.ok = true;
    r.samples.assign(std::make_move_iterator(buffer_.begin()),
                     std::make_move_iterator(buffer_.end()));
    buffer_.clear();
    return r;
  }

 private:
  static std::string Why(int rc) {
    if (rc == MOSQ_ERR_ERRNO) return strerror(errno);
    return mosquitto_strerror(rc);
  }

  // On the network thread.
  void OnConnect(mosquitto* m, int rc) {
    if (rc != 0) {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = fmt::format("the broker refused the connection: {}", mosquitto_connack_string(rc));
      refused_ = true;
      answered_.notify_all();
      return;
    }
    std::string failed;
    for (const MqttTopic& t : src_.mqtt.topics) {
      const int s = mosquitto_subscribe(m, nullptr, t.filter.c_str(), src_.mqtt.qos);
      if (s != MOSQ_ERR_SUCCESS) failed = fmt::format("subscribing to '{}': {}", t.filter, Why(s));
    }
    std::lock_guard<std::mutex> lock(mu_);
    connected_ = failed.empty();
    error_ = failed;
    if (ctx_.log && connected_ && ever_connected_) {
      ctx_.log(
          fmt::format("{}: reconnected to the broker at {}:{}", src_.name, src_.host, src_.port));
    }
    ever_connected_ = ever_connected_ || connected_;
    answered_.notify_all();
  }

  void OnDisconnect(int rc) {
    std::lock_guard<std::mutex> lock(mu_);
    connected_ = false;
    error_ = rc == 0 ? "disconnected" : fmt::format("connection lost ({})", Why(rc));
  }

  void OnMessage(const mosquitto_message* msg) {
    const std::string_view topic = msg->topic ? msg->topic : "";
    const std::string_view payload(static_cast<const char*>(msg->payload),
                                   msg->payload ? static_cast<size_t>(msg->payloadlen) : 0);
    MqttDecoded d;
    if (payload.size() > ctx_.max_body_bytes) {
      d.reason = fmt::format("topic '{}': payload of {} bytes, more than {}", topic.substr(0, 80),
                             payload.size(), ctx_.max_body_bytes);
    } else {
      const int64_t now = ctx_.site_now_ms ? ctx_.site_now_ms() : 0;
      d = DecodeMqttMessage(src_.mqtt.topics, topic, payload, now);
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++messages_;
    if (!d.ok) {
      ++rejected_;
      if (rejects_.size() < kMaxReasons)
        rejects_.push_back({static_cast<int>(messages_), d.reason});
    } else if (buffer_.size() >= ctx_.max_buffered_samples) {
      ++dropped_;
    } else {
      buffer_.push_back(std::move(d.sample));
    }
  }

  const Source& src_;
  ReaderContext ctx_;
  mosquitto* mosq_ = nullptr;
  std::mutex mu_;                     // guards everything below
  std::condition_variable answered_;  // the broker accepted or refused a connection
  bool refused_ = false;
  std::deque<PromSample> buffer_;
  bool connected_ = false, ever_connected_ = false;
  std::string error_;
  int rejected_ = 0;
  std::vector<PromReject> rejects_;
  int64_t dropped_ = 0;
  int64_t messages_ = 0;  // since the start: a refused message's number in the log
};

}  // namespace

std::unique_ptr<SourceReader> MakeMqttReader(const Source& source, const ReaderContext& context) {
  return std::make_unique<MqttReader>(source, context);
}

}  // namespace firstwall::live
