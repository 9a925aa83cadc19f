// Command-line values read through the declarations of scenario keys (scenario::OptionValue): the
// option accepts what the key accepts, and its errors name the option and the expected range.
#include <gtest/gtest.h>

#include "scenario/reader.h"
#include "scenario/schema.h"

namespace firstwall::scenario {
namespace {
using namespace units;

// The message an option's value gets, or "" when it is accepted.
template <class Read>
std::string ErrorOf(Read read) {
  try {
    read();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(OptionValue, ReadsThroughTheKeysDeclaration) {
  const Schema& s = ScenarioSchema();
  EXPECT_EQ(OptionValue(s, "workloads[].tp", "--tp", "8").Int(), 8);
  EXPECT_EQ(OptionValue(s, "workloads[].pp", "--pp", "1024").Int(), 1024);
  EXPECT_TRUE(OptionValue(s, "workloads[].micro_batch", "--micro-batch", "auto").IsWord());
  EXPECT_FALSE(OptionValue(s, "workloads[].micro_batch", "--micro-batch", "4").IsWord());
  EXPECT_EQ(OptionValue(s, "workloads[].recompute", "--recompute", "full").Enum(), "full");
  EXPECT_EQ(ToBytesPerSecond(OptionValue(s, "cluster.nic_bandwidth", "--nic-bandwidth", "400 Gb/s")
                                 .Quantity<Bandwidth>()),
            50e9);
}

// The hint suggests the other family of units only when the value was written in the one
// family and reads in range in the other; messages echo the value as written (#17).
TEST(OptionValue, BitsAndBytesHintOnlyForTheOtherFamily) {
  const Schema& s = ScenarioSchema();
  auto bw = [&](const std::string& text) {
    return ErrorOf([&] {
      OptionValue(s, "cluster.nic_bandwidth", "--nic-bandwidth", text).Quantity<Bandwidth>();
    });
  };
  // Already bits; in bytes 1.7 TB/s is out of range too: no hint about bits and bytes.
  std::string e = bw("1.7 Tb/s");
  EXPECT_NE(e.find("'--nic-bandwidth' is 1.7 Tb/s, out of range"), std::string::npos) << e;
  EXPECT_EQ(e.find("check bits and bytes"), std::string::npos) << e;
  e = bw("1601 Gb/s");
  EXPECT_NE(e.find("'--nic-bandwidth' is 1601 Gb/s, out of range"), std::string::npos) << e;
  EXPECT_EQ(e.find("check bits and bytes"), std::string::npos) << e;
  // Already bytes, too small either way.
  e = bw("0.12 GB/s");
  EXPECT_NE(e.find("'--nic-bandwidth' is 0.12 GB/s, out of range"), std::string::npos) << e;
  EXPECT_EQ(e.find("check bits and bytes"), std::string::npos) << e;
  // Bits where bytes were meant: 500 MB/s is in range.
  e = bw("500 Mb/s");
  EXPECT_NE(e.find("in bytes this would be 500 MB/s, which is in range"), std::string::npos) << e;
  e = bw("800 GB/s");
  EXPECT_NE(e.find("in bits this would be 100 GB/s, which is in range"), std::string::npos) << e;
  e = ErrorOf([&] {
    OptionValue(s, "simulation.max_output_size", "max_output_size", "0.5 MB").Quantity<DataSize>();
  });
  EXPECT_NE(e.find("is 0.5 MB, out of range: expected between 1 MB and 10 TB"), std::string::npos)
      << e;
  EXPECT_EQ(e.find("check bits and bytes"), std::string::npos) << e;
  e = ErrorOf([&] {
    OptionValue(s, "simulation.max_output_size", "max_output_size", "4 Mb").Quantity<DataSize>();
  });
  EXPECT_NE(e.find("in bytes this would be 4 MB, which is in range"), std::string::npos) << e;
  e = ErrorOf([&] {
    OptionValue(s, "simulation.output_interval", "output_interval", "2 d").Quantity<Duration>();
  });
  EXPECT_NE(e.find("is 2 d, out of range: expected between 1 ms and 1 d"), std::string::npos) << e;
  e = ErrorOf([&] {
    OptionValue(s, "simulation.output_interval", "output_interval", "0 s").Quantity<Duration>();
  });
  EXPECT_NE(e.find("is 0 s, out of range"), std::string::npos) << e;
}

TEST(OptionValue, RefusesWhatTheScenarioRefusesNamingTheOption) {
  const Schema& s = ScenarioSchema();
  EXPECT_EQ(ErrorOf([&] { OptionValue(s, "workloads[].pp", "--pp", "0").Int(); }),
            "--pp: error: '--pp' is 0, out of range: expected between 1 and 1024\n"
            "  hint: Pipeline-parallel degree (1F1B schedule).");
  EXPECT_NE(ErrorOf([&] {
              OptionValue(s, "workloads[].tp", "--tp", "-1").Int();
            }).find("--tp: error: '--tp' is -1, out of range: expected between 1 and 72"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] {
              OptionValue(s, "workloads[].tp", "--tp", "auto").Int();
            }).find("expected an integer for '--tp', got 'auto'"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] {
              OptionValue(s, "workloads[].micro_batch", "--micro-batch", "0").Int();
            }).find("'--micro-batch' is 0, out of range"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf([&] {
        OptionValue(s, "cluster.nic_bandwidth", "--nic-bandwidth", "0 Gb/s").Quantity<Bandwidth>();
      }).find("'--nic-bandwidth' is 0 Gb/s, out of range: expected between 1 Gb/s and 1.6 Tb/s"),
      std::string::npos);
  // Bytes for bits: the scenario's hint, here too.
  EXPECT_NE(ErrorOf([&] {
              OptionValue(s, "cluster.nic_bandwidth", "--nic-bandwidth", "400 GB/s")
                  .Quantity<Bandwidth>();
            }).find("in bits this would be 50 GB/s, which is in range"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf([&] {
        OptionValue(s, "cluster.nic_bandwidth", "--nic-bandwidth", "400").Quantity<Bandwidth>();
      }).find("--nic-bandwidth: error: '--nic-bandwidth': missing unit"),
      std::string::npos);
  // Text that YAML would read as null or as nothing stays the text written.
  EXPECT_NE(ErrorOf([&] {
              OptionValue(s, "workloads[].pp", "--pp", "~").Int();
            }).find("expected an integer for '--pp', got '~'"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] {
              OptionValue(s, "workloads[].pp", "--pp", "").Int();
            }).find("expected an integer for '--pp', got ''"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] {
              OptionValue(s, "workloads[].recompute", "--recompute", "ful").Enum();
            }).find("did you mean 'full'?"),
            std::string::npos);
}

TEST(OptionValue, AnUndeclaredKeyIsABug) {
  EXPECT_THROW(OptionValue(ScenarioSchema(), "workloads[].nonsense", "--x", "1"), InternalError);
}

}  // namespace
}  // namespace firstwall::scenario
