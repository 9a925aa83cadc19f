#include "live/ingest.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "live/temp_path_test_util.h"

namespace firstwall::live {
namespace {

// A loopback server with one good endpoint (one malformed line among its samples), one that
// answers 500 and one whose body is over the ingest's limit.
class Peer {
 public:
  Peer() {
    server_.Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(
          "# TYPE ups_output_kw gauge\n"
          "ups_output_kw{ups=\"A\"} 1.25\n"
          "ups_output_kw{ups=\"B\"} 2\n"
          "ups_output_kw{ups=\"C\" 3\n"  // malformed: not closed
          "other_metric 7\n",
          "text/plain; version=0.0.4");
    });
    server_.Get("/down", [](const httplib::Request&, httplib::Response& res) {
      res.status = 500;
      res.set_content("no", "text/plain");
    });
    server_.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(800));
      res.set_content("late 1\n", "text/plain");
    });
    // Stamped samples: one now-ish (2023), one far past any clock (the year 160,000,000).
    server_.Get("/stamped", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(
          "meter_w{m=\"ok\"} 5 1700000000000\n"
          "meter_w{m=\"far\"} 6 5000001796141757513\n",
          "text/plain");
    });
    server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(1 << 20, '#'), "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Peer() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

// A site map of one prometheus source `name` reading the peer's `path` every second (`extra`:
// more source keys), with `binding` (a flow mapping) bound to it.
SiteMap OneSourceMap(const Peer& peer, const std::string& name, const std::string& path,
                     const std::string& binding, const std::string& extra = "") {
  return ParseSiteMap(
      fmt::format(
          "firstwall_site_map: 1\nsources:\n"
          "  - {{name: {}, kind: prometheus, url: \"http://127.0.0.1:{}{}\", interval: 1 s{}}}\n"
          "bindings:\n  - {}\n",
          name, peer.port(), path, extra, binding),
      "map.yaml");
}

// Ingest until `source` has `scrapes` scrapes in the store (or 200 polls of 50 ms), its log lines
// into `log`.
IngestStats IngestUntil(const SiteMap& map, Store& store, IngestOptions o,
                        const std::string& source, size_t scrapes,
                        std::vector<std::string>* log = nullptr) {
  if (log) o.log = [log](const std::string& line) { log->push_back(line); };
  int polls = 0;
  o.stop = [&] { return store.Scrapes(source).size() >= scrapes || ++polls > 200; };
  return Ingest(map, store, o);
}

TEST(Ingest, StoresBoundSamplesInBaseUnitsAndRecordsFailedScrapes) {
  Peer peer;
  ASSERT_GT(peer.port(), 0);
  const std::string base = "http://127.0.0.1:" + std::to_string(peer.port());
  const std::string map_text =
      "firstwall_site_map: 1\nsources:\n"
      "  - {name: ups, kind: prometheus, url: \"" +
      base +
      "/metrics\", interval: 100 ms}\n"
      "  - {name: down, kind: prometheus, url: \"" +
      base +
      "/down\", interval: 100 ms}\n"
      "  - {name: big, kind: prometheus, url: \"" +
      base +
      "/big\", interval: 100 ms}\n"
      "bindings:\n"
      "  - {source: ups, series: ups_output_kw, entity: ups, id: \"{ups}\","
      " quantity: power, unit: kW}\n";
  const SiteMap map = ParseSiteMap(map_text, "map.yaml");
  const auto dir =
      std::filesystem::temp_directory_path() / ("fw_ingest_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "i.db").string();
  std::filesystem::remove(db);
  auto store = OpenSqliteStore(db);
  IngestOptions o;
  o.for_s = 1;
  o.max_body_bytes = 1000;
  const IngestStats s = Ingest(map, *store, o);

  const auto ok = store->Scrapes("ups");
  ASSERT_GE(ok.size(), 1u);
  for (const ScrapeRecord& r : ok) {
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.samples, 3);
    EXPECT_EQ(r.rejected, 1);
  }
  for (const ScrapeRecord& r : store->Scrapes("down")) {
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error.rfind("HTTP status 500 from 127.0.0.1:", 0), 0u) << r.error;
  }
  for (const ScrapeRecord& r : store->Scrapes("big")) {
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, "body larger than 1000 bytes, refused");
  }
  EXPECT_GE(store->Scrapes("down").size(), 1u);
  EXPECT_GE(store->Scrapes("big").size(), 1u);
  EXPECT_EQ(s.rejected_lines, static_cast<int64_t>(ok.size()));
  EXPECT_EQ(s.unbound, static_cast<int64_t>(ok.size()));  // other_metric
  EXPECT_EQ(s.failed, s.scrapes - static_cast<int64_t>(ok.size()));

  const auto series = store->Series();
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].key.entity_id, "A");
  EXPECT_EQ(series[0].key.unit, "W");
  EXPECT_EQ(series[0].key.metric, "ups_output_kw{ups=\"A\"}");
  const auto a = store->Samples(series[0].id);
  ASSERT_EQ(a.size(), ok.size());
  EXPECT_EQ(a[0].value, 1250);  // 1.25 kW
  EXPECT_EQ(a[0].t_ms, ok[0].t_ms);
  EXPECT_EQ(store->Samples(series[1].id)[0].value, 2000);
}

TEST(Ingest, SeriesPerSourceAreCapped) {
  Peer peer;
  const std::string map_text =
      "firstwall_site_map: 1\nsources:\n"
      "  - {name: ups, kind: prometheus, url: \"http://127.0.0.1:" +
      std::to_string(peer.port()) +
      "/metrics\", interval: 1 s}\n"
      "bindings:\n"
      "  - {source: ups, series: ups_output_kw, entity: ups, id: \"{ups}\","
      " quantity: power, unit: kW}\n";
  const SiteMap map = ParseSiteMap(map_text, "map.yaml");
  const auto dir =
      std::filesystem::temp_directory_path() / ("fw_ingest_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "cap.db").string();
  std::filesystem::remove(db);
  auto store = OpenSqliteStore(db);
  IngestOptions o;
  o.max_series_per_source = 1;
  int polls = 0;
  o.stop = [&] { return store->Scrapes("ups").size() >= 1 || ++polls > 200; };
  const IngestStats s = Ingest(map, *store, o);
  EXPECT_EQ(s.series, 1);
  EXPECT_EQ(s.over_series_limit, s.scrapes);  // ups="B" each scrape
  EXPECT_EQ(store->Series().size(), 1u);
}

TEST(Ingest, TwoStreamsBoundToOneSeriesAreNotMixed) {
  Peer peer;
  // A fixed id binds both UPSes' streams to one entity: the second is refused, not mixed in.
  const SiteMap map =
      OneSourceMap(peer, "ups", "/metrics",
                   "{source: ups, series: ups_output_kw, entity: ups, id: all, quantity: power, "
                   "unit: kW}");
  auto store = OpenSqliteStore(TempPath("shared.db"));
  std::vector<std::string> log;
  const IngestStats s = IngestUntil(map, *store, {}, "ups", 2, &log);
  EXPECT_EQ(s.series, 1);
  EXPECT_EQ(s.shared, s.scrapes);  // ups="B" each scrape
  EXPECT_EQ(s.samples, s.scrapes);
  ASSERT_EQ(store->Series().size(), 1u);
  EXPECT_EQ(store->Samples(store->Series()[0].id).size(), static_cast<size_t>(s.scrapes));
  bool told = false;
  for (const std::string& l : log) {
    told = told || l.find(
                       "ups: ups_output_kw{ups=\"B\"} is refused: it is bound to ups 'all' "
                       "power like ups_output_kw{ups=\"A\"} (binding at map.yaml:") == 0;
  }
  EXPECT_TRUE(told);
}

// A stamp after 2200 is refused and counted (at --speed 20 it overflowed the store's
// milliseconds); one of 2023 is a backfill, kept.
TEST(Ingest, AStampOutsideTheCenturiesOfAnySiteIsRefused) {
  Peer peer;
  const SiteMap map =
      OneSourceMap(peer, "s", "/stamped",
                   "{source: s, series: meter_w, entity: meter, id: \"{m}\", quantity: power, "
                   "unit: W}");
  auto store = OpenSqliteStore(TempPath("stamped.db"));
  IngestOptions o;
  o.speed = 20;
  std::vector<std::string> log;
  const IngestStats st = IngestUntil(map, *store, o, "s", 1, &log);
  EXPECT_GE(st.scrapes, 1);
  EXPECT_EQ(st.bad_stamps, st.scrapes);
  EXPECT_EQ(st.samples, st.scrapes);
  ASSERT_FALSE(log.empty());
  EXPECT_NE(
      log[0].find("5000001796141757513 ms since the epoch: before 1970 or after 2200, refused"),
      std::string::npos)
      << log[0];
}

TEST(Ingest, ASourceSlowerThanItsTimeoutIsAFailedScrape) {
  Peer peer;
  const SiteMap map =
      OneSourceMap(peer, "slow", "/slow",
                   "{source: slow, series: late, entity: meter, id: m, quantity: power, unit: W}",
                   ", timeout: 100 ms");
  auto store = OpenSqliteStore(TempPath("slow.db"));
  const IngestStats s = IngestUntil(map, *store, {}, "slow", 1);
  const auto scrapes = store->Scrapes("slow");
  ASSERT_EQ(scrapes.size(), 1u);
  EXPECT_FALSE(scrapes[0].ok);
  EXPECT_EQ(
      scrapes[0].error.rfind(fmt::format("no answer from 127.0.0.1:{}: no full HTTP response: "
                                         "the connection closed, the reply was not HTTP, or "
                                         "nothing came within the 0.1 s timeout",
                                         peer.port()),
                             0),
      0u)
      << scrapes[0].error;
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(s.samples, 0);
}

// A store that counts the transactions ingest asks for and passes everything on.
class CountingStore : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  int flushes = 0, scrapes_since_flush = 0, most_scrapes_per_flush = 0;

  void RecordScrape(const ScrapeRecord& r) override {
    if (r.source == watched && scrapes_since_flush > 0) ++watched_after_uncommitted;
    ++scrapes_since_flush;
    inner_->RecordScrape(r);
  }
  // Scrapes of `watched` recorded while other scrapes waited uncommitted.
  std::string watched;
  int watched_after_uncommitted = 0;
  void Flush() override {
    ++flushes;
    most_scrapes_per_flush = std::max(most_scrapes_per_flush, scrapes_since_flush);
    scrapes_since_flush = 0;
    inner_->Flush();
  }
};

// Sources due together are one round, and a round is one transaction (a commit per scrape bounded
// PostgreSQL ingest at 44 k samples/s); the last round is committed when ingest ends.
TEST(Ingest, ARoundOfScrapesIsOneTransaction) {
  Peer peer;
  std::string text = "firstwall_site_map: 1\nsources:\n";
  for (int k = 0; k < 4; ++k) {
    text += fmt::format(
        "  - {{name: s{}, kind: prometheus, url: \"http://127.0.0.1:{}/metrics\", interval: "
        "500 ms}}\n",
        k, peer.port());
  }
  text += "bindings:\n";
  for (int k = 0; k < 4; ++k) {
    text += fmt::format(
        "  - {{source: s{}, series: ups_output_kw, entity: ups, id: \"s{}/{{ups}}\", quantity: "
        "power, unit: kW}}\n",
        k, k);
  }
  CountingStore store(OpenSqliteStore(TempPath("rounds.db")));
  IngestOptions o;
  o.for_s = 1.7;  // rounds at 0, 0.5, 1 and 1.5 s
  const IngestStats s = Ingest(ParseSiteMap(text, "map.yaml"), store, o);
  int64_t stored = 0;
  for (int k = 0; k < 4; ++k)
    stored += static_cast<int64_t>(store.Scrapes(fmt::format("s{}", k)).size());
  EXPECT_EQ(stored, s.scrapes);  // nothing left uncommitted at the end
  EXPECT_EQ(store.scrapes_since_flush, 0);
  EXPECT_GE(s.scrapes, 16);
  EXPECT_EQ(store.most_scrapes_per_flush, 4);  // the four sources of a round together
  // One commit for the sources' rows, then one per round (a slow round may split once).
  EXPECT_LE(store.flushes, 1 + static_cast<int>(s.scrapes / 4) + 2) << s.scrapes;
  int64_t samples = 0;
  for (const SeriesInfo& series : store.Series())
    samples += static_cast<int64_t>(store.Samples(series.id).size());
  EXPECT_EQ(samples, s.samples);
}

// A source whose read was slow (or failed) may hang up to its timeout next time: the rows read
// before it in the round are committed first, so a stuck read holds none of them (nor, in SQLite
// without commit_each_scrape, the write lock `firstwall quality` waits for).
TEST(Ingest, ARoundIsCommittedBeforeASlowRead) {
  Peer peer;
  const std::string base = fmt::format("http://127.0.0.1:{}", peer.port());
  const SiteMap map = ParseSiteMap(
      fmt::format("firstwall_site_map: 1\nsources:\n"
                  "  - {{name: fast, kind: prometheus, url: \"{}/metrics\", interval: 1 s}}\n"
                  "  - {{name: slow, kind: prometheus, url: \"{}/slow\", interval: 1 s, timeout: "
                  "2 s}}\n"
                  "bindings:\n  - {{source: fast, series: ups_output_kw, entity: ups, id: "
                  "\"{{ups}}\", quantity: power, unit: kW}}\n",
                  base, base),
      "map.yaml");
  CountingStore store(OpenSqliteStore(TempPath("slowround.db")));
  store.watched = "slow";
  IngestOptions o;
  o.for_s = 2.5;
  const IngestStats s = Ingest(map, store, o);
  EXPECT_GE(store.Scrapes("slow").size(), 2u);
  EXPECT_GE(store.Scrapes("fast").size(), 2u);
  // Only its first read, before it was known slow, came after the round's uncommitted rows.
  EXPECT_EQ(store.watched_after_uncommitted, 1);
  EXPECT_EQ(static_cast<int64_t>(store.Scrapes("slow").size() + store.Scrapes("fast").size()),
            s.scrapes);
}

// A push source's samples since its last read were acknowledged to the sender (204): the end of
// ingest reads them once more instead of dropping them.
TEST(Ingest, APushSourcesLastSamplesAreStoredAtTheEnd) {
  const int port = FreePort();
  const SiteMap map = ParseSiteMap(
      fmt::format("firstwall_site_map: 1\nsources:\n"
                  "  - {{name: rw, kind: remote_write, url: \"http://127.0.0.1:{}/api/v1/write\", "
                  "interval: 10 s}}\n"
                  "bindings:\n  - {{source: rw, series: DCGM_FI_DEV_POWER_USAGE, entity: gpu, id: "
                  "g, quantity: power, unit: W}}\n",
                  port),
      "map.yaml");
  auto store = OpenSqliteStore(TempPath("push.db"));
  std::ifstream in("src/live/testdata/three-samples.rw", std::ios::binary);
  const std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::thread sender([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    httplib::Client client("127.0.0.1", port);
    const auto res = client.Post("/api/v1/write", {{"Content-Encoding", "snappy"}}, body,
                                 "application/x-protobuf");
    EXPECT_TRUE(res && res->status == 204);
  });
  IngestOptions o;
  o.for_s = 1.5;  // the source's next read would be at 10 s
  const IngestStats s = Ingest(map, *store, o);
  sender.join();
  int received = 0;
  for (const ScrapeRecord& r : store->Scrapes("rw")) received += r.samples;
  EXPECT_EQ(received, 3);
  EXPECT_EQ(s.samples + s.unbound, 3);
}

}  // namespace
}  // namespace firstwall::live
