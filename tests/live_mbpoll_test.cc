// The emulator's Modbus TCP server against a real third-party client, mbpoll (Debian `mbpoll`,
// installed by .ci/run; labelled `live`, skipped when absent): mbpoll reads the documented
// registers (docs/live.md, "Modbus TCP") in both word orders, as 32-bit floats and integers and as
// 16-bit input registers, and gets the values the Prometheus endpoint shows at the same tick; a
// write is refused with "Illegal function". The same tick: the exposition is fetched before and
// after mbpoll's reads and only a pair that did not change (energy counters change every tick)
// is judged. No timing is asserted; polls end after generous limits so a fault cannot hang.
#include <signal.h>

#include <chrono>
#include <cmath>
#include <map>
#include <thread>

#include <httplib.h>

#include "tests/live_support.h"

namespace firstwall::testing_cli {
namespace {

// mbpoll's "[ADDRESS]: \tVALUE" lines as address -> value text.
std::map<int, std::string> Values(const std::string& out) {
  std::map<int, std::string> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() < 4 || line[0] != '[') continue;
    const size_t close = line.find("]:");
    if (close == std::string::npos) continue;
    size_t at = close + 2;
    while (at < line.size() && (line[at] == ' ' || line[at] == '\t')) ++at;
    v[std::atoi(line.c_str() + 1)] = line.substr(at);
  }
  return v;
}

// A metric's value in an exposition (NaN when absent).
double Metric(const std::string& text, const std::string& name) {
  const size_t at = text.find("\n" + name + " ");
  return at == std::string::npos ? std::nan("") : std::stod(text.substr(at + name.size() + 2));
}

struct Emulator {
  int pid = -1, http = 0, modbus = 0;
  fs::path log;
  explicit Emulator(const fs::path& dir) : log(dir / "emulate.log") {
    const Result r = Shell(std::string(FIRSTWALL_BIN) +
                           " emulate tests/inputs/live-emulate.yaml --speed 1 --listen 127.0.0.1:0"
                           " --modbus 127.0.0.1:0 >" +
                           log.string() + " 2>&1 & echo $!");
    pid = std::atoi(r.out.c_str());
    for (int i = 0; i < 300 && modbus == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      const std::string out = Slurp(log);
      const size_t h = out.find("http://127.0.0.1:");
      const size_t m = out.find("modbus-tcp://127.0.0.1:");
      if (h != std::string::npos && m != std::string::npos) {
        http = std::atoi(out.c_str() + h + 17);
        modbus = std::atoi(out.c_str() + m + 23);
      }
    }
  }
  ~Emulator() {
    if (pid > 0) kill(pid, SIGTERM);
  }
};

TEST(LiveMbpoll, MbpollReadsTheDocumentedRegistersWithTheEmulatorsValues) {
  const std::string mbpoll = Which("mbpoll");
  if (mbpoll.empty()) GTEST_SKIP() << "mbpoll not installed (Debian package mbpoll)";
  const fs::path dir = Fresh("live_mbpoll");
  fs::create_directories(dir);
  Emulator emu(dir);
  ASSERT_GT(emu.modbus, 0) << Slurp(emu.log);
  const std::string at = " 127.0.0.1 -p " + std::to_string(emu.modbus) + " -m tcp -a 1 -0 -1";
  httplib::Client client("127.0.0.1", emu.http);
  bool judged = false;
  for (int attempt = 0; attempt < 100 && !judged; ++attempt) {
    auto before = client.Get("/metrics");
    if (!before || before->body.find("\nfirstwall_facility_power_watts ") == std::string::npos) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    // Holding 0-3: facility and IT input power, float32, big word order (-B).
    const Result floats = Shell(mbpoll + at + " -r 0 -c 2 -t 4:float -B");
    // Holding 16-17: IT input power again, little word order (mbpoll's default).
    const Result little = Shell(mbpoll + at + " -r 16 -c 1 -t 4:float");
    // Holding 18-19: facility power in 0.1 kW, uint32 big.
    const Result kw = Shell(mbpoll + at + " -r 18 -c 1 -t 4:int -B");
    // Input 8: outdoor temperature in 0.1 C (int16); input 9: PUE in thousandths (uint16).
    const Result input = Shell(mbpoll + at + " -r 8 -c 2 -t 3");
    auto after = client.Get("/metrics");
    if (!after || after->body != before->body) continue;  // a tick passed in between: again
    judged = true;
    ASSERT_EQ(floats.status, 0) << floats.out;
    const std::string& text = before->body;
    const double facility = Metric(text, "firstwall_facility_power_watts");
    const double it = Metric(text, "firstwall_it_input_power_watts");
    std::map<int, std::string> f = Values(floats.out);
    ASSERT_TRUE(f.count(0) && f.count(2)) << floats.out;
    // mbpoll prints six significant digits.
    EXPECT_NEAR(std::stod(f[0]), facility, facility * 1e-5) << floats.out;
    EXPECT_NEAR(std::stod(f[2]), it, it * 1e-5) << floats.out;
    std::map<int, std::string> l = Values(little.out);
    ASSERT_TRUE(l.count(16)) << little.out;
    EXPECT_EQ(l[16], f[2]) << little.out;  // the same float, the other word order
    std::map<int, std::string> k = Values(kw.out);
    ASSERT_TRUE(k.count(18)) << kw.out;
    EXPECT_NEAR(std::stod(k[18]), facility / 100, 0.5 + 1e-6) << kw.out;
    std::map<int, std::string> in = Values(input.out);
    ASSERT_TRUE(in.count(8) && in.count(9)) << input.out;
    EXPECT_NEAR(std::stod(in[8]), 10 * Metric(text, "firstwall_outdoor_temperature_celsius"),
                0.5 + 1e-6)
        << input.out;
    EXPECT_NEAR(std::stod(in[9]), 1000 * Metric(text, "firstwall_pue"), 0.5 + 1e-3) << input.out;
  }
  ASSERT_TRUE(judged) << "no two fetches of the exposition a tick apart held the same tick";
  // A write anywhere but the setpoint register (200, docs/live.md): refused with exception 2.
  const Result write = Shell(mbpoll + " 127.0.0.1 -p " + std::to_string(emu.modbus) +
                             " -m tcp -a 1 -0 -r 0 -t 4 42");
  EXPECT_NE(write.status, 0) << write.out;
  EXPECT_NE(write.out.find("Illegal data address"), std::string::npos) << write.out;
}

}  // namespace
}  // namespace firstwall::testing_cli
