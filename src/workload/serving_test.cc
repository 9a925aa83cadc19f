// Request sources and the serving model: trace formats and their errors, synthetic arrivals, and
// the engine's behaviour against hand-derived expectations.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "scenario/catalog.h"
#include "workload/serving.h"

namespace firstwall::workload {
namespace {
using namespace units;

constexpr const char* kAzure = "data/traces/azure-llm-2023-conv.csv";
constexpr const char* kMooncake = "data/traces/mooncake-conversation.jsonl";

ServiceSetup Llama8b(int replicas = 1) {
  const auto& cat = scenario::BuiltinCatalog();
  ServiceSetup s;
  s.replica.model = cat.models.at("llama3-8b");
  s.replica.gpu = cat.gpus.at("H100-SXM5-80GB");
  s.replicas = replicas;
  return s;
}

RequestSet Fixed(int n, double gap_s, int prompt, int output) {
  RequestSet set;
  for (int i = 0; i < n; ++i) {
    Request r;
    r.arrival_s = i * gap_s;
    r.prompt_tokens = prompt;
    r.output_tokens = output;
    set.requests.push_back(r);
  }
  return set;
}

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.where().ToString() + ": " + e.message();
  }
  return "no error";
}

TEST(Requests, AzureAndMooncakeTracesAreReadAsPublished) {
  const RequestSet az = ReadAzureTrace(kAzure, "conv");
  ASSERT_EQ(az.requests.size(), 19366u);
  EXPECT_EQ(az.requests.front().arrival_s, 0.0);
  EXPECT_EQ(az.requests.front().prompt_tokens, 374);  // the first row as published
  EXPECT_EQ(az.requests.front().output_tokens, 44);
  EXPECT_NEAR(az.requests.back().arrival_s, 3600, 120);  // one hour
  const RequestSet mc = ReadMooncakeTrace(kMooncake, "kimi");
  ASSERT_EQ(mc.requests.size(), 12031u);
  EXPECT_EQ(mc.requests.front().prompt_tokens, 6758);
  EXPECT_EQ(mc.requests.front().prefix_count, 14u);  // ceil(6758 / 512) blocks
  EXPECT_EQ(mc.hashes[mc.requests.front().prefix_begin], 0u);
  for (size_t i = 1; i < mc.requests.size(); ++i) {
    ASSERT_GE(mc.requests[i].arrival_s, mc.requests[i - 1].arrival_s);
  }
}

TEST(Requests, MalformedTracesNameFileLineAndColumn) {
  const std::string head = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  EXPECT_EQ(ErrorOf([&] { ParseAzureTrace("", "t.csv", "x"); }),
            "t.csv:1: the trace file is empty");
  EXPECT_EQ(ErrorOf([&] { ParseAzureTrace(head, "t.csv", "x"); }),
            "t.csv:1:1: the trace has no requests");
  EXPECT_NE(ErrorOf([&] {
              ParseAzureTrace("time,in,out\n", "t.csv", "x");
            }).find("t.csv:1:1: expected the Azure LLM trace header"),
            std::string::npos);
  EXPECT_EQ(
      ErrorOf([&] { ParseAzureTrace(head + "2023-11-16 18:15:46.68,374,4x\n", "t.csv", "x"); }),
      "t.csv:2:28: expected GeneratedTokens as a whole number of tokens from 1 to "
      "16777216, got '4x'");
  EXPECT_EQ(ErrorOf([&] { ParseAzureTrace(head + "2023-11-16 18:15,374,44\n", "t.csv", "x"); }),
            "t.csv:2:1: expected a timestamp like '2023-11-16 18:15:46.6805900', got "
            "'2023-11-16 18:15'");
  EXPECT_EQ(ErrorOf([&] { ParseAzureTrace(head + "2023-11-16 18:15:46,374\n", "t.csv", "x"); }),
            "t.csv:2:1: expected 3 comma-separated fields, got '2023-11-16 18:15:46,374'");
  const std::string ok = R"({"timestamp": 0, "input_length": 10, "output_length": 5})";
  EXPECT_EQ(ErrorOf([&] { ParseMooncakeTrace(ok + "\n{\"timestamp\": 1,", "m.jsonl", "x"); }),
            "m.jsonl:2:17: expected one JSON object per line (Mooncake trace format)");
  EXPECT_EQ(
      ErrorOf([&] {
        ParseMooncakeTrace(R"({"timestamp": 0, "input_len": 10, "output_length": 5})", "m.jsonl",
                           "x");
      }),
      "m.jsonl:1:18: unknown key 'input_len'; expected timestamp, input_length, output_length, "
      "hash_ids");
  EXPECT_EQ(ErrorOf([&] {
              ParseMooncakeTrace(R"({"timestamp": -5, "input_length": 10, "output_length": 5})",
                                 "m.jsonl", "x");
            }),
            "m.jsonl:1:2: expected 'timestamp' as a number from 0 to 10000000000000");
  EXPECT_EQ(ErrorOf([&] {
              ParseMooncakeTrace(
                  R"({"timestamp": 0, "input_length": 10, "output_length": 5, "hash_ids": 3})",
                  "m.jsonl", "x");
            }),
            "m.jsonl:1:58: expected 'hash_ids' as a list");
  EXPECT_EQ(ErrorOf([&] { ParseMooncakeTrace("\n", "m.jsonl", "x"); }),
            "m.jsonl:1: the trace file is empty");
}

TEST(Requests, MooncakeTimestampsGoingBackInTimeAreRefused) {
  // Accepted and silently re-sorted before (#17).
  const std::string e = ErrorOf([&] {
    ParseMooncakeTrace(R"({"timestamp": 0, "input_length": 10, "output_length": 5}
{"timestamp": 9000, "input_length": 10, "output_length": 5}
{"timestamp": 5, "input_length": 10, "output_length": 5})",
                       "m.jsonl", "x");
  });
  EXPECT_EQ(e, "m.jsonl:3:2: timestamp 5 is before the previous request's (9000)");
  // Equal timestamps are in order.
  EXPECT_EQ(ErrorOf([&] {
              ParseMooncakeTrace(R"({"timestamp": 7, "input_length": 10, "output_length": 5}
{"timestamp": 7, "input_length": 10, "output_length": 5})",
                                 "m.jsonl", "x");
            }),
            "no error");
}

TEST(Requests, ZeroTokenRequestsAreRefusedNotRoundedUp) {
  const std::string head = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  EXPECT_EQ(ErrorOf([&] { ParseAzureTrace(head + "2023-11-16 18:15:46.68,0,44\n", "t.csv", "x"); }),
            "t.csv:2:24: expected ContextTokens as a whole number of tokens from 1 to 16777216, "
            "got '0'");
  EXPECT_EQ(
      ErrorOf([&] { ParseAzureTrace(head + "2023-11-16 18:15:46.68,374,0\n", "t.csv", "x"); }),
      "t.csv:2:28: expected GeneratedTokens as a whole number of tokens from 1 to 16777216, "
      "got '0'");
  try {
    ParseMooncakeTrace(R"({"timestamp": 0, "input_length": 0, "output_length": 5})", "m.jsonl",
                       "x");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().ToString() + ": " + e.message(),
              "m.jsonl:1:18: expected 'input_length' as a whole number of tokens from 1 to "
              "16777216, got 0");
    EXPECT_NE(e.hint().find("at least one prompt and one output token"), std::string::npos);
  }
  EXPECT_EQ(ErrorOf([&] {
              ParseMooncakeTrace(R"({"timestamp": 0, "input_length": 7, "output_length": 0})",
                                 "m.jsonl", "x");
            }),
            "m.jsonl:1:37: expected 'output_length' as a whole number of tokens from 1 to "
            "16777216, got 0");
}

TEST(Requests, MooncakeRefusesFractionsNulBytesAndDuplicateKeys) {
  EXPECT_EQ(ErrorOf([&] {
              ParseMooncakeTrace(R"({"timestamp": 0, "input_length": 12.5, "output_length": 5})",
                                 "m.jsonl", "x");
            }),
            "m.jsonl:1:18: expected 'input_length' as a whole number of tokens from 1 to "
            "16777216, got 12.5");
  EXPECT_EQ(ErrorOf([&] {
              ParseMooncakeTrace(R"({"timestamp": 0, "input_length": 12.0, "output_length": 5})",
                                 "m.jsonl", "x");
            }),
            "m.jsonl:1:18: expected 'input_length' as a whole number of tokens from 1 to "
            "16777216, got 12.0");
  const std::string ok = R"({"timestamp": 0, "input_length": 10, "output_length": 5})";
  // nlohmann's parser stops at a NUL as at the end of its input; the reader looks first.
  EXPECT_EQ(
      ErrorOf([&] { ParseMooncakeTrace(ok + std::string("\0garbage\n", 9), "m.jsonl", "x"); }),
      "m.jsonl:1:" + std::to_string(ok.size() + 1) +
          ": NUL byte in a text file (binary data, or a file cut short)");
  EXPECT_EQ(ErrorOf([&] {
              ParseMooncakeTrace(
                  R"({"timestamp": 0, "input_length": 10, "output_length": 5, "input_length": 9})",
                  "m.jsonl", "x");
            }),
            "m.jsonl:1:58: duplicate key 'input_length'");
  // Nested objects keep their own keys; a key may repeat in another object.
  EXPECT_EQ(ErrorOf([&] { ParseMooncakeTrace(ok + "\n" + ok + "\n", "m.jsonl", "x"); }),
            "no error");
  // A byte-order mark before the first line is not part of the JSON.
  EXPECT_EQ(ParseMooncakeTrace("\xEF\xBB\xBF" + ok, "m.jsonl", "x").requests.size(), 1u);
  EXPECT_EQ(ErrorOf([&] {
              ParseMooncakeTrace(R"({"timestamp": 1e400, "input_length": 10, "output_length": 5})",
                                 "m.jsonl", "x");
            }),
            "m.jsonl:1:15: number out of range: '1e400'");
}

TEST(Requests, AzureTakesAByteOrderMarkAndRefusesNulBytesAndNonFiniteSeconds) {
  const std::string rows = "2023-11-16 18:15:46.68,374,44\n2023-11-16 18:15:47.68,10,20\n";
  const RequestSet set = ParseAzureTrace(
      "\xEF\xBB\xBFTIMESTAMP,ContextTokens,GeneratedTokens\r\n" + rows, "t.csv", "x");
  ASSERT_EQ(set.requests.size(), 2u);
  EXPECT_NEAR(set.requests[1].arrival_s, 1.0, 1e-9);
  const std::string head = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  EXPECT_EQ(ErrorOf([&] { ParseAzureTrace(head + rows + std::string("\0", 1), "t.csv", "x"); }),
            "t.csv:4:1: NUL byte in a text file (binary data, or a file cut short)");
  for (const char* sec : {"nan", "inf"}) {
    EXPECT_EQ(ErrorOf([&] {
                ParseAzureTrace(head + "2023-11-16 18:15:" + sec + ",374,44\n", "t.csv", "x");
              }),
              "t.csv:2:1: expected a timestamp like '2023-11-16 18:15:46.6805900', got "
              "'2023-11-16 18:15:" +
                  std::string(sec) + "'");
  }
}

TEST(Requests, ALoopedTraceRepeatsWithItsSpanAndDistinctPrefixes) {
  // 15 minutes of arrivals every 10 s, each with the same two prefix blocks.
  RequestSet set = Fixed(90, 10.0, 1024, 100);
  for (Request& r : set.requests) {
    r.prefix_begin = static_cast<uint32_t>(set.hashes.size());
    r.prefix_count = 2;
    set.hashes.push_back(7);
    set.hashes.push_back(1u << 30);
  }
  EXPECT_DOUBLE_EQ(LoopPeriod(set), 900.0);  // 890 s span + one 10 s gap
  Loop(set, 3600.0);
  ASSERT_EQ(set.requests.size(), 4u * 90u);  // about 4x over an hour
  for (size_t i = 1; i < set.requests.size(); ++i) {
    EXPECT_NEAR(set.requests[i].arrival_s - set.requests[i - 1].arrival_s, 10.0, 1e-9);
  }
  // Laps share no prefix block; within a lap equal ids stay equal.
  auto id = [&](size_t req, uint32_t k) { return set.hashes[set.requests[req].prefix_begin + k]; };
  EXPECT_EQ(id(0, 0), id(89, 0));
  EXPECT_NE(id(0, 0), id(0, 1));
  EXPECT_NE(id(0, 0), id(90, 0));
  EXPECT_EQ(id(90, 0), id(179, 0));
  EXPECT_NE(id(90, 1), id(270, 1));
  // Nothing to loop: one request, or all at one instant.
  EXPECT_EQ(LoopPeriod(Fixed(1, 1.0, 10, 10)), 0.0);
  EXPECT_EQ(LoopPeriod(Fixed(5, 0.0, 10, 10)), 0.0);
}

TEST(Requests, SyntheticArrivalsFollowRateBurstinessAndDiurnalProfile) {
  SyntheticSource p;
  p.label = "poisson";
  p.rate_per_s = 20;
  p.end_s = 3600;
  SyntheticSource g = p;
  g.label = "gamma";
  g.arrival = SyntheticSource::Arrival::kGamma;
  g.cv = 3;
  for (const SyntheticSource& src : {p, g}) {
    const RequestSet set = Generate({src}, 7);
    const double n = static_cast<double>(set.requests.size());
    // Poisson: 72,000 expected, sd 268. Gamma renewal: variance of the count ~ cv^2 x mean.
    EXPECT_NEAR(n, 72000, 4 * std::sqrt(72000) * src.cv) << src.label;
    double sum = 0, sum2 = 0;
    for (size_t i = 1; i < set.requests.size(); ++i) {
      const double gap = set.requests[i].arrival_s - set.requests[i - 1].arrival_s;
      sum += gap;
      sum2 += gap * gap;
    }
    const double mean = sum / (n - 1), cv = std::sqrt(sum2 / (n - 1) - mean * mean) / mean;
    EXPECT_NEAR(cv, src.cv, 0.1 * src.cv) << src.label;
  }
  // A diurnal profile: the night hours get a quarter of the day hours' rate, and the day's mean
  // is the rate given.
  SyntheticSource d = p;
  d.label = "diurnal";
  d.rate_per_s = 2;
  d.end_s = 86400;
  d.diurnal.emplace();
  for (size_t h = 0; h < 24; ++h) (*d.diurnal)[h] = h < 8 ? 1.0 : 4.0;
  const RequestSet day = Generate({d}, 7);
  std::array<double, 24> per_hour{};
  for (const Request& r : day.requests) per_hour[static_cast<size_t>(r.arrival_s / 3600)] += 1;
  const double night = std::accumulate(per_hour.begin(), per_hour.begin() + 8, 0.0) / 8;
  const double busy = std::accumulate(per_hour.begin() + 8, per_hour.end(), 0.0) / 16;
  EXPECT_NEAR(busy / night, 4.0, 0.3);
  EXPECT_NEAR(static_cast<double>(day.requests.size()), 2 * 86400, 4 * std::sqrt(2 * 86400));
  // Same seed, same requests; another seed, others.
  EXPECT_EQ(Generate({d}, 7).requests.size(), day.requests.size());
  EXPECT_NE(Generate({d}, 8).requests.size(), day.requests.size());
}

TEST(Requests, SessionsChainFollowUpsWithGrowingPrefixesAndRateScalingCompressesTime) {
  SyntheticSource r;
  r.label = "reasoning";
  r.rate_per_s = 1;
  r.end_s = 100;
  r.prompt = {LengthDistribution::Kind::kFixed, 1000, 0};
  r.output = {LengthDistribution::Kind::kFixed, 2000, 0};
  r.step_prompt = {LengthDistribution::Kind::kFixed, 300, 0};
  r.steps = 3;
  r.step_gap_s = 2;
  RequestSet set = Generate({r}, 1);
  int firsts = 0;
  for (const Request& q : set.requests) {
    if (q.follow_up) continue;
    ++firsts;
    ASSERT_GE(q.next, 0);
    const Request& second = set.requests[static_cast<size_t>(q.next)];
    EXPECT_TRUE(second.follow_up);
    EXPECT_EQ(second.prompt_tokens, 1000 + 2000 + 300);  // prompt, answer, tool output
    // The second call's prefix starts with the first call's blocks.
    for (uint32_t i = 0; i < q.prefix_count; ++i) {
      EXPECT_EQ(set.hashes[second.prefix_begin + i], set.hashes[q.prefix_begin + i]);
    }
    EXPECT_EQ(second.prefix_count, 3300u / 512u);
    ASSERT_GE(second.next, 0);
    EXPECT_EQ(set.requests[static_cast<size_t>(second.next)].next, -1);
  }
  EXPECT_EQ(static_cast<size_t>(firsts) * 3, set.requests.size());
  const double last = set.requests[static_cast<size_t>(firsts - 1)].arrival_s;
  ScaleRate(set, 10);
  EXPECT_DOUBLE_EQ(set.requests[static_cast<size_t>(firsts - 1)].arrival_s, last / 10);
  EXPECT_DOUBLE_EQ(set.requests.front().gap_s, 0.2);
}

TEST(Serving, OneRequestAloneTakesThePrefillThenOneDecodeIterationPerToken) {
  const ServiceSetup s = Llama8b();
  const ServingResult r = Serve(s, Fixed(1, 0, 1000, 101), 1);
  ASSERT_EQ(r.completed, 1);
  InferenceSetup one = s.replica;
  one.batch = 1;
  one.prompt_tokens = 1000;
  one.output_tokens = 100;
  const InferenceEstimate e = EstimateInference(one);
  // TTFT: the prefill iteration (the same operators plus the host overhead).
  EXPECT_NEAR(r.ttft.p50, ToSeconds(e.prefill_time) + ToSeconds(kIterationOverhead),
              0.01 * r.ttft.p50);
  // Time per output token: 100 decode iterations, the mean context as EstimateInference's.
  EXPECT_NEAR(r.tpot.mean, ToSeconds(e.itl), 0.01 * ToSeconds(e.itl));
  EXPECT_NEAR(r.e2e.mean, r.ttft.mean + 100 * r.tpot.mean, 1e-9);
  EXPECT_EQ(r.output_tokens, 101);
  EXPECT_EQ(r.slo_attainment, 1.0);
}

TEST(Serving, TraceReplayConservesRequestsTokensAndEnergy) {
  ServiceSetup s = Llama8b(16);
  s.end_s = 4000;
  const RequestSet trace = ReadAzureTrace(kAzure, "conv");
  const ServingResult r = Serve(s, trace, 1);
  EXPECT_EQ(r.requests, 19366);
  EXPECT_EQ(r.completed, 19366);
  double out = 0;
  for (const Request& q : trace.requests) out += q.output_tokens;
  EXPECT_EQ(r.output_tokens, out);
  // The power series holds all the GPU energy, phase by phase.
  const double series_j = std::accumulate(r.gpu_power_w.begin(), r.gpu_power_w.end(), 0.0);
  EXPECT_NEAR(series_j, r.gpu_energy_j, 1e-6 * r.gpu_energy_j);
  EXPECT_NEAR(r.prefill.replica_s + r.decode.replica_s + r.mixed.replica_s + r.idle.replica_s,
              16 * 4000.0, 1e-6 * 16 * 4000);
  // Power follows the phase: compute-bound prefill draws more than weight-bound decode, which
  // draws more than idle. Decode within 10% of the range measured for Llama-3-8B with vLLM on one
  // H100 at batch 1-64, 363-456 W (data/calibration/serving_power.csv).
  const double per_gpu_prefill = r.prefill.gpu_j / r.prefill.replica_s;
  const double per_gpu_decode = r.decode.gpu_j / r.decode.replica_s;
  EXPECT_GT(per_gpu_prefill, 450);
  EXPECT_GT(per_gpu_decode, 0.9 * 363);
  EXPECT_LT(per_gpu_decode, 1.1 * 456);
  EXPECT_NEAR(r.idle.gpu_j / r.idle.replica_s, 70, 1e-6);
  EXPECT_GT(r.ttft.p99, r.ttft.p50);
  EXPECT_GT(r.e2e.p50, r.ttft.p50);
}

// A cancel set by another thread ends a serving simulation early; unset, it changes nothing.
TEST(Serving, ACancelEndsTheSimulationAndUnsetChangesNothing) {
  ServiceSetup s = Llama8b(2);
  s.end_s = 600;
  const RequestSet set = Fixed(2000, 0.25, 512, 128);
  std::atomic<bool> cancel = false;
  const ServingResult a = Serve(s, set, 1);
  const ServingResult b = Serve(s, set, 1, &cancel);
  EXPECT_EQ(a.completed, b.completed);
  EXPECT_EQ(a.gpu_power_w, b.gpu_power_w);
  cancel = true;
  EXPECT_THROW(Serve(s, set, 1, &cancel), std::runtime_error);
}

TEST(Serving, ThroughputSaturatesAndLatencyGrowsWithLoad) {
  const ServiceSetup s = Llama8b(1);
  double last_thr = 0, last_ttft = 0;
  std::vector<double> thr;
  for (double rate : {2.0, 8.0, 32.0, 128.0}) {
    const ServingResult r = Serve(s, Fixed(static_cast<int>(rate * 60), 1 / rate, 512, 256), 1);
    EXPECT_GE(r.output_tokens_per_s, last_thr * 0.99) << rate;
    EXPECT_GE(r.ttft.p99, last_ttft) << rate;
    last_thr = r.output_tokens_per_s;
    last_ttft = r.ttft.p99;
    thr.push_back(r.output_tokens_per_s);
  }
  // Light load: throughput follows the offered load (2 req/s x 256 tokens); heavy: it saturates
  // (four times the load gives far less than four times the tokens).
  EXPECT_NEAR(thr[0], 2 * 256, 0.1 * 512);
  EXPECT_LT(thr[3] / thr[2], 1.5);
}

TEST(Serving, KvPressurePreemptsByRecomputeOrSwapAndEveryRequestFinishes) {
  for (Preemption p : {Preemption::kRecompute, Preemption::kSwap}) {
    ServiceSetup s = Llama8b(1);
    s.engine.memory_fraction = 0.27;  // about 3 GB of KV: 25k tokens
    s.engine.preemption = p;
    const ServingResult r = Serve(s, Fixed(200, 0.01, 1500, 800), 1);
    EXPECT_EQ(r.completed, 200);
    EXPECT_GT(r.preemptions, 0);
    EXPECT_LE(r.kv_use_peak, 1.0);
    EXPECT_GT(r.kv_use_peak, 0.9);
    if (p == Preemption::kRecompute) {
      EXPECT_GT(r.prefill_tokens, 200 * 1500);  // recomputed prompts
    } else {
      EXPECT_EQ(r.prefill_tokens, 200 * 1500);
    }
  }
}

TEST(Serving, PrefixCachingAndPrefixAwareRoutingReuseMooncakeBlocks) {
  const RequestSet trace = ReadMooncakeTrace(kMooncake, "kimi");
  RequestSet head = trace;
  Window(head, 0, 900, 0);  // the first 15 minutes
  const auto& cat = scenario::BuiltinCatalog();
  ServiceSetup s;
  s.replica.model = cat.models.at("llama3-70b");
  s.replica.gpu = cat.gpus.at("H200-SXM");
  s.replica.tp = 8;
  s.replicas = 4;
  s.engine.prefix_caching = false;
  const ServingResult none = Serve(s, head, 1);
  s.engine.prefix_caching = true;
  const ServingResult cached = Serve(s, head, 1);
  s.routing = Routing::kPrefixAware;
  const ServingResult aware = Serve(s, head, 1);
  EXPECT_EQ(none.prefix_hit_tokens, 0);
  EXPECT_GT(cached.prefix_hit_tokens, 0.05 * cached.prompt_tokens);
  EXPECT_GT(aware.prefix_hit_tokens, cached.prefix_hit_tokens);
  EXPECT_LT(cached.prefill_tokens, none.prefill_tokens);
  EXPECT_LT(cached.ttft.mean, none.ttft.mean);
  std::printf(
      "Mooncake, 15 min, 4 x Llama-3-70B TP8 on H200: prefix hits %.1f%% (least tokens), "
      "%.1f%% (prefix-aware); mean TTFT %.3f s without cache, %.3f s, %.3f s\n",
      100 * cached.prefix_hit_tokens / cached.prompt_tokens,
      100 * aware.prefix_hit_tokens / aware.prompt_tokens, none.ttft.mean, cached.ttft.mean,
      aware.ttft.mean);
}

TEST(Serving, ChunkedPrefillKeepsDecodesFlowingPastLongPrompts) {
  RequestSet set = Fixed(40, 0.5, 200, 400);
  for (int i = 0; i < 8; ++i) {
    Request r;
    r.arrival_s = 2.0 + 2.0 * i;
    r.prompt_tokens = 30000;
    r.output_tokens = 10;
    set.requests.push_back(r);
  }
  std::stable_sort(set.requests.begin(), set.requests.end(),
                   [](const Request& a, const Request& b) { return a.arrival_s < b.arrival_s; });
  ServiceSetup s = Llama8b(1);
  s.engine.max_batched_tokens = 2048;
  s.engine.chunked_prefill = false;
  const ServingResult whole = Serve(s, set, 1);
  s.engine.chunked_prefill = true;
  const ServingResult chunked = Serve(s, set, 1);
  // A 30k-token prompt entered whole stalls every decode for its whole prefill.
  // Unchunked, a 30k-token prompt stops every decode for its whole prefill; chunked, the decodes
  // ride along with 2,048-token chunks (slower iterations, no stall).
  EXPECT_GT(whole.itl.max, 3 * chunked.itl.max);
  EXPECT_GT(whole.itl.max, 0.9 * whole.ttft.max - 0.1);
  std::printf("longest ITL with 30k-token prompts: %.3f s unchunked, %.3f s chunked\n",
              whole.itl.max, chunked.itl.max);
  EXPECT_EQ(chunked.completed, 48);
}

TEST(Serving, DisaggregationMovesTheKvOverTheFabric) {
  ServiceSetup s = Llama8b(4);
  s.pd.prefill_replicas = 1;
  s.pd.link_bytes_per_s = 50e9;  // 400 Gb/s per GPU
  const RequestSet set = Fixed(100, 0.2, 2000, 100);
  const ServingResult r = Serve(s, set, 1);
  EXPECT_EQ(r.completed, 100);
  // K and V of 2,000 tokens: 2 x 32 layers x 8 heads x 128 x 2 bytes each = 262 MB per request.
  EXPECT_DOUBLE_EQ(r.kv_transfer_bytes, 100 * 2000 * 2.0 * 32 * 8 * 128 * 2);
  // No prefill ever shares an iteration with a decode.
  EXPECT_EQ(r.mixed.replica_s, 0);
  EXPECT_GT(r.prefill.replica_s, 0);
  EXPECT_GT(r.decode.replica_s, 0);
  // The second token waits for the transfer (5 ms at 50 GB/s) on top of a decode iteration.
  EXPECT_GT(r.itl.p99, 2000 * 131072.0 / 50e9);
}

// A transfer at a link's health over time: slowed, waiting while the link is down, never through
// when it stays down.
TEST(Serving, TransferEndFollowsTheLinksHealth) {
  EXPECT_DOUBLE_EQ(TransferEndS(3, 10, 5, {}), 5);
  // 1 byte by t 10 at full speed, the other at half speed.
  EXPECT_DOUBLE_EQ(TransferEndS(9, 2, 1, {{10, 0.5}}), 12);
  EXPECT_DOUBLE_EQ(TransferEndS(11, 2, 1, {{10, 0.5}, {12, 1}}), 13.5);
  EXPECT_DOUBLE_EQ(TransferEndS(1, 1, 1, {{0, 0}, {5, 1}}), 6);
  EXPECT_TRUE(std::isinf(TransferEndS(1, 1, 1, {{0, 0}})));
  EXPECT_TRUE(std::isinf(TransferEndS(1, 3, 1, {{2, 0}})));
}

// Issue #18: a fault of a prefill replica's link slows its KV transfers (the site finds which
// faults reach which replica: site/service_faults.h).
TEST(Serving, AFaultyLinkSlowsTheKvTransfer) {
  ServiceSetup s = Llama8b(4);
  s.pd.prefill_replicas = 1;
  s.pd.link_bytes_per_s = 50e9;
  const RequestSet set = Fixed(100, 0.2, 2000, 100);
  const ServingResult healthy = Serve(s, set, 1);
  EXPECT_EQ(healthy.kv_transfers_slowed, 0);
  // At 10 % for the whole run each 262 MB transfer takes 9 times its 5.2 ms longer; 0.2 s apart,
  // none waits for the one before.
  s.pd.prefill_link_health = {{{0, 0.1}}};
  const ServingResult slow = Serve(s, set, 1);
  EXPECT_EQ(slow.completed, 100);
  EXPECT_EQ(slow.kv_transfers_slowed, 100);
  EXPECT_NEAR(slow.kv_fault_delay_s, 100 * 9 * 2000 * 131072.0 / 50e9, 1e-9);
  EXPECT_GT(slow.itl.p99, 10 * 2000 * 131072.0 / 50e9);
  EXPECT_EQ(slow.kv_transfers_lost, 0);
  // Down from 5 s to 6 s: the transfers of that second wait for the repair; all finish.
  s.pd.prefill_link_health = {{{5, 0}, {6, 1}}};
  const ServingResult blip = Serve(s, set, 1);
  EXPECT_EQ(blip.completed, 100);
  EXPECT_GE(blip.kv_transfers_slowed, 4);
  EXPECT_LE(blip.kv_transfers_slowed, 6);
  EXPECT_GT(blip.e2e.max, healthy.e2e.max);
  // Down from 5 s for good: every later transfer is lost and its request never finishes.
  s.pd.prefill_link_health = {{{5, 0}}};
  const ServingResult down = Serve(s, set, 1);
  EXPECT_GT(down.kv_transfers_lost, 60);
  EXPECT_EQ(down.completed + down.kv_transfers_lost, 100);
  // Crawling from 5 s to the run's end at 60 s: the transfers are lost within the run, not
  // delayed past it.
  s.end_s = 60;
  s.pd.prefill_link_health = {{{5, 1e-6}}};
  const ServingResult crawl = Serve(s, set, 1);
  EXPECT_GT(crawl.kv_transfers_lost, 60);
  EXPECT_LT(crawl.kv_fault_delay_s, 1.0);
  s.end_s = std::numeric_limits<double>::infinity();
  // The second replica's health does not apply to the only prefill replica.
  s.pd.prefill_link_health = {{}, {{0, 0}}};
  EXPECT_EQ(Serve(s, set, 1).completed, 100);
}

// A 12 h chat load, busy from 6 h to 12 h (0.2 of its 2 req/s otherwise), and the 8-replica
// Llama-3-8B service autoscaling over it (1 to 8 replicas, target 50 %, 60 s interval, 120 s
// spin-up), as two tests below use them.
RequestSet DiurnalChat() {
  SyntheticSource d;
  d.label = "chat";
  d.rate_per_s = 2;
  d.end_s = 12 * 3600;
  d.prompt = {LengthDistribution::Kind::kLognormal, 1000, 1.0, 16000};
  d.output = {LengthDistribution::Kind::kLognormal, 250, 1.0, 4000};
  d.diurnal.emplace();
  for (size_t h = 0; h < 24; ++h) (*d.diurnal)[h] = h < 6 || h >= 12 ? 0.2 : 1.0;
  return Generate({d}, 3);
}

ServiceSetup AutoscaledChat() {
  ServiceSetup s = Llama8b(8);
  s.end_s = 12 * 3600;
  s.engine.max_seqs = 8;
  s.autoscale = {true, 1, 8, 0.5, 60, 120};
  return s;
}

TEST(Serving, AutoscalingFollowsADiurnalLoadBetweenItsBounds) {
  const RequestSet set = DiurnalChat();
  ServiceSetup s = AutoscaledChat();
  const ServingResult r = Serve(s, set, 1);
  ServiceSetup fixed = Llama8b(8);
  fixed.engine.max_seqs = 8;
  fixed.end_s = 12 * 3600;
  const ServingResult all = Serve(fixed, set, 1);
  EXPECT_GT(r.replicas_peak, 1);
  EXPECT_LE(r.replicas_peak, 8);
  EXPECT_GT(r.scale_events, 2);
  EXPECT_LT(r.replica_hours, 0.8 * all.replica_hours);
  EXPECT_NEAR(all.replica_hours, 8 * 12, 1e-6);
  EXPECT_NEAR(r.completed, all.completed, 10);  // a few still running at the end
  std::printf(
      "autoscaled: %.1f replica-hours (fixed 8: %.1f), peak %d, %d scale events, p99 "
      "TTFT %.3f s (fixed %.3f s)\n",
      r.replica_hours, all.replica_hours, r.replicas_peak, r.scale_events, r.ttft.p99,
      all.ttft.p99);
  // The demand a scheduler's pool sees (ServingResult::replicas_held): the fixed fleet holds its
  // 8 replicas from the start; the autoscaled one starts at 1, steps in time order between its
  // bounds, peaks where replicas_peak says, and its integral is the replica-hours.
  ASSERT_EQ(all.replicas_held.size(), 1u);
  EXPECT_EQ(all.replicas_held[0].t_s, 0.0);
  EXPECT_EQ(all.replicas_held[0].replicas, 8);
  ASSERT_GT(r.replicas_held.size(), 2u);
  EXPECT_EQ(r.replicas_held[0].t_s, 0.0);
  EXPECT_EQ(r.replicas_held[0].replicas, 1);
  double held_h = 0;
  int peak = 0;
  for (size_t i = 0; i < r.replicas_held.size(); ++i) {
    const ReplicaStep& st = r.replicas_held[i];
    const double next = i + 1 < r.replicas_held.size() ? r.replicas_held[i + 1].t_s : s.end_s;
    ASSERT_LT(st.t_s, next);
    EXPECT_GE(st.replicas, 1);
    EXPECT_LE(st.replicas, 8);
    held_h += st.replicas * (next - st.t_s) / 3600;
    peak = std::max(peak, st.replicas);
  }
  std::printf("held series: %zu steps, %.4f replica-hours (replica_hours %.4f)\n",
              r.replicas_held.size(), held_h, r.replica_hours);
  EXPECT_EQ(peak, r.replicas_peak);
  EXPECT_NEAR(held_h, r.replica_hours, 1e-9 * r.replica_hours);
}

// A light load (one short request every 10 s for the hour) keeps an autoscaled service at its 2
// minimum replicas, deciding every 5 min: by hand 2 replicas x 1 h = 2 replica-hours, the area
// of its replicas_held (2 from 0). Counting each decision's replicas for the interval after it
// gave 11 decisions x 2 x 5 min = 1.833 h: the 2 replicas x 5 min before the first one missing.
TEST(Serving, AutoscaledReplicaHoursCountFromTheStart) {
  ServiceSetup s = Llama8b(4);
  s.end_s = 3600;
  s.autoscale = {true, 2, 4, 0.5, 300, 60};
  const ServingResult r = Serve(s, Fixed(360, 10, 100, 20), 1);
  ASSERT_EQ(r.replicas_held.size(), 1u);
  EXPECT_EQ(r.replicas_held[0].replicas, 2);
  std::printf("2 replicas held for 1 h: replica_hours %.6f\n", r.replica_hours);
  EXPECT_DOUBLE_EQ(r.replica_hours, 2.0);
  EXPECT_EQ(r.scale_events, 0);
}

// The autoscaled service above (3 or 4 replicas through its busy hours), capped at 2 replicas
// from 7 h to 10 h as a scheduler's pool that granted no more would: the replicas holding GPUs
// never exceed the cap there (those above it go off at once, their sequences rerouted and
// recomputed), the autoscaler climbs back after it, and the fewer replicas cost latency and
// recomputed prefill.
TEST(Serving, ACapHoldsTheReplicasDownAndTheirWorkMoves) {
  const RequestSet set = DiurnalChat();
  ServiceSetup s = AutoscaledChat();
  const ServingResult free = Serve(s, set, 1);
  s.replica_cap = {{0, 8}, {7 * 3600, 2}, {10 * 3600, 8}};
  const ServingResult capped = Serve(s, set, 1);
  int peak_capped = 0, peak_after = 0;
  for (size_t i = 0; i < capped.replicas_held.size(); ++i) {
    const ReplicaStep& st = capped.replicas_held[i];
    if (st.t_s >= 7 * 3600 && st.t_s < 10 * 3600) peak_capped = std::max(peak_capped, st.replicas);
    if (st.t_s >= 10 * 3600) peak_after = std::max(peak_after, st.replicas);
  }
  std::printf(
      "capped at 2 from 7 h to 10 h: peak %d there, %d after; TTFT p99 %.3f s (free %.3f s); "
      "prefill tokens %.0f (free %.0f); finished %.0f of %.0f (free %.0f)\n",
      peak_capped, peak_after, capped.ttft.p99, free.ttft.p99, capped.prefill_tokens,
      free.prefill_tokens, capped.completed, capped.requests, free.completed);
  EXPECT_GT(free.replicas_peak, 2);
  EXPECT_EQ(peak_capped, 2);
  EXPECT_GT(peak_after, 2);
  EXPECT_GT(capped.ttft.p99, free.ttft.p99);
  EXPECT_GT(capped.prefill_tokens, free.prefill_tokens);
  EXPECT_EQ(capped.requests, free.requests);
  EXPECT_GT(capped.completed, 0.95 * free.completed);
}

TEST(Serving, SampledFleetMatchesTheFullSimulation) {
  SyntheticSource src;
  src.label = "chat";
  src.rate_per_s = 60;
  src.end_s = 1800;
  src.prompt = {LengthDistribution::Kind::kLognormal, 1000, 1.0, 16000};
  src.output = {LengthDistribution::Kind::kLognormal, 250, 1.0, 4000};
  const RequestSet set = Generate({src}, 5);
  ServiceSetup s = Llama8b(64);
  s.routing = Routing::kRoundRobin;
  s.end_s = 1800;
  const ServingResult full = Serve(s, set, 1);
  s.sample_replicas = 8;
  const ServingResult part = Serve(s, set, 1);
  auto rel = [](double a, double b) { return std::abs(a - b) / b; };
  std::printf(
      "sampled 8 of 64 replicas vs all: energy %.2f%%, output tokens %.2f%%, TTFT p50 "
      "%.2f%% p99 %.2f%%, TPOT p50 %.2f%%\n",
      100 * rel(part.gpu_energy_j, full.gpu_energy_j),
      100 * rel(part.output_tokens, full.output_tokens), 100 * rel(part.ttft.p50, full.ttft.p50),
      100 * rel(part.ttft.p99, full.ttft.p99), 100 * rel(part.tpot.p50, full.tpot.p50));
  EXPECT_LT(rel(part.gpu_energy_j, full.gpu_energy_j), 0.02);
  EXPECT_LT(rel(part.output_tokens, full.output_tokens), 0.05);
  EXPECT_LT(rel(part.ttft.p50, full.ttft.p50), 0.1);
  EXPECT_LT(rel(part.tpot.p50, full.tpot.p50), 0.05);
  EXPECT_EQ(part.gpu_power_w.size(), full.gpu_power_w.size());
}

TEST(Serving, SameSeedSameResults) {
  ServiceSetup s = Llama8b(8);
  s.sample_replicas = 2;
  const RequestSet set = Fixed(2000, 0.01, 700, 150);
  const ServingResult a = Serve(s, set, 42), b = Serve(s, set, 42);
  EXPECT_EQ(a.gpu_power_w, b.gpu_power_w);
  EXPECT_EQ(a.ttft.p99, b.ttft.p99);
  EXPECT_EQ(a.completed, b.completed);
}

TEST(Serving, ProblemsAreExplained) {
  ServiceSetup s = Llama8b(2);
  s.replica.model = scenario::BuiltinCatalog().models.at("llama3-405b");
  EXPECT_NE(ServiceProblem(s).find("leave no room for a KV cache"), std::string::npos);
  s = Llama8b(2);
  s.replica.tp = 3;
  EXPECT_NE(ServiceProblem(s).find("does not divide"), std::string::npos);
  s = Llama8b(2);
  s.pd.prefill_replicas = 2;
  EXPECT_NE(ServiceProblem(s).find("decode replica"), std::string::npos);
  s = Llama8b(2);
  s.replica.pp = 33;
  EXPECT_NE(ServiceProblem(s).find("pp 33 is more pipeline stages than the model's 32 layers"),
            std::string::npos)
      << ServiceProblem(s);
}

// Issue #16 case 3: a replica whose pp does not divide the layers (llama3-8b's 32 on pp 3: 11, 11,
// 10) loads and serves; one request decodes at the ITL of EstimateInference, which the 11-layer
// stages pace, and a 33-layer model on pp 3 (even) serves it in the same time.
TEST(Serving, UnevenPipelineStagesLoadAndServe) {
  ServiceSetup s = Llama8b();
  s.replica.pp = 3;
  ASSERT_EQ(ServiceProblem(s), "");
  const ServingResult r = Serve(s, Fixed(1, 0, 1000, 101), 1);
  ASSERT_EQ(r.completed, 1);
  InferenceSetup one = s.replica;
  one.batch = 1;
  one.prompt_tokens = 1000;
  one.output_tokens = 100;
  const InferenceEstimate e = EstimateInference(one);
  EXPECT_EQ(e.layers_per_stage, (std::vector<int>{11, 11, 10}));
  EXPECT_NEAR(r.tpot.mean, ToSeconds(e.itl), 0.01 * ToSeconds(e.itl));
  ServiceSetup even = s;
  even.replica.model.layers = 33;
  const ServingResult r33 = Serve(even, Fixed(1, 0, 1000, 101), 1);
  std::printf(
      "llama3-8b on pp 3 (11, 11, 10): TPOT %.6f s, a 33-layer model on pp 3 %.6f s, "
      "EstimateInference %.6f s\n",
      r.tpot.mean, r33.tpot.mean, ToSeconds(e.itl));
  EXPECT_DOUBLE_EQ(r.tpot.mean, r33.tpot.mean);
  EXPECT_DOUBLE_EQ(r.ttft.mean, r33.ttft.mean);
  // A busy fleet serves every request.
  ServiceSetup fleet = s;
  fleet.replicas = 4;
  fleet.end_s = 600;
  const ServingResult busy = Serve(fleet, Fixed(2000, 0.05, 700, 150), 1);
  EXPECT_EQ(busy.completed, 2000);
  EXPECT_GT(busy.gpu_energy_j, 0);
}

TEST(LatencyHistogram, PercentilesWithinHalfAPercent) {
  LatencyHistogram h;
  for (int i = 1; i <= 10000; ++i) h.Add(i * 1e-3);
  const Percentiles p = h.Summary();
  EXPECT_NEAR(p.p50, 5.0, 0.005 * 5.0 + 1e-3);
  EXPECT_NEAR(p.p90, 9.0, 0.005 * 9.0 + 1e-3);
  EXPECT_NEAR(p.p99, 9.9, 0.005 * 9.9 + 1e-3);
  EXPECT_NEAR(p.mean, 5.0005, 1e-9);
}

}  // namespace
}  // namespace firstwall::workload
