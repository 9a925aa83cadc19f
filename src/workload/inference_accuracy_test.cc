// The inference model's per-layer operators against vidur's measured H100 profile of Llama-2-70B
// (../shared/data/calibration/vidur_h100_llama2_70b_mlp.csv): GEMMs by token count and TP degree,
// and the non-GEMM kernels together.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>

#include "hardware/calibration_data.h"
#include "scenario/catalog.h"
#include "workload/inference.h"

namespace firstwall::workload {
namespace {

ModelCard Llama2_70b() {
  ModelCard m;
  m.name = "llama2-70b";
  m.layers = 80;
  m.hidden_size = 8192;
  m.attention_heads = 64;
  m.kv_heads = 8;
  m.ffn_hidden_size = 28672;
  m.ffn_type = FfnType::kSwiglu;
  m.vocab_size = 32000;
  return m;
}

TEST(InferenceAccuracy, LayerOperatorsAgainstVidurH100) {
  const auto t = firstwall::testing::ReadCalibrationCsv("vidur_h100_llama2_70b_mlp.csv");
  if (t.rows.empty())
    GTEST_SKIP() << "../shared/data/calibration/vidur_h100_llama2_70b_mlp.csv absent";
  InferenceSetup s;
  s.model = Llama2_70b();
  s.gpu = scenario::BuiltinCatalog().gpus.at("H100-SXM5-80GB");
  s.prompt_tokens = 1;
  s.output_tokens = 1;
  // vidur operator -> ours; the non-GEMM kernels are compared as one sum.
  const std::map<std::string, std::string> gemms = {{"attn_pre_proj", "qkv_proj"},
                                                    {"attn_post_proj", "out_proj"},
                                                    {"mlp_up_proj", "mlp_up_proj"},
                                                    {"mlp_down_proj", "mlp_down_proj"}};
  std::map<std::string, std::pair<double, int>> error;  // sum of |error|, count
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const double tokens = t.Number(r, "num_tokens");
    s.tp = static_cast<int>(t.Number(r, "num_tensor_parallel_workers"));
    s.batch = static_cast<int>(tokens);
    const InferenceEstimate e = EstimateInference(s);
    std::map<std::string, double> ours;
    for (const OpCost& op : e.decode_ops) ours[op.name] = units::ToSeconds(op.forward);
    auto add = [&](const std::string& key, double model_s, double measured_s) {
      auto& [sum, n] = error[key];
      sum += std::abs(model_s - measured_s) / measured_s;
      ++n;
    };
    for (const auto& [theirs, mine] : gemms) {
      add(theirs, ours.at(mine), t.Number(r, "time_stats." + theirs + ".median") * 1e-3);
    }
    double elementwise = 2 * t.Number(r, "time_stats.add.median");
    for (const char* op : {"input_layernorm", "post_attention_layernorm", "attn_rope", "mlp_act"}) {
      elementwise += t.Number(r, std::string("time_stats.") + op + ".median");
    }
    add(tokens <= 64 ? "non-GEMM kernels, <= 64 tokens" : "non-GEMM kernels, > 64 tokens",
        ours.at("norms_residual_activation"), elementwise * 1e-3);
  }
  std::printf(
      "Llama-2-70B layer operators on H100 vs vidur (1-4,096 tokens, TP 1-8): mean |error|\n");
  for (const auto& [op, v] : error) {
    std::printf("  %-32s %5.1f%% over %d points\n", op.c_str(), 100 * v.first / v.second, v.second);
  }
  for (const auto& [op, v] : error) EXPECT_LT(v.first / v.second, 0.35) << op;
}

}  // namespace
}  // namespace firstwall::workload
