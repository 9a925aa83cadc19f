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
      }).find("'--nic-bandwidth' is 0 B/s, out of range: expected between 1 Gb/s and 1.6 Tb/s"),
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
