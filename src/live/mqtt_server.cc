#include "live/mqtt_server.h"

#include <mosquitto.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "core/error.h"

namespace firstwall::live {
namespace {

struct BmsPoint {
  const char* topic;  // below firstwall/<site>/bms/
  const char* metric;
};
constexpr BmsPoint kPoints[] = {
    {"chiller/power_w", "firstwall_chiller_power_watts"},
    {"pump/power_w", "firstwall_pump_power_watts"},
    {"fan/power_w", "firstwall_fan_power_watts"},
    {"plant/power_w", "firstwall_cooling_power_watts"},
    {"plant/heat_rejected_w", "firstwall_heat_rejected_watts"},
    {"coolant/supply_temperature_c", "firstwall_coolant_supply_temperature_celsius"},
    {"air/server_inlet_temperature_c", "firstwall_server_inlet_temperature_celsius"},
    {"weather/dry_bulb_c", "firstwall_outdoor_temperature_celsius"},
    {"weather/wet_bulb_c", "firstwall_outdoor_wet_bulb_temperature_celsius"},
};

constexpr int kQos = 1;
constexpr bool kRetain = true;
constexpr int kKeepaliveS = 30;

class MqttPublisher : public TelemetryServer {
 public:
  MqttPublisher(std::string host, int port, std::string site_level)
      : host_(std::move(host)), port_(port), site_(std::move(site_level)) {
    static std::once_flag once;
    std::call_once(once, [] { mosquitto_lib_init(); });
    mosq_ = mosquitto_new(nullptr, true, this);
  }
  ~MqttPublisher() override { Stop(); }

  // "" when connected, else why not.
  std::string Start() {
    if (!mosq_) return "libmosquitto could not make a client";
    mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_reconnect_delay_set(mosq_, 1, 30, true);
    mosquitto_connect_callback_set(mosq_, [](mosquitto*, void* self, int rc) {
      auto* p = static_cast<MqttPublisher*>(self);
      std::lock_guard<std::mutex> lock(p->mu_);
      p->connected_ = rc == 0;
      p->connack_ = rc;
      p->answered_.notify_all();
    });
    mosquitto_disconnect_callback_set(mosq_, [](mosquitto*, void* self, int) {
      static_cast<MqttPublisher*>(self)->connected_ = false;
    });
    const int rc = mosquitto_connect(mosq_, host_.c_str(), port_, kKeepaliveS);
    if (rc != MOSQ_ERR_SUCCESS) {
      return rc == MOSQ_ERR_ERRNO ? std::string(strerror(errno)) : mosquitto_strerror(rc);
    }
    const int loop = mosquitto_loop_start(mosq_);
    if (loop != MOSQ_ERR_SUCCESS) return mosquitto_strerror(loop);
    started_ = true;
    // The broker's answer (CONNACK), so that a refusal is an error now rather than silence later.
    std::unique_lock<std::mutex> lock(mu_);
    if (!answered_.wait_for(lock, std::chrono::seconds(10), [&] { return connack_ >= 0; })) {
      return "no answer to the connection within 10 s";
    }
    if (connack_ != 0) return mosquitto_connack_string(connack_);
    return "";
  }

  void Publish(const std::shared_ptr<const Snapshot>& snapshot) override {
    // While the connection is down the tick is not sent (nor queued: memory stays bounded however
    // long the broker is away).
    if (!connected_) return;
    for (const MqttMessage& m : BmsMessages(*snapshot, site_)) {
      mosquitto_publish(mosq_, nullptr, m.topic.c_str(), static_cast<int>(m.payload.size()),
                        m.payload.data(), kQos, kRetain);
    }
  }

  std::string Describe() const override {
    return fmt::format("mqtt://{}:{}: {} topics under firstwall/{}/bms/ each tick, QoS {}{}", host_,
                       port_, std::size(kPoints), site_, kQos, kRetain ? ", retained" : "");
  }

  void Stop() override {
    if (!mosq_) return;
    if (started_) {
      mosquitto_disconnect(mosq_);
      mosquitto_loop_stop(mosq_, true);
    }
    mosquitto_destroy(mosq_);
    mosq_ = nullptr;
  }

 private:
  std::string host_;
  int port_;
  std::string site_;
  mosquitto* mosq_ = nullptr;
  bool started_ = false;
  std::atomic<bool> connected_{false};  // set on libmosquitto's network thread
  std::mutex mu_;
  std::condition_variable answered_;
  int connack_ = -1;  // the first CONNACK's code; -1 before it
};

}  // namespace

std::string TopicLevel(const std::string& site_name) {
  std::string out;
  for (const char c : site_name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.';
    out += keep ? c : '-';
  }
  return out.empty() ? "site" : out;
}

std::vector<MqttMessage> BmsMessages(const Snapshot& snapshot, const std::string& site_level) {
  std::vector<MqttMessage> out;
  // The emulator's wall clock at the tick, as every stamped sample it serves (emulator.h).
  const int64_t t_ms = snapshot.WallMs(snapshot.t_s);
  for (const BmsPoint& p : kPoints) {
    const Family* f = snapshot.Find(p.metric);
    if (!f || f->readings.empty()) continue;
    const double scale = std::pow(10.0, f->decimals);
    const double v = std::round(f->readings.front().value * scale) / scale;
    if (!std::isfinite(v)) continue;
    out.push_back({fmt::format("firstwall/{}/bms/{}", site_level, p.topic),
                   fmt::format("{{\"value\":{},\"t_ms\":{}}}", v, t_ms)});
  }
  return out;
}

std::unique_ptr<TelemetryServer> StartMqttPublisher(const std::string& url,
                                                    const std::string& site_name,
                                                    const std::string& option) {
  const SourceLocation at{option, 0, 0};
  const std::string hint = "write mqtt://HOST[:PORT], e.g. mqtt://127.0.0.1:1883";
  const std::string scheme = "mqtt://";
  if (!url.starts_with(scheme)) {
    throw InputError(at, fmt::format("'{}' is not an mqtt:// URL", url), hint);
  }
  std::string rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  const std::string host = rest.substr(0, colon);
  int port = 1883;
  if (colon != std::string::npos) {
    const std::string p = rest.substr(colon + 1);
    const auto r = std::from_chars(p.data(), p.data() + p.size(), port);
    if (p.empty() || r.ec != std::errc() || r.ptr != p.data() + p.size() || port < 1 ||
        port > 65535) {
      throw InputError(
          at, fmt::format("'{}': port '{}' is not a whole number from 1 to 65535", url, p), hint);
    }
  }
  if (host.empty() || host.find('/') != std::string::npos) {
    throw InputError(at, fmt::format("'{}' has no host, or a path", url), hint);
  }
  auto publisher = std::make_unique<MqttPublisher>(host, port, TopicLevel(site_name));
  if (const std::string why = publisher->Start(); !why.empty()) {
    throw InputError(at,
                     fmt::format("cannot connect to the MQTT broker at {}:{}: {}", host, port, why),
                     "start one (mosquitto) or give another --mqtt");
  }
  return publisher;
}

}  // namespace firstwall::live
