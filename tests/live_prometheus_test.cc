// The emulator against the real Prometheus server and its promtool (Debian `prometheus`, installed
// and started on loopback by .ci/run; labelled `live`, skipped when absent): promtool reads the
// exposition without a format error, and a Prometheus server scraping the emulator holds every
// GPU's power. No timing is asserted; polls end after generous timeouts so a fault cannot hang.
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/live_support.h"

namespace firstwall::testing_cli {
namespace {

TEST(LivePrometheus, PromtoolReadsTheExposition) {
  const std::string promtool = Which("promtool");
  if (promtool.empty()) GTEST_SKIP() << "promtool not installed (Debian package prometheus)";
  const fs::path dir = Fresh("live_promtool");
  fs::create_directories(dir);
  Emulator emu(dir, 2);
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
  Emulator emu(dir, 2);
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
