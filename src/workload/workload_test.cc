#include <gtest/gtest.h>

#include "workload/model_card.h"
#include "workload/phase_timeline.h"
#include "workload/training_step.h"

namespace firstwall::workload {
namespace {
using namespace units;

ModelCard Gpt(int layers, int hidden, int heads) {
  ModelCard m;
  m.name = "gpt";
  m.layers = layers;
  m.hidden_size = hidden;
  m.attention_heads = heads;
  m.kv_heads = heads;
  m.ffn_hidden_size = 4 * hidden;
  m.ffn_type = FfnType::kGelu;
  m.vocab_size = 51200;
  m.tied_embeddings = true;
  return m;
}

hardware::GpuSpec A100() {
  hardware::GpuSpec g;
  g.name = "A100";
  g.peak_dense[hardware::DataType::kBf16] = TeraflopPerSecond(312);
  g.hbm_capacity = Gigabytes(80);
  g.hbm_bandwidth = TerabytesPerSecond(2.039);
  g.tdp = Watts(400);
  g.idle_power = Watts(50);
  g.nvlink_bandwidth = GigabytesPerSecond(600);
  return g;
}

TEST(ModelCard, FlopsMatchNarayananClosedForm) {
  // Narayanan et al. SC21: 72 B s l h^2 (1 + s/(6h) + V/(12 l h)) per step without recomputation.
  const ModelCard m = Gpt(96, 12288, 96);  // GPT-3 175B shape
  const double B = 1536, s = 2048, l = 96, h = 12288, V = 51200;
  const double closed = 72 * B * s * l * h * h * (1 + s / (6 * h) + V / (12 * l * h));
  EXPECT_NEAR(3 * m.ForwardFlopsPerToken(2048) * B * s / closed, 1.0, 1e-12);
  EXPECT_NEAR(m.TotalParams() / 1e9, 174.6, 0.2);  // "175B" with tied 51200-token embeddings
}

TEST(TrainingStep, RecomputationAddsAForwardPass) {
  TrainingSetup s;
  s.model = Gpt(24, 2048, 16);
  s.gpu = A100();
  s.tp = 1;
  s.dp = 8;
  s.global_batch = 64;
  s.micro_batch = 2;
  s.nic_bandwidth = GigabitsPerSecond(200);
  s.link_latency = Microseconds(5);
  s.recompute = Recompute::kFull;
  const StepEstimate e = EstimateStep(s);
  EXPECT_NEAR(e.hardware_flops / e.model_flops, 4.0 / 3.0, 1e-12);
  // All of the step is accounted for by the phases.
  double phases = 0;
  for (const Phase& p : e.phases) phases += ToSeconds(p.duration);
  EXPECT_NEAR(phases, ToSeconds(e.step_time), 1e-12);
  EXPECT_GT(e.mfu, 0.0);
  EXPECT_LT(e.mfu, s.compute_efficiency);  // communication and recomputation cost MFU
}

TEST(TrainingStep, RingAllReduceHandComputed) {
  // 1 GB over 4 ranks at 100 GB/s with 10 us per hop: 2*3/4*1e9/1e11 + 6*1e-5 = 0.01506 s.
  EXPECT_NEAR(
      ToSeconds(RingAllReduceTime(Gigabytes(1), 4, GigabytesPerSecond(100), Microseconds(10))),
      0.01506, 1e-12);
  EXPECT_EQ(ToSeconds(RingAllReduceTime(Gigabytes(1), 1, GigabytesPerSecond(1), Seconds(1))), 0);
}

TEST(TrainingStep, DpGroupLeavingTheNodeUsesTheNic) {
  TrainingSetup s;
  s.model = Gpt(24, 2048, 16);
  s.gpu = A100();
  s.global_batch = 64;
  s.nic_bandwidth = GigabitsPerSecond(200);
  s.link_latency = Microseconds(0);
  s.dp = 8;  // fits in one 8-GPU node: NVLink, 300 GB/s per direction
  const Duration in_node = EstimateStep(s).dp_comm;
  s.gpus_per_node = 4;  // now the ring crosses nodes: 25 GB/s NIC
  const Duration cross = EstimateStep(s).dp_comm;
  EXPECT_NEAR(cross / in_node, 300.0 / 25.0, 1e-9);
}

TEST(PhaseTimeline, ClosedFormIntegralsMatchSumsOfSmallWindows) {
  std::vector<Phase> phases = {{"compute", Seconds(2.5), 0.9}, {"comm", Seconds(0.5), 0.3}};
  const SimTime start = SimTime::From(Seconds(10)), end = SimTime::From(Seconds(100));
  PhaseTimeline t(phases, start, end);
  const std::vector<double> act = {0.9, 0.3};
  // Whole run: 30 steps of (2.5 x 0.9 + 0.5 x 0.3) = 2.4 activity-seconds.
  EXPECT_NEAR(t.Integrate(act, SimTime(), SimTime::From(Seconds(200))), 30 * 2.4, 1e-9);
  double sum = 0;
  for (int i = 0; i < 2000; ++i) {
    sum += t.Integrate(act, SimTime::From(Milliseconds(100.0 * i)),
                       SimTime::From(Milliseconds(100.0 * (i + 1))));
  }
  EXPECT_NEAR(sum, 30 * 2.4, 1e-9);
  // Window [11, 13): 1.5 s of compute then 0.5 s of comm.
  EXPECT_NEAR(t.Integrate(act, SimTime::From(Seconds(11)), SimTime::From(Seconds(13))),
              1.5 * 0.9 + 0.5 * 0.3, 1e-12);
  EXPECT_EQ(t.StepsCompletedBy(SimTime::From(Seconds(13))), 1);
  EXPECT_EQ(t.StepsCompletedBy(SimTime::From(Seconds(1000))), 30);
  EXPECT_EQ(t.StepsCompletedBy(SimTime::From(Seconds(5))), 0);
  EXPECT_DOUBLE_EQ(t.RunningSeconds(SimTime(), SimTime::From(Seconds(50))), 40.0);
}

}  // namespace
}  // namespace firstwall::workload
