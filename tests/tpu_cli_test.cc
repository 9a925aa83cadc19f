// Issue #18, a TPU pod through `firstwall run`: examples/tpu-pod.yaml's training job on a v5p
// 4x4x4 ICI torus, its fabric outputs against hand-computed figures.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/cli_support.h"

namespace {
namespace fs = std::filesystem;
using namespace firstwall::testing_cli;

TEST(TpuPod, JobRunsOnTheTorus) {
  const fs::path out = Fresh("tpu_pod");
  const Result r = Firstwall("run examples/tpu-pod.yaml --out " + out.string());
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(Slurp(out / "summary.json"));
  const nlohmann::json& t = j.at("torus");
  EXPECT_EQ(t.at("dims"), nlohmann::json::array({4, 4, 4}));
  EXPECT_EQ(t.at("links_per_chip").get<int>(), 6);
  // 1200 GB/s bidirectional per chip over 6 links: 100 GB/s each way.
  EXPECT_DOUBLE_EQ(t.at("link_bytes_per_s").get<double>(), 100e9);
  // 64 chips x 2 D x 100 GB/s; bisection 2 x 64 / 4 = 32 links x 100 GB/s.
  EXPECT_NEAR(t.at("allreduce_busbw_bytes_per_s").get<double>(), 38.4e12, 1e3);
  EXPECT_DOUBLE_EQ(t.at("bisection_bytes_per_s").get<double>(), 3.2e12);
  // The job's traffic loads the chips' ports (the torus), none of it the Clos.
  EXPECT_GT(j.at("nvlink_peak_utilization").get<double>(), 0.0);
  EXPECT_TRUE(j.at("hottest_links").empty() ||
              j.at("hottest_links")[0].at("peak_utilization").get<double>() == 0.0);
  const nlohmann::json& job = j.at("jobs").at(0);
  EXPECT_EQ(job.at("tp").get<int>(), 4);
  EXPECT_EQ(job.at("dp").get<int>(), 16);
  EXPECT_GT(job.at("breakdown_s").at("tp_comm").get<double>(), 0.0);
  EXPECT_NE(r.out.find("fabric: ICI torus 4x4x4 (6 links a chip, 100 GB/s each way)"),
            std::string::npos)
      << r.out;
  const Result v = Firstwall("validate examples/tpu-pod.yaml");
  EXPECT_EQ(v.status, 0) << v.out;
  EXPECT_NE(v.out.find("in 16 nodes and 1 rack, a 4x4x4 ICI torus; "), std::string::npos) << v.out;
}

TEST(TpuPod, CommandsWithoutATorusRefuseTpuCards) {
  const Result r = Firstwall(
      "infer --gpu TPU-v6e --model llama3-8b --batch 8 --prompt-tokens 100 --output-tokens 10");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--gpu: error: TPU-v6e links its chips by ICI in a torus"),
            std::string::npos)
      << r.out;
}

}  // namespace
