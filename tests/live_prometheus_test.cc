// The emulator against the real Prometheus server and its promtool (Debian `prometheus`, installed
// and started on loopback by .ci/run; labelled `live`, skipped when absent): promtool reads the
// exposition without a format error, and a Prometheus server scraping the emulator holds every
// GPU's power. No timing is asserted; polls end after generous timeouts so a fault cannot hang.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/cli_support.h"

namespace firstwall::testing_cli {
namespace {

std::string Which(const std::string& program) {
  const Result r = [&] {
    Result out;
    FILE* p = popen(("command -v " + program + " 2>/dev/null").c_str(), "r");
    char buf[512];
    while (fgets(buf, sizeof buf, p)) out.out += buf;
    out.status = pclose(p);
    return out;
  }();
  std::string path = r.out;
  while (!path.empty() && (path.back() == '\n' || path.back() == ' ')) path.pop_back();
  return path;
}

// A port nothing listens on at this moment (the kernel's pick for port 0).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// Starts `command` in the background with its output in `log`; returns its pid.
int Spawn(const std::string& command, const fs::path& log) {
  FILE* p = popen((command + " >" + log.string() + " 2>&1 & echo $!").c_str(), "r");
  char buf[64] = {};
  const bool got = fgets(buf, sizeof buf, p) != nullptr;
  pclose(p);
  return got ? std::atoi(buf) : -1;
}

// Polls `ready` every 200 ms for at most `limit`.
template <class F>
bool WaitFor(F ready, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

struct Emulator {
  int pid = -1, port = 0;
  explicit Emulator(const fs::path& dir) {
    const fs::path log = dir / "emulate.log";
    pid = Spawn(std::string(FIRSTWALL_BIN) +
                    " emulate tests/inputs/live-emulate.yaml --speed 2 --listen 127.0.0.1:0",
                log);
    WaitFor(
        [&] {
          const std::string out = Slurp(log);
          const size_t at = out.find("http://127.0.0.1:");
          if (at == std::string::npos) return false;
          port = std::atoi(out.c_str() + at + 17);
          return port > 0;
        },
        std::chrono::seconds(60));
  }
  ~Emulator() {
    if (pid > 0) kill(pid, SIGTERM);
  }
};

TEST(LivePrometheus, PromtoolReadsTheExposition) {
  const std::string promtool = Which("promtool");
  if (promtool.empty()) GTEST_SKIP() << "promtool not installed (Debian package prometheus)";
  const fs::path dir = Fresh("live_promtool");
  fs::create_directories(dir);
  Emulator emu(dir);
  ASSERT_GT(emu.port, 0) << Slurp(dir / "emulate.log");
  httplib::Client client("127.0.0.1", emu.port);
  std::string body;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto res = client.Get("/metrics");
        if (!res || res->body.find("DCGM_FI_DEV_POWER_USAGE{") == std::string::npos) return false;
        body = res->body;
        return true;
      },
      std::chrono::seconds(60)));
  std::ofstream(dir / "metrics.txt") << body;
  const std::string cmd = promtool + " check metrics < " + (dir / "metrics.txt").string() + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  // Status 1 is a format error; 3 only lint findings, which dcgm-exporter's own names draw
  // (camelCase labels UUID and modelName, a counter without _total), as they would from it.
  EXPECT_NE(WEXITSTATUS(st), 1) << out;
  EXPECT_EQ(out.find("error while linting"), std::string::npos) << out;
  EXPECT_EQ(out.find("firstwall_"), std::string::npos) << "our own names draw no finding:\n" << out;
}

TEST(LivePrometheus, APrometheusServerScrapesTheEmulator) {
  const std::string prometheus = Which("prometheus");
  if (prometheus.empty()) GTEST_SKIP() << "prometheus not installed (Debian package prometheus)";
  const fs::path dir = Fresh("live_prometheus");
  fs::create_directories(dir / "data");
  Emulator emu(dir);
  ASSERT_GT(emu.port, 0) << Slurp(dir / "emulate.log");
  std::ofstream(dir / "prometheus.yml") << "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
                                           "scrape_configs:\n"
                                           "  - job_name: emulator\n"
                                           "    static_configs: [{targets: ['127.0.0.1:"
                                        << emu.port << "']}]\n";
  const int port = FreePort();
  const int pid = Spawn(prometheus + " --config.file=" + (dir / "prometheus.yml").string() +
                            " --storage.tsdb.path=" + (dir / "data").string() +
                            " --web.listen-address=127.0.0.1:" + std::to_string(port),
                        dir / "prometheus.log");
  ASSERT_GT(pid, 0);
  httplib::Client client("127.0.0.1", port);
  nlohmann::json result;
  const bool got = WaitFor(
      [&] {
        auto res = client.Get("/api/v1/query?query=DCGM_FI_DEV_POWER_USAGE");
        if (!res || res->status != 200) return false;
        const auto j = nlohmann::json::parse(res->body, nullptr, false);
        if (j.is_discarded() || j["status"] != "success") return false;
        result = j["data"]["result"];
        return result.size() == 16;
      },
      std::chrono::seconds(90));
  kill(pid, SIGTERM);
  ASSERT_TRUE(got) << result.dump() << "\n" << Slurp(dir / "prometheus.log");
  // Prometheus kept dcgm-exporter's labels as written.
  const auto& m = result[0]["metric"];
  EXPECT_TRUE(m.contains("gpu") && m.contains("UUID") && m.contains("Hostname") &&
              m.contains("modelName"))
      << m.dump();
  EXPECT_GT(std::stod(result[0]["value"][1].get<std::string>()), 0.0);
}

}  // namespace
}  // namespace firstwall::testing_cli
