// The emulator's BMC (redfish.h): Redfish documents rendered from the latest snapshot.
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "core/error.h"
#include "live/http_server.h"
#include "live/listen_address.h"
#include "live/redfish.h"

namespace firstwall::live {
namespace {

using nlohmann::json;

constexpr const char* kRoot = "/redfish/v1";

json Link(const std::string& path) { return json{{"@odata.id", path}}; }

// A reading as Redfish writes it: a number, or null when there is none.
json Number(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? json(std::round(*v * 1000) / 1000) : json(nullptr);
}

std::optional<double> Meter(const Snapshot* snap, std::string_view metric) {
  if (!snap) return std::nullopt;
  const Family* f = snap->Find(metric);
  if (!f || f->readings.empty()) return std::nullopt;
  return f->readings[0].value;
}

std::optional<double> NodePower(const Snapshot* snap, const std::string& node) {
  if (!snap) return std::nullopt;
  const Family* f = snap->Find("firstwall_node_power_watts");
  if (!f) return std::nullopt;
  for (const Reading& r : f->readings) {
    for (const Label& l : r.labels) {
      if (l.name == "Hostname" && l.value == node) return r.value;
    }
  }
  return std::nullopt;
}

json Status() { return json{{"State", "Enabled"}, {"Health", "OK"}}; }

class RedfishServer : public TelemetryServer {
 public:
  RedfishServer(const std::string& host, int port, int nodes, const std::string& option)
      : host_(host), nodes_(nodes) {
    server_.Get(R"(/redfish/v1.*)", [this](const httplib::Request& req, httplib::Response& res) {
      std::shared_ptr<const Snapshot> snap;
      {
        std::lock_guard<std::mutex> lock(mu_);
        snap = snapshot_;
      }
      int status = 200;
      const json doc = RedfishDocument(snap.get(), nodes_, req.path, status);
      res.status = status;
      res.set_header("OData-Version", "4.0");
      res.set_content(doc.dump(), "application/json; charset=utf-8");
    });
    SetUpHttpServer(server_);
    port_ = BindHttpServer(server_, host, port, option, "");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 5000 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~RedfishServer() override { Stop(); }

  void Publish(const std::shared_ptr<const Snapshot>& snapshot) override {
    std::lock_guard<std::mutex> lock(mu_);
    snapshot_ = snapshot;
  }
  std::string Describe() const override {
    return fmt::format("redfish http://{}{} ({} chassis with Power and Thermal)",
                       HostPort(host_, port_), kRoot, nodes_);
  }
  void Stop() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::string host_;
  int nodes_ = 0, port_ = 0;
  httplib::Server server_;
  std::thread thread_;
  std::mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_;
};

}  // namespace

json RedfishDocument(const Snapshot* snap, int nodes, const std::string& path_in, int& status) {
  status = 200;
  std::string path = path_in;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const std::string chassis = fmt::format("{}/Chassis", kRoot);
  if (path == kRoot) {
    return {{"@odata.id", kRoot},        {"@odata.type", "#ServiceRoot.v1_5_0.ServiceRoot"},
            {"Id", "RootService"},       {"Name", "firstwall emulate"},
            {"RedfishVersion", "1.6.0"}, {"Chassis", Link(chassis)}};
  }
  if (path == chassis) {
    json members = json::array();
    for (int n = 0; n < nodes; ++n) members.push_back(Link(fmt::format("{}/node{}", chassis, n)));
    return {{"@odata.id", chassis},
            {"@odata.type", "#ChassisCollection.ChassisCollection"},
            {"Name", "Chassis Collection"},
            {"Members@odata.count", nodes},
            {"Members", members}};
  }
  // /redfish/v1/Chassis/nodeN[/Power|/Thermal]
  if (path.starts_with(chassis + "/node")) {
    const std::string rest = path.substr(chassis.size() + 1);
    const size_t slash = rest.find('/');
    const std::string id = rest.substr(0, slash);
    const std::string sub = slash == std::string::npos ? "" : rest.substr(slash);
    const std::string digits = id.substr(4);
    int n = -1;
    if (!digits.empty() && digits.size() <= 6 &&
        digits.find_first_not_of("0123456789") == std::string::npos) {
      n = std::stoi(digits);
    }
    if (n >= 0 && n < nodes && fmt::format("node{}", n) == id) {
      const std::string self = fmt::format("{}/{}", chassis, id);
      if (sub.empty()) {
        return {{"@odata.id", self},
                {"@odata.type", "#Chassis.v1_10_0.Chassis"},
                {"Id", id},
                {"Name", fmt::format("Node {}", n)},
                {"ChassisType", "RackMount"},
                {"Status", Status()},
                {"Power", Link(self + "/Power")},
                {"Thermal", Link(self + "/Thermal")}};
      }
      if (sub == "/Power") {
        return {{"@odata.id", self + "/Power"},
                {"@odata.type", "#Power.v1_5_0.Power"},
                {"Id", "Power"},
                {"Name", "Power"},
                {"PowerControl", json::array({{{"@odata.id", self + "/Power#/PowerControl/0"},
                                               {"MemberId", "0"},
                                               {"Name", "Node Power"},
                                               {"PowerConsumedWatts", Number(NodePower(snap, id))},
                                               {"Status", Status()}}})}};
      }
      if (sub == "/Thermal") {
        auto sensor = [&](int i, const char* name, const char* context, const char* metric) {
          return json{{"@odata.id", fmt::format("{}/Thermal#/Temperatures/{}", self, i)},
                      {"MemberId", std::to_string(i)},
                      {"Name", name},
                      {"PhysicalContext", context},
                      {"ReadingCelsius", Number(Meter(snap, metric))},
                      {"Status", Status()}};
        };
        return {
            {"@odata.id", self + "/Thermal"},
            {"@odata.type", "#Thermal.v1_5_0.Thermal"},
            {"Id", "Thermal"},
            {"Name", "Thermal"},
            {"Temperatures", json::array({sensor(0, "Coolant Supply", "LiquidInlet",
                                                 "firstwall_coolant_supply_temperature_celsius"),
                                          sensor(1, "Server Inlet", "Intake",
                                                 "firstwall_server_inlet_temperature_celsius")})}};
      }
    }
  }
  status = 404;
  return {{"error",
           {{"code", "Base.1.8.ResourceMissingAtURI"},
            {"message", fmt::format("firstwall emulate serves nothing at {}", path_in)}}}};
}

std::unique_ptr<TelemetryServer> StartRedfishServer(const std::string& listen, int nodes,
                                                    const std::string& option) {
  const ListenAddress a = ParseListenAddress(listen, option, "127.0.0.1:8000");
  return std::make_unique<RedfishServer>(a.host, a.port, nodes, option);
}

}  // namespace firstwall::live
