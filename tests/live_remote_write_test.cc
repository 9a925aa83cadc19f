// Prometheus remote-write against the real Prometheus server (Debian `prometheus`; ctest label
// `live`, skipped when absent): a Prometheus scrapes `firstwall emulate` and remote-writes into
// `firstwall ingest` (kind remote_write), and every GPU power sample ingest stored is one the
// server holds, with the same timestamp and value. No timing is asserted; waits have limits.
#include <signal.h>

#include <cmath>
#include <map>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "live/gpu_rollup.h"
#include "live/store.h"
#include "tests/cli_support.h"
#include "tests/live_support.h"

namespace firstwall::testing_cli {
namespace {

struct Process {
  int pid = -1;
  ~Process() {
    if (pid > 0) kill(pid, SIGTERM);
  }
};

TEST(LiveRemoteWrite, PrometheusRemoteWritesIntoIngest) {
  const std::string prometheus = Which("prometheus");
  if (prometheus.empty()) GTEST_SKIP() << "prometheus not installed (Debian package prometheus)";
  const fs::path dir = Fresh("live_remote_write");
  fs::create_directories(dir / "data");

  Process emu;
  emu.pid = Spawn(std::string(FIRSTWALL_BIN) +
                      " emulate tests/inputs/live-emulate.yaml --speed 2 --listen 127.0.0.1:0",
                  dir / "emulate.log");
  int emu_port = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        const std::string out = Slurp(dir / "emulate.log");
        const size_t at = out.find("http://127.0.0.1:");
        if (at != std::string::npos) emu_port = std::atoi(out.c_str() + at + 17);
        return emu_port > 0;
      },
      std::chrono::seconds(60)))
      << Slurp(dir / "emulate.log");

  const int rw_port = FreePort();
  std::ofstream(dir / "map.yaml")
      << "firstwall_site_map: 1\n"
         "sources:\n"
         "  - {name: prom, kind: remote_write, url: 'http://127.0.0.1:"
      << rw_port
      << "/api/v1/write', interval: 1 s}\n"
         "bindings:\n"
         "  - {source: prom, series: DCGM_FI_DEV_POWER_USAGE, entity: gpu,\n"
         "     id: '{Hostname}/gpu{gpu}', quantity: power, unit: W}\n";
  Process ingest;
  ingest.pid = Spawn(std::string(FIRSTWALL_BIN) + " ingest " + (dir / "map.yaml").string() +
                         " --db " + (dir / "rw.db").string() + " --for 25s",
                     dir / "ingest.log");

  // Short batches and backoffs so that samples arrive within a second or two.
  std::ofstream(dir / "prometheus.yml")
      << "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
         "scrape_configs:\n"
         "  - job_name: emulator\n"
         "    static_configs: [{targets: ['127.0.0.1:"
      << emu_port
      << "']}]\n"
         "remote_write:\n"
         "  - url: http://127.0.0.1:"
      << rw_port
      << "/api/v1/write\n"
         "    queue_config: {batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s}\n"
         "    metadata_config: {send: false}\n";
  const int prom_port = FreePort();
  Process server;
  server.pid = Spawn(prometheus + " --config.file=" + (dir / "prometheus.yml").string() +
                         " --storage.tsdb.path=" + (dir / "data").string() +
                         " --web.listen-address=127.0.0.1:" + std::to_string(prom_port),
                     dir / "prometheus.log");
  ASSERT_GT(server.pid, 0);

  // Ingest ends by itself after 25 s and prints its counts.
  ASSERT_TRUE(
      WaitFor([&] { return Slurp(dir / "ingest.log").find(" scrapes (") != std::string::npos; },
              std::chrono::seconds(120)))
      << Slurp(dir / "ingest.log") << Slurp(dir / "prometheus.log");
  const std::string summary = Slurp(dir / "ingest.log");
  EXPECT_NE(summary.find(" 0 malformed lines"), std::string::npos) << summary;

  auto store = live::OpenSqliteStore((dir / "rw.db").string());
  std::vector<live::SeriesInfo> series;
  for (const live::SeriesInfo& s : store->Series()) {
    // Ingest's GPU rollups (gpu_rollup.h) are tested on their own.
    if (s.key.source != live::kRollupSource) series.push_back(s);
  }
  ASSERT_EQ(series.size(), 16u) << summary << Slurp(dir / "prometheus.log");

  httplib::Client client("127.0.0.1", prom_port);
  size_t compared = 0;
  for (const live::SeriesInfo& s : series) {
    const std::vector<live::SamplePoint> stored = store->Samples(s.id);
    ASSERT_FALSE(stored.empty()) << s.key.metric;
    // The metric as stored names its labels (job and instance from Prometheus among them).
    const std::string query = s.key.metric + "[10m]";
    auto res = client.Get("/api/v1/query", httplib::Params{{"query", query}}, httplib::Headers{});
    ASSERT_TRUE(res && res->status == 200) << query;
    const auto j = nlohmann::json::parse(res->body);
    ASSERT_EQ(j["data"]["result"].size(), 1u) << query << "\n" << res->body;
    std::map<int64_t, double> held;
    for (const auto& v : j["data"]["result"][0]["values"]) {
      held[std::llround(v[0].get<double>() * 1000)] = std::stod(v[1].get<std::string>());
    }
    for (const live::SamplePoint& p : stored) {
      auto it = held.find(p.t_ms);
      ASSERT_NE(it, held.end()) << s.key.metric << " at " << p.t_ms;
      EXPECT_EQ(it->second, p.value) << s.key.metric << " at " << p.t_ms;
      // One GPU of the emulated H100s, between idle and its limit.
      EXPECT_GT(p.value, 50.0);
      EXPECT_LT(p.value, 700.0);
      ++compared;
    }
  }
  EXPECT_GE(compared, 16u * 3) << summary;
}

}  // namespace
}  // namespace firstwall::testing_cli
