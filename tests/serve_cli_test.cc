// `firstwall serve` through the CLI and over HTTP, on a store an emulator and ingest filled: bad
// options exit 2; log-in, roles, the CSRF token and the Origin check; a viewer's approval is
// refused and audited, an approver's goes through; the telemetry, quality, audit and OpenAPI
// answers; /metrics read by promtool when Debian's prometheus is installed; log-out; SIGTERM ends
// it. The browser's side is tests/browser/serve_browser.mjs.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/cli_support.h"
#include "tests/live_support.h"

namespace firstwall::testing_cli {
namespace {

using nlohmann::json;

// A store with 20 s of the emulated hall's telemetry, four users (ada admin, ana approver, vic
// viewer, otto operator) and otto's power-cap plan 1.
std::string FilledStore(const fs::path& dir) {
  const std::string store = (dir / "serve.db").string();
  {
    Emulator emu(dir, 20);
    EXPECT_GT(emu.port, 0) << Slurp(dir / "emulate.log");
    std::ofstream(dir / "map.yaml")
        << ReplaceOnce(Slurp("tests/inputs/live-site-map.yaml"), "127.0.0.1:9400",
                       "127.0.0.1:" + std::to_string(emu.port));
    const Result ingest = Firstwall("ingest " + (dir / "map.yaml").string() + " --db " + store +
                                    " --for 20s --speed 20 --quiet");
    EXPECT_EQ(ingest.status, 0) << ingest.out;
  }
  EXPECT_EQ(Shell(fmt::format("FIRSTWALL_NEW_PASSWORD=adminpass1 {} ops user add --store {} "
                              "--name ada --role admin",
                              FIRSTWALL_BIN, store))
                .status,
            0);
  for (const auto& [name, role] :
       {std::pair{"ana", "approver"}, std::pair{"vic", "viewer"}, std::pair{"otto", "operator"}}) {
    const Result r = Shell(fmt::format(
        "FIRSTWALL_PASSWORD=adminpass1 FIRSTWALL_NEW_PASSWORD={0}pass1 {1} ops user add --store "
        "{2} --user ada --name {0} --role {3}",
        name, FIRSTWALL_BIN, store, role));
    EXPECT_EQ(r.status, 0) << r.out;
  }
  const Result p = Shell(fmt::format(
      "FIRSTWALL_PASSWORD=ottopass1 {} ops plan propose --store {} --user otto --class power_cap "
      "--target gpu/node0/gpu0 --value '600 W' --reason 'forecast peak' --effect '-0.1 kW' "
      "--uncertainty '0.05 kW' --expires 2h",
      FIRSTWALL_BIN, store));
  EXPECT_EQ(p.status, 0) << p.out;
  return store;
}

// `firstwall serve` on a free port, stopped with SIGTERM when destroyed.
struct Server {
  Process process;
  int port = 0;
  Server(const std::string& store, const fs::path& log, const std::string& more = "") {
    process.pid = Spawn(
        std::string(FIRSTWALL_BIN) + " serve --store " + store + " --listen 127.0.0.1:0 " + more,
        log);
    WaitFor(
        [&] {
          const std::string out = Slurp(log);
          const size_t at = out.find("http://127.0.0.1:");
          if (at != std::string::npos) port = std::atoi(out.c_str() + at + 17);
          return port > 0;
        },
        std::chrono::seconds(30));
  }
};

// A browser's view: its own cookie and CSRF token.
struct Browser {
  httplib::Client http;
  std::string cookie, csrf;
  explicit Browser(int port) : http("127.0.0.1", port) { http.set_read_timeout(30, 0); }
  httplib::Headers Headers(bool with_csrf = true) const {
    httplib::Headers h;
    if (!cookie.empty()) h.emplace("Cookie", cookie);
    if (with_csrf && !csrf.empty()) h.emplace("X-CSRF-Token", csrf);
    return h;
  }
  httplib::Result LogIn(const std::string& user, const std::string& password) {
    httplib::Result r = http.Post(
        "/api/session", json{{"user", user}, {"password", password}}.dump(), "application/json");
    if (r && r->status == 200) {
      const std::string set = r->get_header_value("Set-Cookie");
      cookie = set.substr(0, set.find(';'));
      csrf = json::parse(r->body)["csrf"];
    }
    return r;
  }
  httplib::Result Get(const std::string& path) { return http.Get(path, Headers(false)); }
  httplib::Result Post(const std::string& path, const json& body, bool with_csrf = true) {
    return http.Post(path, Headers(with_csrf), body.dump(), "application/json");
  }
  // /api/forecast once its worker has a forecast, or its last "computing" answer at the deadline.
  // The first forecast runs the site a day ahead three times: a second or two here, more under
  // the sanitizers on CI's two cores beside other tests, so the deadline is generous.
  json WaitForForecast(std::chrono::seconds deadline = std::chrono::seconds(300)) {
    json fc;
    const auto until = std::chrono::steady_clock::now() + deadline;
    do {
      fc = json::parse(Get("/api/forecast")->body);
      if (!fc["t_ms"].empty()) break;
      EXPECT_TRUE(fc["computing"].get<bool>()) << fc.dump();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } while (std::chrono::steady_clock::now() < until);
    return fc;
  }
};

// The status line the server answers `request` with, sent as written on a fresh connection
// (for requests httplib's client will not make); "" when none came within 10 s.
std::string RawStatusLine(int port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const timeval limit{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  std::string got;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    char buf[512];
    ssize_t n;
    while (got.find("\r\n") == std::string::npos && (n = recv(fd, buf, sizeof buf, 0)) > 0)
      got.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return got.substr(0, got.find("\r\n"));
}

// Whether process `pid` (Spawn's, not this process's child) has ended: gone, or a zombie.
bool Ended(int pid) {
  if (kill(pid, 0) != 0) return true;
  const std::string stat = Slurp(fs::path("/proc") / std::to_string(pid) / "stat");
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

// The processes whose parent is `pid`, from /proc.
std::vector<int> ChildrenOf(int pid) {
  std::vector<int> out;
  for (const fs::directory_entry& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = Slurp(e.path() / "stat");
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    int ppid = 0;
    char state = 0;
    if (std::sscanf(stat.c_str() + paren + 1, " %c %d", &state, &ppid) == 2 && ppid == pid) {
      out.push_back(std::stoi(name));
    }
  }
  return out;
}

// Makes (or adds to) the store at `db` with one admin, ada; the command's exit status.
int AddAdmin(const fs::path& db) {
  return Shell(fmt::format("FIRSTWALL_NEW_PASSWORD=adminpass1 {} ops user add --store {} --name "
                           "ada --role admin",
                           FIRSTWALL_BIN, db.string()))
      .status;
}

TEST(ServeCli, BadOptionsExit2) {
  EXPECT_EQ(Firstwall("serve").status, 2);
  const Result absent = Firstwall("serve --store " + Fresh("absent.db").string());
  EXPECT_EQ(absent.status, 2) << absent.out;
  const fs::path dir = Fresh("serve_bad");
  fs::create_directories(dir);
  // An empty store is a store: the listen address is what is wrong here.
  ASSERT_EQ(AddAdmin(dir / "s.db"), 0);
  EXPECT_EQ(
      Firstwall("serve --store " + (dir / "s.db").string() + " --scenario absent.yaml").status, 2);
  const Result origin =
      Firstwall("serve --store " + (dir / "s.db").string() + " --allow-origin example.com");
  EXPECT_EQ(origin.status, 2);
  EXPECT_NE(origin.out.find("--allow-origin"), std::string::npos) << origin.out;
  const Result proxy =
      Firstwall("serve --store " + (dir / "s.db").string() + " --trusted-proxy proxy.example.com");
  EXPECT_EQ(proxy.status, 2);
  EXPECT_NE(proxy.out.find("--trusted-proxy"), std::string::npos) << proxy.out;
  const Result header = Firstwall("serve --store " + (dir / "s.db").string() +
                                  " --trusted-proxy 127.0.0.1 --proxy-header x-real-ip");
  EXPECT_EQ(header.status, 2);
  EXPECT_NE(header.out.find("--proxy-header"), std::string::npos) << header.out;
  const Result listen =
      Firstwall("serve --store " + (dir / "s.db").string() + " --listen nonsense");
  EXPECT_EQ(listen.status, 2);
  EXPECT_NE(listen.out.find("--listen"), std::string::npos) << listen.out;
  const Result privileged =
      Firstwall("serve --store " + (dir / "s.db").string() + " --listen 192.0.2.1:8080");
  EXPECT_EQ(privileged.status, 2);
  EXPECT_NE(privileged.out.find("cannot listen on 192.0.2.1:8080"), std::string::npos)
      << privileged.out;
}

TEST(ServeCli, LogInRolesCsrfAndTheApprovalFlow) {
  const fs::path dir = Fresh("serve");
  fs::create_directories(dir);
  const std::string store = FilledStore(dir);
  Server server(store, dir / "serve.log", "--scenario tests/inputs/live-emulate.yaml");
  ASSERT_GT(server.port, 0) << Slurp(dir / "serve.log");

  Browser anyone(server.port);
  const httplib::Result page = anyone.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("uPlot"), std::string::npos);
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("script-src 'sha256-"),
            std::string::npos);
  EXPECT_EQ(page->get_header_value("X-Frame-Options"), "DENY");
  EXPECT_EQ(anyone.Get("/api/plans")->status, 401);
  EXPECT_EQ(json::parse(anyone.Get("/api/session")->body)["user"], nullptr);
  EXPECT_EQ(anyone.LogIn("vic", "wrong")->status, 401);
  EXPECT_EQ(anyone.LogIn("nobody", "x")->status, 401);
  // A name no user can have (a NUL byte, 64 KiB of it) is a wrong user: 401, audited as text, and
  // the audit chain still verifies (vic logs in below). A NUL had been stored whole as the actor,
  // read back cut, and broke the chain for everyone.
  EXPECT_EQ(anyone.LogIn(std::string("vic\0x", 5), "vicpass1")->status, 401);
  EXPECT_EQ(anyone.LogIn(std::string(60000, 'v'), "x")->status, 401);
  // Five wrong passwords for otto from this address: the sixth try waits, even with his right
  // password, and says how long; vic, from the same address, may still log in (login_throttle.h).
  for (int i = 0; i < 5; ++i) EXPECT_EQ(anyone.LogIn("otto", "guess")->status, 401) << i;
  const httplib::Result throttled = anyone.LogIn("otto", "ottopass1");
  ASSERT_TRUE(throttled);
  EXPECT_EQ(throttled->status, 429) << throttled->body;
  EXPECT_GT(std::atoi(throttled->get_header_value("Retry-After").c_str()), 800);
  EXPECT_NE(throttled->body.find("too many failed log-ins"), std::string::npos);
  {
    // Behind a reverse proxy (this test, from 127.0.0.1, named with --trusted-proxy) the proxy's
    // X-Forwarded-For names the client: five wrong passwords for ana from one client hold her
    // back there, not at another client behind the same proxy. The first server, trusting no
    // proxy, counted this test's address whatever the header said.
    Server proxied(store, dir / "serve-proxied.log", "--trusted-proxy 127.0.0.1");
    ASSERT_GT(proxied.port, 0) << Slurp(dir / "serve-proxied.log");
    httplib::Client via("127.0.0.1", proxied.port);
    via.set_read_timeout(30, 0);
    auto log_in = [&](const char* client, const char* password) {
      return via.Post("/api/session", httplib::Headers{{"X-Forwarded-For", client}},
                      json{{"user", "ana"}, {"password", password}}.dump(), "application/json");
    };
    for (int i = 0; i < 5; ++i) EXPECT_EQ(log_in("203.0.113.7", "guess")->status, 401) << i;
    EXPECT_EQ(log_in("203.0.113.7", "anapass1")->status, 429);
    EXPECT_EQ(log_in("10.1.1.1, 198.51.100.9", "anapass1")->status, 200);
  }
  {
    // A proxy that sets RFC 7239's Forwarded (--proxy-header forwarded): its `for` is the client,
    // its lines read as one list, and an X-Forwarded-For beside it is not read.
    Server proxied(store, dir / "serve-forwarded.log",
                   "--trusted-proxy 127.0.0.1 --proxy-header forwarded");
    ASSERT_GT(proxied.port, 0) << Slurp(dir / "serve-forwarded.log");
    httplib::Client via("127.0.0.1", proxied.port);
    via.set_read_timeout(30, 0);
    auto log_in = [&](httplib::Headers headers, const char* password) {
      return via.Post("/api/session", headers, json{{"user", "ana"}, {"password", password}}.dump(),
                      "application/json");
    };
    for (int i = 0; i < 5; ++i) {
      const httplib::Headers h = {{"Forwarded", "for=10.9.9.9"},
                                  {"Forwarded", "for=\"203.0.113.7:4711\";proto=https"},
                                  {"X-Forwarded-For", std::to_string(i) + ".1.1.1"}};
      EXPECT_EQ(log_in(h, "guess")->status, 401) << i;
    }
    EXPECT_EQ(log_in({{"Forwarded", "for=203.0.113.7"}}, "anapass1")->status, 429);
    EXPECT_EQ(log_in({{"Forwarded", "for=\"[2001:db8::9]\""}}, "anapass1")->status, 200);
    // A client's stray quote before a proxy that quotes its node: the proxy's node is still the
    // one counted (the client neither escapes by changing its text each time, nor pins the
    // address it names on someone else).
    for (int i = 0; i < 5; ++i) {
      const httplib::Headers h = {{"Forwarded", "for=198.51.100.20;x=\"" + std::to_string(i)},
                                  {"Forwarded", "for=\"203.0.113.8\""}};
      EXPECT_EQ(log_in(h, "guess")->status, 401) << i;
    }
    EXPECT_EQ(log_in({{"Forwarded", "for=\"203.0.113.8\""}}, "anapass1")->status, 429);
    EXPECT_EQ(log_in({{"Forwarded", "for=198.51.100.20"}}, "anapass1")->status, 200);
  }
  EXPECT_EQ(anyone.http.Post("/api/session", "user=vic&password=vicpass1", "text/plain")->status,
            415);
  EXPECT_EQ(anyone.http.Post("/api/session", "[1]", "application/json")->status, 400);
  for (const char* body : {"{}", "{\"user\":1,\"password\":\"x\"}", "{\"user\":\"vic\"}"}) {
    EXPECT_EQ(anyone.http.Post("/api/session", body, "application/json")->status, 400) << body;
  }
  EXPECT_EQ(anyone.Get("/api/nothing")->status, 404);
  // A path asked with a method it does not answer: 405 and what it answers (RFC 9110, 15.5.6).
  {
    const httplib::Result put = anyone.http.Put("/api/plans", "{}", "application/json");
    ASSERT_TRUE(put);
    EXPECT_EQ(put->status, 405) << put->body;
    EXPECT_EQ(put->get_header_value("Allow"), "GET, HEAD");
    const httplib::Result get = anyone.http.Get("/api/plans/3/approve");
    ASSERT_TRUE(get);
    EXPECT_EQ(get->status, 405);
    EXPECT_EQ(get->get_header_value("Allow"), "POST");
    EXPECT_NE(get->body.find("answers POST, not GET"), std::string::npos) << get->body;
    EXPECT_EQ(
        anyone.http.Patch("/api/session", "{}", "application/json")->get_header_value("Allow"),
        "POST, GET, HEAD, DELETE");
    EXPECT_EQ(anyone.http.Put("/api/plans/3/nothing", "{}", "application/json")->status, 404);
    // Without a Content-Length too (httplib's client always sends one): an unknown path is 404
    // before any body is looked for, a known one 405.
    for (const char* method : {"PUT", "PATCH"}) {
      EXPECT_EQ(RawStatusLine(server.port, fmt::format("{} /api/nothing HTTP/1.1\r\nHost: "
                                                       "127.0.0.1:{}\r\n\r\n",
                                                       method, server.port)),
                "HTTP/1.1 404 Not Found")
          << method;
      EXPECT_EQ(RawStatusLine(server.port, fmt::format("{} /api/plans HTTP/1.1\r\nHost: "
                                                       "127.0.0.1:{}\r\n\r\n",
                                                       method, server.port)),
                "HTTP/1.1 405 Method Not Allowed")
          << method;
    }
  }

  Browser vic(server.port);
  ASSERT_EQ(vic.LogIn("vic", "vicpass1")->status, 200);
  EXPECT_NE(vic.cookie.find("fw_session="), std::string::npos);
  const json plans = json::parse(vic.Get("/api/plans")->body)["plans"];
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_EQ(plans[0]["state"], "proposed");
  EXPECT_EQ(plans[0]["value"], "600 W");
  EXPECT_EQ(plans[0]["approvals_needed"], 1);
  // Without the CSRF token, then as a viewer: both refused, and only the second reaches the rules.
  EXPECT_EQ(vic.Post("/api/plans/1/approve", json::object(), false)->status, 403);
  const httplib::Result refused = vic.Post("/api/plans/1/approve", json::object());
  EXPECT_EQ(refused->status, 403);
  EXPECT_NE(refused->body.find("vic is viewer"), std::string::npos) << refused->body;
  EXPECT_EQ(vic.Post("/api/plans/7/approve", json::object())->status, 404);
  EXPECT_EQ(vic.Post("/api/plans/x/approve", json::object())->status, 404);

  Browser ana(server.port);
  ASSERT_EQ(ana.LogIn("ana", "anapass1")->status, 200);
  httplib::Headers foreign = ana.Headers();
  foreign.emplace("Origin", "http://evil.example");
  EXPECT_EQ(ana.http.Post("/api/plans/1/approve", foreign, "{}", "application/json")->status, 403);
  // Another port of localhost is another site; the page's own origin is allowed.
  httplib::Headers other_port = ana.Headers();
  other_port.emplace("Origin", "http://127.0.0.1:1");
  EXPECT_EQ(
      ana.http.Post("/api/plans/1/reject", other_port, "{\"reason\":\"x\"}", "application/json")
          ->status,
      403);
  // A name that resolves here from another site's page (DNS rebinding) reads nothing.
  EXPECT_EQ(anyone.http.Get("/metrics", {{"Host", "attacker.example"}})->status, 403);
  // A chunked body is refused before it is read.
  // (On a connection of its own: the server closes it after the answer, the body unread.)
  httplib::Headers chunked = ana.Headers();
  chunked.emplace("Transfer-Encoding", "chunked");
  httplib::Client once("127.0.0.1", server.port);
  const httplib::Result unsized =
      once.Post("/api/plans/1/approve", chunked, "{}", "application/json");
  ASSERT_TRUE(unsized);
  EXPECT_EQ(unsized->status, 411);
  EXPECT_EQ(unsized->get_header_value("Connection"), "close");
  EXPECT_EQ(ana.Post("/api/plans/1/reject", json{{"reason", "  \t"}})->status, 400);
  EXPECT_EQ(ana.http.Post("/api/plans/1/approve", ana.Headers(), "{}", "text/plain")->status, 415);
  EXPECT_EQ(ana.Post("/api/plans/1/reject", json::object())->status, 400);  // no reason
  // The media type is read in any case, with its parameters.
  const httplib::Result approved =
      ana.http.Post("/api/plans/1/approve", ana.Headers(), "{}", "Application/JSON; charset=utf-8");
  ASSERT_EQ(approved->status, 200) << approved->body;
  EXPECT_EQ(json::parse(approved->body)["plan"]["state"], "approved");
  EXPECT_EQ(json::parse(approved->body)["plan"]["approvers"], json::array({"ana"}));

  const json audit = json::parse(vic.Get("/api/audit?last=5")->body);
  EXPECT_TRUE(audit["chain"]["ok"]) << audit.dump(1);
  ASSERT_LE(audit["entries"].size(), 5u);
  EXPECT_EQ(audit["entries"][0]["action"], "plan_approved");
  EXPECT_EQ(audit["entries"][0]["actor"], "ana");
  bool vic_refused = false;
  for (const json& e : audit["entries"])
    vic_refused |= e["actor"] == "vic" && e["action"] == "refused";
  EXPECT_TRUE(vic_refused) << audit.dump(1);
  EXPECT_EQ(vic.Get("/api/audit?last=0")->status, 400);
  EXPECT_EQ(vic.Get("/api/audit?last=1.5")->status, 400);

  const json power = json::parse(vic.Get("/api/telemetry?entity=facility&quantity=power")->body);
  ASSERT_FALSE(power["series"].empty()) << power.dump();
  EXPECT_EQ(power["series"][0]["unit"], "W");
  EXPECT_GT(power["series"][0]["samples"].size(), 5u);
  EXPECT_EQ(vic.Get("/api/telemetry?entity=facility&last_s=-1")->status, 400);
  EXPECT_EQ(vic.Get("/api/telemetry")->status, 400);
  {
    // A window by from_ms and to_ms, as MCP's read_telemetry takes it: the samples inside only.
    const json& all = power["series"][0]["samples"];
    const int64_t from = all[2][0].get<int64_t>(), to = all[4][0].get<int64_t>();
    const json window = json::parse(
        vic.Get(fmt::format("/api/telemetry?entity=facility&quantity=power&from_ms={}&to_ms={}",
                            from, to))
            ->body);
    ASSERT_EQ(window["series"].size(), 1u) << window.dump();
    const json& in = window["series"][0]["samples"];
    ASSERT_FALSE(in.empty());
    EXPECT_EQ(in.front()[0], from);
    EXPECT_EQ(in.back()[0], to);
    EXPECT_EQ(vic.Get("/api/telemetry?entity=facility&to_ms=-1")->status, 400);
    EXPECT_EQ(vic.Get("/api/telemetry?entity=facility&from_ms=1.5")->status, 400);
  }
  const json quality = json::parse(vic.Get("/api/quality?entity=gpu")->body);
  EXPECT_EQ(quality["entities"].size(), 16u);
  EXPECT_EQ(quality["entities_total"], 16);
  const json worst = json::parse(vic.Get("/api/quality?worst=100")->body);
  for (size_t i = 1; i < worst["entities"].size(); ++i) {
    EXPECT_LE(worst["entities"][i - 1]["scores"]["overall"].get<double>(),
              worst["entities"][i]["scores"]["overall"].get<double>());
  }
  EXPECT_EQ(json::parse(vic.Get("/api/quality?worst=3")->body)["entities"].size(), 3u);
  EXPECT_EQ(vic.Get("/api/quality?streams=yes")->status, 400);
  // A parameter whose name holds an encoded '=' and '&' is not another query's cached answer.
  vic.Get("/api/telemetry?entity=gpu&last_s=60&max_points%3D1%26quantity=power");
  const json now =
      json::parse(vic.Get("/api/telemetry?entity=gpu&quantity=power&last_s=60&max_points=1")->body);
  ASSERT_EQ(now["series"].size(), 16u);
  for (const json& sr : now["series"]) EXPECT_EQ(sr["quantity"], "power");
  // The heat maps' columns: each GPU's newest power, as the telemetry's rows have it.
  const json latest = json::parse(vic.Get("/api/latest?entity=gpu&quantity=power")->body);
  ASSERT_EQ(latest["ids"].size(), 16u) << latest.dump();
  ASSERT_EQ(latest["t_ms"].size(), 16u);
  ASSERT_EQ(latest["values"].size(), 16u);
  EXPECT_EQ(latest["unit"], "W");
  for (size_t i = 0; i < 16; ++i) {
    const json& row = now["series"][i];
    EXPECT_EQ(latest["ids"][i], row["id"]);
    EXPECT_EQ(latest["t_ms"][i], row["samples"].back()[0]);
    EXPECT_EQ(latest["values"][i], row["samples"].back()[1]);
  }
  EXPECT_TRUE(json::parse(vic.Get("/api/latest?entity=gpu&quantity=nothing")->body)["ids"].empty());
  EXPECT_EQ(vic.Get("/api/latest?entity=gpu")->status, 400);
  // Bytes that are not UTF-8 are a bad parameter, not a failure of the store (which had reopened
  // it and dropped every cached answer).
  for (const char* path :
       {"/api/latest?entity=%ff&quantity=power", "/api/telemetry?entity=%ff",
        "/api/quality?entity=gpu&id=%c3%28", "/api/latest?%ff=1&entity=gpu&quantity=power"}) {
    const httplib::Result r = vic.Get(path);
    EXPECT_EQ(r->status, 400) << path << ": " << r->body;
  }
  EXPECT_EQ(anyone.Get("/api/latest?entity=gpu&quantity=power")->status, 401);
  // A sample ingest commits while the server runs is served (the server's reads above must not
  // keep the snapshot of its first read).
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(store.c_str(), &db), SQLITE_OK);
    const std::string sql =
        "INSERT INTO samples(series, t_ms, value) SELECT id, (SELECT max(t_ms) FROM samples) + "
        "60000, 4242.5 FROM series WHERE entity='facility' AND quantity='power'";
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  const json newest =
      json::parse(vic.Get("/api/telemetry?entity=facility&quantity=power&last_s=1&max_points=2")
                      ->body);  // not a cached answer's arguments
  ASSERT_EQ(newest["series"].size(), 1u) << newest.dump();
  ASSERT_EQ(newest["series"][0]["samples"].size(), 1u) << newest.dump();
  EXPECT_EQ(newest["series"][0]["samples"][0][1], 4242.5);
  // Two sources of one id: the heat map shows the one still reporting, not the first by name.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(store.c_str(), &db), SQLITE_OK);
    const std::string sql =
        "INSERT INTO series(entity, entity_id, quantity, unit, source, metric) VALUES "
        "('pdu', 'rack0', 'power', 'W', 'a-stopped', 'x'), "
        "('pdu', 'rack0', 'power', 'W', 'b-live', 'y'), "
        "('pdu', 'rack1', 'power', 'W', 'a-stopped', 'z');"
        "INSERT INTO samples(series, t_ms, value) SELECT id, 1000, 1.5 FROM series WHERE "
        "entity='pdu' AND source='a-stopped';"
        "INSERT INTO samples(series, t_ms, value) SELECT id, 2000, 500 FROM series WHERE "
        "entity='pdu' AND source='b-live'";
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  const json pdus = json::parse(vic.Get("/api/latest?entity=pdu&quantity=power")->body);
  EXPECT_EQ(pdus["ids"], json::array({"rack0", "rack1"})) << pdus.dump();
  EXPECT_EQ(pdus["values"], json::array({500, 1.5})) << pdus.dump();
  EXPECT_EQ(pdus["t_ms"], json::array({2000, 1000})) << pdus.dump();
  EXPECT_EQ(pdus["series_total"], 3);
  EXPECT_EQ(anyone.http.Get("/metrics", {{"Host", "127.attacker.example"}})->status, 403);
  EXPECT_TRUE(vic.Get("/api/openapi.yaml")->body.starts_with("openapi: 3.0.3"));

  // The twin driven by the measured GPU power and outdoor air, against the facility meter.
  const json twin = json::parse(vic.Get("/api/twin?last_s=600&max_points=10")->body);
  const json* facility = nullptr;
  for (const json& sig : twin["signals"]) {
    if (sig["name"] == "facility_power") facility = &sig;
  }
  ASSERT_NE(facility, nullptr) << twin.dump(1);
  EXPECT_EQ((*facility)["unit"], "W");
  ASSERT_EQ((*facility)["measured"].size(), twin["t_ms"].size());
  ASSERT_EQ((*facility)["twin"].size(), twin["t_ms"].size());
  EXPECT_LE(twin["t_ms"].size(), 10u);
  EXPECT_EQ(twin["scenario_gpus"], 16);
  EXPECT_EQ(twin["measured_gpus"], 16);
  // The emulator serves the same physics the twin predicts: within 5 % on the mean.
  ASSERT_TRUE((*facility)["nmbe"].is_number()) << facility->dump();
  EXPECT_LT(std::abs((*facility)["nmbe"].get<double>()), 0.05) << facility->dump();
  EXPECT_EQ(vic.Get("/api/twin?last_s=1")->status, 400);
  // The UPS (rated 100 kW at its output) carries what the IT input meter reads; the cooling
  // plant (100 kW of design heat) removes it; no grid limit is set.
  std::map<std::string, json> loads;
  for (const json& l : twin["loads"]) loads[l["resource"]] = l;
  ASSERT_EQ(loads.size(), 2u) << twin["loads"].dump(1);
  EXPECT_EQ(loads["UPS"]["from"], "it_input_power");
  EXPECT_EQ(loads["UPS"]["rating_w"], 100e3);
  EXPECT_GE(loads["UPS"]["peak_w"].get<double>(), loads["UPS"]["last_w"].get<double>());
  EXPECT_NEAR(loads["UPS"]["utilization"].get<double>(),
              loads["UPS"]["peak_w"].get<double>() / 100e3, 1e-12);
  EXPECT_GT(loads["UPS"]["utilization"].get<double>(), 0.05);
  EXPECT_LT(loads["UPS"]["utilization"].get<double>(), 0.5);
  EXPECT_EQ(loads["cooling plant"]["rating_w"], 100e3);
  // The next 24 h from the store's newest facility sample (on the 15-min grid: time 0 here), with
  // the weather's interval; the same site and physics as the emulator that filled the store, so
  // its first step is within 5 % of the facility meter's mean.
  // A worker thread computes it from the server's start; the answer says while it does.
  const json fc = vic.WaitForForecast();
  ASSERT_EQ(fc["t_ms"].size(), 96u) << fc.dump().substr(0, 400);
  EXPECT_TRUE(fc["current"].get<bool>());
  EXPECT_EQ(fc["step_s"], 900);
  EXPECT_EQ(fc["origin_ms"], fc["t_ms"][0]);
  const json& fp = fc["facility_power_w"];
  for (size_t i = 0; i < 96; ++i) {
    EXPECT_LE(fp["lo"][i].get<double>(), fp["value"][i].get<double>()) << i;
    EXPECT_LE(fp["value"][i].get<double>(), fp["hi"][i].get<double>()) << i;
  }
  double measured_sum = 0;
  int measured_n = 0;
  for (const json& v : (*facility)["measured"]) {
    if (!v.is_number()) continue;
    measured_sum += v.get<double>();
    ++measured_n;
  }
  ASSERT_GT(measured_n, 0);
  EXPECT_NEAR(fp["value"][0].get<double>() / (measured_sum / measured_n), 1, 0.05);
  EXPECT_NE(fc["interval"].get<std::string>().find("weather-forecast error"), std::string::npos);
  // Against the meter since the origin (its 20 s here): the same site, so close and no warning.
  const json& against = fc["against_meter"];
  ASSERT_TRUE(against.is_object()) << fc.dump().substr(0, 400);
  EXPECT_GT(against["samples"].get<int>(), 0);
  EXPECT_EQ(against["since_ms"], fc["origin_ms"]);
  EXPECT_LT(std::abs(against["difference_pct"].get<double>()), 5) << against.dump();
  EXPECT_FALSE(against["warning"].get<bool>());
  {
    // Another site's scenario on this store (the forecast tests' 192-GPU hall): its forecast is
    // far from the meter, and says so.
    Server other(store, dir / "serve-other.log", "--scenario tests/inputs/forecast-site.yaml");
    ASSERT_GT(other.port, 0) << Slurp(dir / "serve-other.log");
    Browser approver(other.port);
    ASSERT_EQ(approver.LogIn("ana", "anapass1")->status, 200);
    const json wrong = approver.WaitForForecast();
    ASSERT_FALSE(wrong["t_ms"].empty()) << wrong.dump().substr(0, 400);
    EXPECT_TRUE(wrong["against_meter"]["warning"].get<bool>()) << wrong["against_meter"].dump();
    EXPECT_GT(std::abs(wrong["against_meter"]["difference_pct"].get<double>()), 15);
  }
  // 20 s of telemetry is less than the detector's hour of calibration: it says so.
  const json found = json::parse(vic.Get("/api/anomalies")->body);
  EXPECT_TRUE(found["anomalies"].empty());
  EXPECT_NE(found["note"].get<std::string>().find("nothing was looked at"), std::string::npos)
      << found.dump();

  const httplib::Result metrics = anyone.Get("/metrics");
  ASSERT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("firstwall_plans{state=\"approved\"} 1\n"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("firstwall_audit_chain_ok 1\n"), std::string::npos);
  EXPECT_NE(metrics->body.find("firstwall_dashboard_sessions 2\n"), std::string::npos);
  EXPECT_NE(metrics->body.find(
                "firstwall_quality_score{entity=\"gpu\",id=\"node0/gpu0\",dimension=\"overall\"}"),
            std::string::npos);
  // The twin's predictions and walls, as /api/twin gives them: the facility meter's newest
  // prediction, and the first wall among the UPS and the cooling plant.
  EXPECT_NE(metrics->body.find("firstwall_twin_predicted{signal=\"facility_power\",unit=\"W\"} "),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("firstwall_twin_cv_rmse_ratio{signal=\"facility_power\"} "),
            std::string::npos);
  EXPECT_NE(metrics->body.find("firstwall_wall_utilization_ratio{resource=\"UPS\"} "),
            std::string::npos);
  const std::string first_wall = loads["UPS"]["utilization"].get<double>() >=
                                         loads["cooling plant"]["utilization"].get<double>()
                                     ? "UPS"
                                     : "cooling plant";
  EXPECT_NE(metrics->body.find("firstwall_first_wall{resource=\"" + first_wall + "\"} 1\n"),
            std::string::npos)
      << metrics->body;
  if (const std::string promtool = Which("promtool"); !promtool.empty()) {
    std::ofstream(dir / "metrics.txt") << metrics->body;
    const Result check = Shell(promtool + " check metrics < " + (dir / "metrics.txt").string());
    EXPECT_EQ(check.status, 0) << check.out;
  }

  const httplib::Result out = vic.http.Delete("/api/session", vic.Headers());
  EXPECT_EQ(out->status, 200);
  EXPECT_EQ(vic.Get("/api/plans")->status, 401);

  // An audit row changed by hand: the log answers what is stored (a detail that is no JSON as its
  // text) and that the chain is broken, and no one logs in, whatever the password.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(store.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(
      sqlite3_exec(db, "UPDATE ops_audit SET detail='oops' WHERE seq=2", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  const json broken = json::parse(ana.Get("/api/audit?last=100")->body);
  EXPECT_FALSE(broken["chain"]["ok"]);
  EXPECT_EQ(broken["chain"]["first_bad"], 2);
  EXPECT_EQ(broken["entries"].back()["seq"], 1);
  EXPECT_EQ(broken["entries"][broken["entries"].size() - 2]["detail"], "oops");
  for (const char* password : {"anapass1", "wrong"}) {
    const httplib::Result refused_login = Browser(server.port).LogIn("ana", password);
    EXPECT_EQ(refused_login->status, 503);
    EXPECT_NE(refused_login->body.find("does not verify"), std::string::npos)
        << refused_login->body;
  }
  EXPECT_NE(anyone.Get("/metrics")->body.find("firstwall_audit_chain_ok 0\n"), std::string::npos);

  // The forecaster (forked when the server started, forecast_view.h) ends with the server.
  const std::vector<int> children = ChildrenOf(server.process.pid);
  EXPECT_EQ(children.size(), 1u);
  kill(server.process.pid, SIGTERM);
  EXPECT_TRUE(WaitFor([&] { return !Listening(server.port); }, std::chrono::seconds(10)));
  EXPECT_TRUE(WaitFor([&] { return Ended(server.process.pid); }, std::chrono::seconds(10)));
  for (const int child : children) {
    EXPECT_TRUE(WaitFor([&] { return Ended(child); }, std::chrono::seconds(10))) << child;
  }
  server.process.pid = -1;
}

// SIGTERM at any moment of start-up (opening the store, binding, before and after listening)
// ends the server: a signal before it listens is not lost (httplib's stop does nothing until
// then, and the server, its signals blocked, could afterwards be ended only by SIGKILL).
TEST(ServeCli, ASignalAtAnyMomentOfStartUpEndsIt) {
  const fs::path dir = Fresh("serve_signal");
  fs::create_directories(dir);
  ASSERT_EQ(AddAdmin(dir / "s.db"), 0);
  for (const int delay_ms : {0, 5, 10, 20, 40, 80, 160, 320, 640}) {
    Process server;
    server.pid = Spawn(std::string(FIRSTWALL_BIN) + " serve --store " + (dir / "s.db").string() +
                           " --listen 127.0.0.1:0",
                       dir / "serve.log");
    ASSERT_GT(server.pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    kill(server.pid, SIGTERM);
    EXPECT_TRUE(WaitFor([&] { return Ended(server.pid); }, std::chrono::seconds(20)))
        << "still running " << delay_ms
        << " ms after start and a SIGTERM: " << Slurp(dir / "serve.log");
    if (!Ended(server.pid)) kill(server.pid, SIGKILL);
    server.pid = -1;
  }
}

}  // namespace
}  // namespace firstwall::testing_cli
