// The reader of `kind: mqtt` (mqtt_topic.h): a libmosquitto client on a network thread of its own
// subscribes to the source's topic filters each time it connects, decodes every message into a
// sample and buffers it until ingest's next Read(). The thread runs mosquitto_loop itself rather
// than mosquitto_loop_start, whose thread does not retry a first connection that failed (a broker
// not up yet): here every failed or lost connection is retried after 1 s, doubling to 30 s of wall
// time, back to 1 s once connected.
#include <mosquitto.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

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
    network_ = std::thread([this] { Run(); });
    // Give the first connection the source's timeout, so that the first read does not fail only
    // because the broker has not answered yet; not when the connection was refused or dropped.
    std::unique_lock<std::mutex> lock(mu_);
    answered_.wait_for(lock, std::chrono::duration<double>(src_.timeout_s / ctx_.speed),
                       [&] { return connected_ || gave_up_; });
  }

  ~MqttReader() override {
    if (!mosq_) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    answered_.notify_all();
    network_.join();
    mosquitto_disconnect(mosq_);
    mosquitto_destroy(mosq_);
  }

  bool Pushed() const override { return true; }
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
    if (retained_repeats_ > 0 && ctx_.log) {
      ctx_.log(
          fmt::format("{}: {} retained message(s) the broker sent again at a subscription "
                      "skipped: the readings were already taken",
                      src_.name, retained_repeats_));
    }
    retained_repeats_ = 0;
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

  // The network thread: connect, serve the connection until it fails, wait, connect again.
  void Run() {
    double backoff_s = 1;
    bool first = true;
    while (true) {
      const int rc = first
                         ? mosquitto_connect_async(mosq_, src_.host.c_str(), src_.port, kKeepaliveS)
                         : mosquitto_reconnect_async(mosq_);
      first = false;
      int loop = MOSQ_ERR_SUCCESS;
      if (rc == MOSQ_ERR_SUCCESS) {
        // Until the connection fails or we are asked to stop; 100 ms at most per call so that a
        // stop is heard.
        while ((loop = mosquitto_loop(mosq_, 100, 1)) == MOSQ_ERR_SUCCESS) {
          std::lock_guard<std::mutex> lock(mu_);
          if (stop_) return;
          if (connected_) backoff_s = 1;
        }
      }
      const std::string why = Why(rc != MOSQ_ERR_SUCCESS ? rc : loop);
      std::unique_lock<std::mutex> lock(mu_);
      connected_ = false;
      gave_up_ = true;
      error_ = why;
      answered_.notify_all();
      if (answered_.wait_for(lock, std::chrono::duration<double>(backoff_s), [&] { return stop_; }))
        return;
      backoff_s = std::min(30.0, backoff_s * 2);
    }
  }

  // On the network thread.
  void OnConnect(mosquitto* m, int rc) {
    if (rc != 0) {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = fmt::format("the broker refused the connection: {}", mosquitto_connack_string(rc));
      gave_up_ = true;
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
    gave_up_ = true;
    answered_.notify_all();
    error_ = rc == 0 ? "disconnected" : fmt::format("connection lost ({})", Why(rc));
  }

  void OnMessage(const mosquitto_message* msg) {
    const std::string_view topic = msg->topic ? msg->topic : "";
    const std::string_view payload(static_cast<const char*>(msg->payload),
                                   msg->payload ? static_cast<size_t>(msg->payloadlen) : 0);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (retained_.Repeat(topic, payload, msg->retain)) {
        ++retained_repeats_;
        return;
      }
    }
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
      retained_.Accepted(topic, payload);
    }
  }

  const Source& src_;
  ReaderContext ctx_;
  mosquitto* mosq_ = nullptr;
  std::thread network_;               // Run()
  std::mutex mu_;                     // guards everything below
  std::condition_variable answered_;  // the broker accepted or refused a connection
  bool stop_ = false;
  bool gave_up_ = false;  // the first connection was refused or lost: do not wait for it
  std::deque<PromSample> buffer_;
  bool connected_ = false, ever_connected_ = false;
  std::string error_;
  int rejected_ = 0;
  std::vector<PromReject> rejects_;
  int64_t dropped_ = 0;
  int64_t messages_ = 0;  // since the start: a refused message's number in the log
  RetainedRepeats retained_;
  int64_t retained_repeats_ = 0;  // retained messages sent again at a resubscription, skipped
};

}  // namespace

std::unique_ptr<SourceReader> MakeMqttReader(const Source& source, const ReaderContext& context) {
  return std::make_unique<MqttReader>(source, context);
}

}  // namespace firstwall::live
