#include "live/snmp_server.h"

// net-snmp's headers in this order: the configuration first, the agent's last.
// clang-format off
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
// clang-format on

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <future>
#include <iostream>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "core/error.h"
#include "live/snmp_map.h"

namespace firstwall::live {
namespace {

using Oid = std::vector<uint32_t>;

template <size_t N>
Oid Under(const uint32_t (&root)[N], std::initializer_list<uint32_t> rest) {
  Oid o(root, root + N);
  o.insert(o.end(), rest.begin(), rest.end());
  return o;
}

// The value of `metric{label="value"}` (no label: the family's first reading), or nullptr.
const double* Find(const Snapshot& s, std::string_view metric, std::string_view label = {},
                   std::string_view value = {}) {
  const Family* f = s.Find(metric);
  if (!f) return nullptr;
  for (const Reading& r : f->readings) {
    if (label.empty()) return &r.value;
    for (const Label& l : r.labels) {
      if (l.name == label && l.value == value) return &r.value;
    }
  }
  return nullptr;
}

bool HoldsUps(const std::string& name) {
  std::string up;
  for (char c : name) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return up.find("UPS") != std::string::npos;
}

// Serving as a subagent: one per process (net-snmp's agent state is global).
std::atomic<bool> g_started{false};

class SnmpAgentx : public TelemetryServer {
 public:
  explicit SnmpAgentx(std::string socket) : socket_(std::move(socket)) {
    std::promise<void> ready;
    auto started = ready.get_future();
    thread_ = std::thread([this, &ready] { Run(ready); });
    started.get();
  }
  ~SnmpAgentx() override { Stop(); }

  void Publish(const std::shared_ptr<const Snapshot>& snap) override {
    if (const Family* f = snap->Find("firstwall_power_stage_input_watts");
        f && f->readings.size() > stages_.size()) {
      stages_.clear();
      for (const Reading& r : f->readings) {
        for (const Label& l : r.labels) {
          if (l.name == "stage") stages_.push_back(l.value);
        }
      }
    }
    auto table = std::make_shared<const SnmpTable>(SnmpObjects(*snap, stages_));
    std::lock_guard<std::mutex> lock(mu_);
    table_ = std::move(table);
  }

  std::string Describe() const override {
    return fmt::format(
        "snmp as an AgentX subagent of the snmpd at {} (UPS-MIB {} and ours under {})", socket_,
        OidText({std::begin(kUpsMibRoot), std::end(kUpsMibRoot)}),
        OidText({std::begin(kSnmpRoot), std::end(kSnmpRoot)}));
  }

  void Stop() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  static int Log(int, int, void* server_arg, void* client_arg) {
    (void)client_arg;
    const auto* m = static_cast<const snmp_log_message*>(server_arg);
    std::string text = m->msg ? m->msg : "";
    while (!text.empty() && text.back() == '\n') text.pop_back();
    if (!text.empty()) std::cerr << "snmp: " << text << std::endl;
    return SNMPERR_SUCCESS;
  }

  static void Tick(unsigned int, void*) {}

  static int Handle(netsnmp_mib_handler* handler, netsnmp_handler_registration* reg,
                    netsnmp_agent_request_info* info, netsnmp_request_info* requests) {
    auto* self = static_cast<SnmpAgentx*>(handler->myvoid);
    std::shared_ptr<const SnmpTable> table;
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      table = self->table_;
    }
    const Oid root(reg->rootoid, reg->rootoid + reg->rootoid_len);
    for (netsnmp_request_info* r = requests; r; r = r->next) {
      if (r->processed) continue;
      const Oid asked(r->requestvb->name, r->requestvb->name + r->requestvb->name_length);
      SnmpTable::const_iterator it;
      if (info->mode == MODE_GET) {
        it = table ? table->find(asked) : SnmpTable::const_iterator();
        if (!table || it == table->end()) {
          netsnmp_set_request_error(info, r, SNMP_NOSUCHINSTANCE);
          continue;
        }
      } else if (info->mode == MODE_GETNEXT) {
        if (!table) continue;
        it = table->upper_bound(asked);
        if (it != table->end() && it->first < root) it = table->lower_bound(root);
        if (it == table->end() || it->first.size() < root.size() ||
            !std::equal(root.begin(), root.end(), it->first.begin())) {
          continue;  // nothing further here: the master asks the next subtree
        }
        const std::vector<oid> name(it->first.begin(), it->first.end());
        snmp_set_var_objid(r->requestvb, name.data(), name.size());
      } else {
        netsnmp_set_request_error(info, r, SNMP_ERR_NOTWRITABLE);
        continue;
      }
      Set(r->requestvb, it->second);
    }
    return SNMP_ERR_NOERROR;
  }

  static void Set(netsnmp_variable_list* vb, const SnmpValue& v) {
    switch (v.type) {
      case SnmpValue::Type::kInteger: {
        const long n = static_cast<long>(v.number);
        snmp_set_var_typed_value(vb, ASN_INTEGER, &n, sizeof n);
        break;
      }
      case SnmpValue::Type::kGauge32: {
        const u_long n = static_cast<u_long>(v.number);
        snmp_set_var_typed_value(vb, ASN_GAUGE, &n, sizeof n);
        break;
      }
      case SnmpValue::Type::kCounter64: {
        const auto u = static_cast<uint64_t>(v.number);
        counter64 c{};
        c.high = static_cast<u_long>(u >> 32);
        c.low = static_cast<u_long>(u & 0xffffffffu);
        snmp_set_var_typed_value(vb, ASN_COUNTER64, &c, sizeof c);
        break;
      }
      case SnmpValue::Type::kOctetString:
        snmp_set_var_typed_value(vb, ASN_OCTET_STR, v.text.data(), v.text.size());
        break;
    }
  }

  void Register(const char* name, const Oid& root) {
    const std::vector<oid> o(root.begin(), root.end());
    netsnmp_handler_registration* reg = netsnmp_create_handler_registration(
        name, &SnmpAgentx::Handle, o.data(), o.size(), HANDLER_CAN_RONLY);
    reg->handler->myvoid = this;
    if (netsnmp_register_handler(reg) != MIB_REGISTERED_OK) {
      std::cerr << fmt::format("snmp: could not register {}\n", OidText(root));
    }
  }

  void Run(std::promise<void>& ready) {
    // No client argument: snmp_shutdown() free()s the ones it holds.
    snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, &SnmpAgentx::Log, nullptr);
    netsnmp_register_loghandler(NETSNMP_LOGHANDLER_CALLBACK, LOG_WARNING);
    netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
    netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET, socket_.c_str());
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    // No MIB modules (the OIDs are numeric), unless the user's MIBS says otherwise.
    setenv("MIBS", "", 0);
    init_agent("firstwall-emulate");
    // After init_agent, which sets the default (15 s): while the master is away, try every second.
    netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL, 1);
    Register("firstwall-ups-mib", {std::begin(kUpsMibRoot), std::end(kUpsMibRoot)});
    Register("firstwall-playpen", {std::begin(kSnmpRoot), std::end(kSnmpRoot)});
    init_snmp("firstwall-emulate");
    // The first failed connection was told; the retries every second are not.
    netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_NO_CONNECTION_WARNINGS, 1);
    // agent_check_and_process(1) waits for a packet or the next alarm: this one, every 100 ms,
    // lets the loop hear Stop().
    snmp_alarm_register_hr({0, 100000}, SA_REPEAT, &SnmpAgentx::Tick, nullptr);
    ready.set_value();
    while (!stop_) agent_check_and_process(1);
    snmp_shutdown("firstwall-emulate");
  }

  std::string socket_;
  std::vector<std::string> stages_;  // Publish()'s thread only
  std::mutex mu_;
  std::shared_ptr<const SnmpTable> table_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

SnmpTable SnmpObjects(const Snapshot& s, const std::vector<std::string>& stages) {
  SnmpTable t;
  using T = SnmpValue::Type;
  auto whole = [](double v) { return static_cast<int64_t>(std::llround(std::max(0.0, v))); };
  auto put = [&](Oid oid, T type, const double* v, double unit = 1) {
    if (v && std::isfinite(*v) && *v / unit < 4e18)
      t[std::move(oid)] = {type, whole(*v / unit), ""};
  };
  auto text = [&](Oid oid, std::string value) {
    t[std::move(oid)] = {T::kOctetString, 0, std::move(value)};
  };
  const double t_ms = s.t_s * 1000;
  put(Under(kSnmpRoot, {1, 1, 0}), T::kCounter64, &t_ms);
  put(Under(kSnmpRoot, {1, 2, 0}), T::kGauge32, Find(s, "firstwall_facility_power_watts"));
  put(Under(kSnmpRoot, {1, 3, 0}), T::kCounter64,
      Find(s, "firstwall_facility_energy_joules_total"));
  const double* it = Find(s, "firstwall_it_input_power_watts");
  put(Under(kSnmpRoot, {1, 4, 0}), T::kGauge32, it);
  if (const double* pue = Find(s, "firstwall_pue"); pue && std::isfinite(*pue)) {
    text(Under(kSnmpRoot, {1, 5, 0}), fmt::format("{:.3f}", *pue));
  }
  for (size_t i = 0; i < stages.size(); ++i) {
    const auto n = static_cast<uint32_t>(i + 1);
    text(Under(kSnmpRoot, {2, 1, 1, n}), stages[i]);
    put(Under(kSnmpRoot, {2, 1, 2, n}), T::kGauge32,
        Find(s, "firstwall_power_stage_input_watts", "stage", stages[i]));
  }
  if (const Family* nodes = s.Find("firstwall_node_power_watts")) {
    for (const Reading& r : nodes->readings) {
      for (const Label& l : r.labels) {
        // Hostname node<k>: row k + 1.
        if (l.name != "Hostname" || !l.value.starts_with("node")) continue;
        const std::string k = l.value.substr(4);
        if (k.empty() || k.size() > 9 || k.find_first_not_of("0123456789") != std::string::npos) {
          continue;
        }
        const auto n = static_cast<uint32_t>(std::stoul(k) + 1);
        text(Under(kSnmpRoot, {3, 1, 1, n}), l.value);
        put(Under(kSnmpRoot, {3, 1, 2, n}), T::kGauge32, &r.value, 0.1);
      }
    }
  }
  const auto ups = std::find_if(stages.begin(), stages.end(), HoldsUps);
  if (ups != stages.end()) {
    const double one = 1;
    put(Under(kUpsMibRoot, {1, 3, 2, 0}), T::kInteger, &one);
    put(Under(kUpsMibRoot, {1, 3, 3, 1, 5, 1}), T::kInteger,
        Find(s, "firstwall_power_stage_input_watts", "stage", *ups));
    put(Under(kUpsMibRoot, {1, 4, 3, 0}), T::kInteger, &one);
    put(Under(kUpsMibRoot, {1, 4, 4, 1, 4, 1}), T::kInteger,
        ups == stages.begin() ? it
                              : Find(s, "firstwall_power_stage_input_watts", "stage", *(ups - 1)));
  }
  // Gauge32 and INTEGER hold 32 bits: a larger value is served at the type's maximum.
  for (auto& [oid, v] : t) {
    if (v.type == T::kGauge32) v.number = std::min<int64_t>(v.number, 4294967295);
    if (v.type == T::kInteger) v.number = std::min<int64_t>(v.number, 2147483647);
  }
  return t;
}

std::unique_ptr<TelemetryServer> StartSnmpAgentx(const std::string& socket) {
  if (g_started.exchange(true)) {
    throw InputError({"--snmp-agentx", 0, 0}, "one SNMP subagent per process");
  }
  return std::make_unique<SnmpAgentx>(socket);
}

}  // namespace firstwall::live
