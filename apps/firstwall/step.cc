// firstwall step: the training performance model for one layout, or a search over layouts.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "apps/firstwall/catalog_args.h"
#include "apps/firstwall/commands.h"
#include "report/outputs.h"
#include "report/text_format.h"
#include "scenario/catalog.h"
#include "scenario/reader.h"
#include "units/parse.h"
#include "workload/layout_search.h"

namespace firstwall::cli {
namespace {
using namespace units;

// Values as written; each is read through the declaration of the scenario key it stands for
// (Setup), so the command line and a scenario accept the same values.
struct StepOptions {
  std::string model, gpu;
  std::string gpus;
  std::string tp, dp;  // read when given; otherwise tp is a full node (or --gpus), dp what is left
  bool tp_given = false, dp_given = false;
  std::string pp = "1", cp = "1", ep = "1", vpp = "1";
  std::string layers_per_stage;  // "7,8,...,7"; read when given, else automatic
  bool layers_per_stage_given = false;
  std::string global_batch = "1024";
  std::string micro_batch = "auto";
  std::string seq = "4096";
  std::string recompute = "auto";
  bool sequence_parallel = false;
  std::string zero = "1";
  std::string ep_overlap = "none";
  std::string layer_kernels = "eager";
  std::string dtype = "auto";
  std::string gpus_per_node = "8";
  std::string nic_bandwidth = "400 Gb/s";
  bool search = false;
  std::vector<std::string> searched_given;  // options the search chooses itself, given anyway
  bool json = false;
  bool ops = false;
};

[[noreturn]] void Bad(const std::string& option, const std::string& message,
                      const std::string& hint = {}) {
  BadOption(option, message, hint);
}

// The option `option` holding `text`, read as the scenario key `key` of a training job or cluster.
scenario::OptionValue Option(std::string_view key, std::string option, std::string text) {
  return scenario::OptionValue(scenario::ScenarioSchema(), key, std::move(option), std::move(text));
}

workload::TrainingSetup Setup(const StepOptions& o, int* gpus) {
  workload::TrainingSetup s;
  s.gpu = GpuArg(o.gpu);
  s.model = ModelArg(o.model);
  s.dtype = DtypeArg(o.dtype, s.gpu, "workloads[].dtype");
  s.nic_bandwidth =
      Option("cluster.nic_bandwidth", "--nic-bandwidth", o.nic_bandwidth).Quantity<Bandwidth>();
  *gpus = Option("workloads[].gpus", "--gpus", o.gpus).Int();
  s.nvlink_domain = Option("cluster.gpus_per_node", "--gpus-per-node", o.gpus_per_node).Int();
  s.link_latency = Microseconds(5);
  s.global_batch = Option("workloads[].global_batch", "--global-batch", o.global_batch).Int();
  s.sequence_length = Option("workloads[].sequence_length", "--seq", o.seq).Int();
  s.zero = Option("workloads[].zero", "--zero", o.zero).Int();
  const std::string recompute = Option("workloads[].recompute", "--recompute", o.recompute).Enum();
  s.recompute_auto = recompute == "auto";
  s.recompute = recompute == "full"        ? workload::Recompute::kFull
                : recompute == "selective" ? workload::Recompute::kSelective
                                           : workload::Recompute::kNone;
  const auto micro_batch = Option("workloads[].micro_batch", "--micro-batch", o.micro_batch);
  s.micro_batch = micro_batch.IsWord() ? 0 : micro_batch.Int();
  // Degrees: tp defaults to a full node (or the GPU count), dp is what is left.
  s.tp =
      !o.tp_given ? std::min(*gpus, s.nvlink_domain) : Option("workloads[].tp", "--tp", o.tp).Int();
  s.pp = Option("workloads[].pp", "--pp", o.pp).Int();
  s.cp = Option("workloads[].cp", "--cp", o.cp).Int();
  s.ep = Option("workloads[].ep", "--ep", o.ep).Int();
  s.vpp = Option("workloads[].vpp", "--vpp", o.vpp).Int();
  if (o.layers_per_stage_given) {
    s.layers_per_stage =
        Option("workloads[].layers_per_stage", "--layers-per-stage", o.layers_per_stage).Integers();
  }
  s.sequence_parallel = o.sequence_parallel && s.tp > 1;
  s.ep_overlap = Option("workloads[].ep_overlap", "--ep-overlap", o.ep_overlap).Enum() == "dualpipe"
                     ? workload::EpOverlap::kDualPipe
                     : workload::EpOverlap::kNone;
  if (s.ep_overlap == workload::EpOverlap::kDualPipe && !s.model.IsMoe()) {
    Bad("--ep-overlap", s.model.name + " is a dense model: it has no expert all-to-all to overlap",
        "leave --ep-overlap out (none)");
  }
  s.layer_kernels =
      Option("workloads[].layer_kernels", "--layer-kernels", o.layer_kernels).Enum() == "fused"
          ? workload::LayerKernels::kFused
          : workload::LayerKernels::kEager;
  // The search chooses the layout itself: the single layout's divisibility is not asked of --gpus.
  if (o.search) return s;
  // Products in 64 bits: every degree is within its bounds, but their product need not fit an int.
  const int64_t model_parallel = int64_t{s.tp} * s.pp * s.cp;
  if (*gpus % model_parallel != 0) {
    Bad("--gpus", txt::format("{} GPUs do not divide into tp x pp x cp = {} x {} x {} = {}", *gpus,
                              s.tp, s.pp, s.cp, model_parallel));
  }
  s.dp = !o.dp_given ? static_cast<int>(*gpus / model_parallel)
                     : Option("workloads[].dp", "--dp", o.dp).Int();
  if (s.dp * model_parallel != *gpus) {
    Bad("--dp", txt::format("tp x pp x cp x dp = {} x {} x {} x {} = {}, but --gpus is {}", s.tp,
                            s.pp, s.cp, s.dp, s.dp * model_parallel, *gpus));
  }
  return s;
}

// Where the pipeline split comes from: given, even (pp x vpp divides the layers) or balanced.
std::string SplitKind(const workload::TrainingSetup& s) {
  if (!s.layers_per_stage.empty()) return "given";
  return s.model.layers % (s.pp * s.vpp) == 0 ? "even" : "balanced";
}

nlohmann::ordered_json EstimateJson(const workload::TrainingSetup& s,
                                    const workload::StepEstimate& e) {
  nlohmann::ordered_json j;
  j["model"] = s.model.name;
  j["gpu"] = s.gpu.name;
  j["gpus"] = e.gpus;
  j["layout"] = {{"tp", s.tp},
                 {"pp", s.pp},
                 {"dp", s.dp},
                 {"cp", s.cp},
                 {"ep", s.ep},
                 {"vpp", s.vpp},
                 {"zero", s.zero},
                 {"sequence_parallel", s.sequence_parallel},
                 {"ep_overlap", std::string(workload::EpOverlapName(s.ep_overlap))},
                 {"layer_kernels", std::string(workload::LayerKernelsName(s.layer_kernels))}};
  j["layout"]["layers_per_stage"] = e.layers_per_stage;
  j["layout"]["split"] = SplitKind(s);
  j["layout"]["slowest_stage"] = e.slowest_stage;
  j["global_batch"] = s.global_batch;
  j["sequence_length"] = s.sequence_length;
  j["dtype"] = std::string(hardware::DataTypeName(s.dtype));
  j["attention"] = workload::AttentionKernelName(s.gpu, s.attention);
  j["step_time_s"] = ToSeconds(e.step_time);
  j["model_flops_per_step"] = ToFlop(e.model_flops);
  j["model_tflops_per_gpu"] = ToFlopPerSecond(e.model_flop_rate_per_gpu) / 1e12;
  j["mfu"] = e.mfu;
  // The FLOP convention of model_flops_per_step and mfu (docs/models.md, "FLOP accounting").
  j["attention_flops"] = "causal";
  j["hardware_flops_per_step"] = ToFlop(e.hardware_flops);
  j["achieved_tflops_per_gpu"] = ToFlopPerSecond(e.achieved_flop_rate_per_gpu) / 1e12;
  j["hfu"] = e.hfu;
  j["tokens_per_s"] = e.tokens_per_step / ToSeconds(e.step_time);
  j["memory_per_gpu_bytes"] = ToBytes(e.memory.Total());
  j["memory_breakdown_bytes"] = {{"weights", ToBytes(e.memory.weights)},
                                 {"gradients", ToBytes(e.memory.gradients)},
                                 {"optimizer", ToBytes(e.memory.optimizer)},
                                 {"activations", ToBytes(e.memory.activations)},
                                 {"reserved", ToBytes(e.memory.reserved)}};
  j["hbm_capacity_bytes"] = ToBytes(s.gpu.hbm_capacity);
  j["fits_in_memory"] = e.fits_in_memory;
  j["micro_batch"] = e.micro_batch;
  j["recompute"] = std::string(workload::RecomputeName(e.recompute));
  j["breakdown_s"] = report::BreakdownJson(e.breakdown);
  j["ep_comm_total_s"] = ToSeconds(e.ep_comm_total);
  auto ops = [](const std::vector<workload::OpCost>& v) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const auto& op : v) {
      a.push_back({{"name", op.name},
                   {"forward_flops", op.flops},
                   {"forward_bytes", op.bytes},
                   {"forward_s", ToSeconds(op.forward)},
                   {"backward_s", ToSeconds(op.backward)}});
    }
    return a;
  };
  j["ops_per_micro_batch"] = {
      {"layer", ops(e.layer_ops)}, {"head", ops(e.head_ops)}, {"embedding", ops(e.embedding_ops)}};
  return j;
}

void PrintOps(const workload::StepEstimate& e) {
  std::cout << txt::format("\n  per micro-batch of {} sequences on one GPU:\n", e.micro_batch);
  std::cout << txt::format("    {:<30} {:>12} {:>12} {:>10} {:>10} {:>8}\n", "operator",
                           "fwd GFLOP", "fwd MB", "fwd ms", "bwd ms", "TFLOP/s");
  auto rows = [](const char* title, const std::vector<workload::OpCost>& ops) {
    std::cout << "    " << title << "\n";
    for (const auto& op : ops) {
      const double f = ToSeconds(op.forward);
      std::cout << txt::format(
          "    {:<30} {:>12.2f} {:>12.2f} {:>10.4f} {:>10.4f} {:>8}\n", op.name, op.flops / 1e9,
          op.bytes / 1e6, 1e3 * f, 1e3 * ToSeconds(op.backward),
          op.flops > 0 && f > 0 ? txt::format("{:.0f}", op.flops / f / 1e12) : std::string("-"));
    }
  };
  rows("one transformer layer:", e.layer_ops);
  rows("output head (last stage):", e.head_ops);
  rows("embedding (first stage):", e.embedding_ops);
}

std::string LayoutText(const workload::TrainingSetup& s, const workload::StepEstimate& e) {
  return txt::format("tp {} pp {} vpp {} cp {} dp {} ep {} | mb {:>2} {:<9} zero {}", s.tp, s.pp,
                     s.vpp, s.cp, s.dp, s.ep, e.micro_batch, workload::RecomputeName(e.recompute),
                     s.zero);
}

// The data type and attention kernel chosen from the GPU's card: "fp16 with loss scaling, unfused
// attention".
std::string KernelText(const workload::TrainingSetup& s) {
  return txt::format("{}{}, {} attention, {} layer kernels", hardware::DataTypeName(s.dtype),
                     s.dtype == hardware::DataType::kFp16 ? " with loss scaling" : "",
                     workload::AttentionKernelName(s.gpu, s.attention),
                     workload::LayerKernelsName(s.layer_kernels));
}

int Step(const StepOptions& o) {
  // --search varies these itself; given anyway they were silently ignored.
  if (o.search && !o.searched_given.empty()) {
    std::string all;
    for (const std::string& name : o.searched_given) all += (all.empty() ? "" : ", ") + name;
    Bad(o.searched_given.front(),
        all + (o.searched_given.size() > 1 ? " are" : " is") + " chosen by --search, not given",
        "drop " + all + " to search every layout, or drop --search to estimate the layout given");
  }
  int gpus = 0;
  workload::TrainingSetup s = Setup(o, &gpus);
  if (o.search) {
    const workload::SearchResult r = workload::SearchLayouts(s, gpus, 10);
    if (o.json) {
      nlohmann::ordered_json j;
      j["evaluated"] = r.evaluated;
      j["fit"] = r.fit;
      nlohmann::ordered_json best = nlohmann::ordered_json::array();
      for (const auto& c : r.best) best.push_back(EstimateJson(c.setup, c.estimate));
      j["best"] = best;
      j["rejected"] = r.rejected;
      std::cout << txt::json_text(j) << "\n";
      return kOk;
    }
    std::cout << txt::format("{} on {} x {}, global batch {} x {} tokens, {}\n", s.model.name, gpus,
                             s.gpu.name, s.global_batch, s.sequence_length, KernelText(s));
    std::cout << txt::format("evaluated {} configurations, {} fit in {} of HBM\n\n", r.evaluated,
                             r.fit, Readable(s.gpu.hbm_capacity));
    std::cout << txt::format("{:>4}  {:<48} {:>8} {:>6} {:>8} {:>10}\n", "rank", "layout", "step_s",
                             "MFU", "TFLOP/s", "memory");
    int rank = 1;
    for (const auto& c : r.best) {
      std::cout << txt::format("{:>4}  {:<48} {:>8.3f} {:>5.1f}% {:>8.0f} {:>10}\n", rank++,
                               LayoutText(c.setup, c.estimate), ToSeconds(c.estimate.step_time),
                               100 * c.estimate.mfu,
                               ToFlopPerSecond(c.estimate.model_flop_rate_per_gpu) / 1e12,
                               Readable(c.estimate.memory.Total()));
    }
    if (!r.rejected.empty()) {
      std::cout << "\nnot ranked:\n";
      for (const auto& [why, n] : r.rejected) {
        std::cout << txt::format("  {:>8}  {}", n, why);
        if (why == "does not fit in memory") {
          std::cout << txt::format(" (the smallest needs {})",
                                   Readable(r.smallest_infeasible_memory));
        }
        std::cout << "\n";
      }
    }
    return kOk;
  }
  if (!s.layers_per_stage.empty()) {
    const std::string split = workload::StageSplitProblem(s);
    if (!split.empty()) Bad("--layers-per-stage", split);
  }
  const std::string problem = workload::LayoutProblem(s);
  if (!problem.empty()) Bad("--tp/--pp/--dp/--cp/--ep/--vpp", problem);
  const workload::StepEstimate e = workload::EstimateStep(s);
  if (o.json) {
    std::cout << txt::json_text(EstimateJson(s, e)) << "\n";
    return kOk;
  }
  const auto& b = e.breakdown;
  std::cout << txt::format("{} on {} x {}: {}\n", s.model.name, e.gpus, s.gpu.name,
                           LayoutText(s, e));
  std::cout << txt::format("  kernels          {}\n", KernelText(s));
  std::cout << txt::format("  step time        {:>10.4f} s   ({:.0f} tokens/s)\n",
                           ToSeconds(e.step_time), e.tokens_per_step / ToSeconds(e.step_time));
  for (const auto& [name, d] : {std::pair{"compute", b.compute},
                                {"tp comm", b.tp_comm},
                                {"pp bubble", b.pp_bubble},
                                {"pp p2p", b.pp_p2p},
                                {"dp comm exposed", b.dp_comm_exposed},
                                {"cp comm", b.cp_comm},
                                {"ep comm", b.ep_comm},
                                {"optimizer", b.optimizer}}) {
    std::cout << txt::format("    {:<16} {:>10.4f} s  {:5.1f}%\n", name, ToSeconds(d),
                             100 * (d / e.step_time));
  }
  if (s.ep_overlap != workload::EpOverlap::kNone && e.ep_comm_total > Seconds(0)) {
    std::cout << txt::format(
        "    (ep all-to-all {:.4f} s in all, {} overlap: exposed and SM contention above)\n",
        ToSeconds(e.ep_comm_total), workload::EpOverlapName(s.ep_overlap));
  }
  if (s.pp > 1) {
    std::cout << txt::format("  pipeline stages  {} layers ({}), slowest stage {}\n",
                             fmt::join(e.layers_per_stage, " "), SplitKind(s), e.slowest_stage);
  }
  std::cout << txt::format(
      "  MFU {:.1f}%, {:.0f} model TFLOP/s per GPU, {:.3g} model FLOP per step (causal attention: "
      "half the score matrix)\n",
      100 * e.mfu, ToFlopPerSecond(e.model_flop_rate_per_gpu) / 1e12, ToFlop(e.model_flops));
  std::cout << txt::format(
      "  executed         {:.0f} TFLOP/s on the busiest GPU; HFU {:.1f}% (all GPUs; recomputation "
      "included)\n",
      ToFlopPerSecond(e.achieved_flop_rate_per_gpu) / 1e12, 100 * e.hfu);
  std::cout << txt::format(
      "  memory per GPU   {} of {} ({}): weights {}, gradients {}, optimizer {}, activations {}, "
      "reserved {}\n",
      Readable(e.memory.Total()), Readable(s.gpu.hbm_capacity),
      e.fits_in_memory ? "fits" : "DOES NOT FIT", Readable(e.memory.weights),
      Readable(e.memory.gradients), Readable(e.memory.optimizer), Readable(e.memory.activations),
      Readable(e.memory.reserved));
  if (o.ops) PrintOps(e);
  return kOk;
}

}  // namespace

Action RegisterStep(CLI::App& app) {
  auto o = std::make_shared<StepOptions>();
  CLI::App* cmd = app.add_subcommand(
      "step",
      "Training step time, MFU and memory of a model on a GPU cluster, or --search for "
      "the fastest layouts");
  cmd->add_option("--model", o->model, "Model card: catalog name or YAML file")->required();
  cmd->add_option("--gpu", o->gpu, "GPU: catalog name")->required();
  cmd->add_option("--gpus", o->gpus, "Total GPUs")->required();
  cmd->add_option("--tp", o->tp, "Tensor-parallel degree (default: one node, or --gpus)");
  cmd->add_option("--pp", o->pp, "Pipeline-parallel degree")->capture_default_str();
  cmd->add_option("--dp", o->dp, "Data-parallel degree (default: gpus / (tp x pp x cp))");
  cmd->add_option("--cp", o->cp, "Context-parallel degree")->capture_default_str();
  cmd->add_option("--ep", o->ep, "Expert-parallel degree (MoE)")->capture_default_str();
  cmd->add_option("--vpp", o->vpp, "Virtual pipeline stages per GPU")->capture_default_str();
  cmd->add_option("--layers-per-stage", o->layers_per_stage,
                  "Transformer layers on each pipeline stage, first to last, e.g. 7,8,8,7 (pp "
                  "entries summing to the model's layers; default: even, or balanced when pp x "
                  "vpp does not divide the layers, counting the embedding and the output head)");
  cmd->add_option("--global-batch", o->global_batch, "Sequences per step")->capture_default_str();
  cmd->add_option("--micro-batch", o->micro_batch, "Sequences per micro-batch, or auto")
      ->capture_default_str();
  cmd->add_option("--seq", o->seq, "Tokens per sequence")->capture_default_str();
  cmd->add_option("--recompute", o->recompute, "none, selective, full or auto")
      ->capture_default_str();
  cmd->add_flag("--sequence-parallel", o->sequence_parallel, "Sequence parallelism with tp > 1");
  cmd->add_option("--zero", o->zero, "ZeRO stage 0-3")->capture_default_str();
  cmd->add_option("--layer-kernels", o->layer_kernels,
                  "Non-GEMM work of a layer: eager (PyTorch FSDP, TorchTitan) or fused "
                  "(Megatron-LM, Transformer Engine)")
      ->capture_default_str();
  cmd->add_option("--ep-overlap", o->ep_overlap,
                  "Expert all-to-all overlap: none, or dualpipe (hidden under another "
                  "micro-batch's compute, DeepSeek-V3)")
      ->capture_default_str();
  cmd->add_option("--dtype", o->dtype,
                  "auto (bf16 where the GPU card has it, else fp16), fp32, tf32, fp16, bf16, fp8 "
                  "or fp4 (GEMM inputs; one the GPU has)")
      ->capture_default_str();
  cmd->add_option("--gpus-per-node", o->gpus_per_node, "GPUs per node (NVLink domain)")
      ->capture_default_str();
  cmd->add_option("--nic-bandwidth", o->nic_bandwidth, "Network bandwidth per GPU, with unit")
      ->capture_default_str();
  cmd->add_flag("--search", o->search,
                "Rank layouts, micro-batches, recomputation and ZeRO stages; print the 10 fastest "
                "that fit and why the others do not");
  cmd->add_flag("--json", o->json, "Print JSON");
  cmd->add_flag("--ops", o->ops,
                "Also print each operator of a layer and of the output head: FLOPs, bytes, time");
  return [o, cmd] {
    o->tp_given = cmd->count("--tp") > 0;
    o->dp_given = cmd->count("--dp") > 0;
    o->layers_per_stage_given = cmd->count("--layers-per-stage") > 0;
    o->searched_given.clear();
    for (const char* name : {"--tp", "--pp", "--dp", "--cp", "--ep", "--vpp", "--layers-per-stage",
                             "--micro-batch", "--recompute", "--zero", "--sequence-parallel"}) {
      if (cmd->count(name) > 0) o->searched_given.emplace_back(name);
    }
    return Step(*o);
  };
}

}  // namespace firstwall::cli
