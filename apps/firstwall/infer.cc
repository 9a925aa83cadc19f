// firstwall infer: one inference replica at a steady decode batch (workload/inference.h).
#include <algorithm>
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "apps/firstwall/catalog_args.h"
#include "apps/firstwall/commands.h"
#include "report/text_format.h"
#include "scenario/reader.h"
#include "scenario/schema.h"
#include "units/parse.h"
#include "workload/inference.h"
#include "workload/speculative.h"

namespace firstwall::cli {
namespace {
using namespace units;

// Values as written; each is read through the declaration of the scenario key of a service it
// stands for, so the command line and a scenario accept the same values.
struct InferOptions {
  std::string model, gpu, dtype = "auto", kv_cache_dtype = "auto";
  std::string tp = "1", pp = "1", ep = "1", batch, prompt, output;
  std::string speculative = "none", draft_tokens, acceptance;
  std::string cached_prefix = "0", tier_link = "50 GB/s";
  std::string nvlink_domain = "8";
  bool two_batch_overlap = false;
  bool json = false;
};

// The numbers of InferOptions, read.
struct Degrees {
  int tp, pp, ep, batch, prompt, output;
};

int Read(std::string_view key, std::string option, std::string text) {
  return scenario::OptionValue(scenario::ScenarioSchema(), key, std::move(option), std::move(text))
      .Int();
}

// --speculative none|draft:MODEL|ngram|mtp with --draft-tokens and --acceptance, read as the keys
// of services[].speculative; checked against the model and layout (SpeculationProblem).
workload::Speculation SpeculationArg(const InferOptions& in, const workload::InferenceSetup& s) {
  const scenario::Schema& schema = scenario::ScenarioSchema();
  workload::Speculation sp;
  if (in.speculative == "none") {
    if (!in.acceptance.empty() || !in.draft_tokens.empty()) {
      BadOption(in.acceptance.empty() ? "--draft-tokens" : "--acceptance",
                "only with --speculative draft:MODEL, ngram or mtp");
    }
    return sp;
  }
  const size_t colon = in.speculative.find(':');
  const std::string method = in.speculative.substr(0, colon);
  sp.method = *workload::SpeculationMethodFromName(
      scenario::OptionValue(schema, "services[].speculative.method", "--speculative", method)
          .Enum());
  if (sp.method == workload::SpeculationMethod::kDraft) {
    const std::string name = colon == std::string::npos ? "" : in.speculative.substr(colon + 1);
    if (name.empty()) {
      BadOption("--speculative", "draft needs its model: draft:NAME",
                "a catalog model or model card file sharing the model's vocabulary, e.g. "
                "draft:llama3-8b");
    }
    sp.draft = ModelArg(name, "--speculative");
  } else if (colon != std::string::npos) {
    BadOption("--speculative",
              "only draft takes a model (draft:NAME); " + method + " drafts without one");
  }
  sp.draft_tokens = in.draft_tokens.empty() ? workload::DefaultDraftTokens(sp.method)
                                            : Read("services[].speculative.draft_tokens",
                                                   "--draft-tokens", in.draft_tokens);
  if (in.acceptance.empty()) {
    BadOption("--acceptance", "--speculative needs the acceptance rate of a drafted token",
              "e.g. --acceptance 0.7 (DeepSeek-V3 reports 0.85-0.9 for its MTP)");
  }
  sp.acceptance = scenario::OptionValue(schema, "services[].speculative.acceptance", "--acceptance",
                                        in.acceptance)
                      .Fraction();
  if (sp.acceptance >= 1) {
    BadOption("--acceptance", "the acceptance rate must be below 1 (at 1 every draft is kept)");
  }
  const std::string problem = workload::SpeculationProblem(s.model, sp, s.tp, s.pp);
  if (!problem.empty()) BadOption("--speculative", problem);
  return sp;
}

int Infer(const InferOptions& in) {
  const Degrees o{Read("services[].tp", "--tp", in.tp),
                  Read("services[].pp", "--pp", in.pp),
                  Read("services[].ep", "--ep", in.ep),
                  Read("services[].engine.max_seqs", "--batch", in.batch),
                  Read("services[].requests[].prompt_tokens", "--prompt-tokens", in.prompt),
                  Read("services[].requests[].output_tokens", "--output-tokens", in.output)};
  workload::InferenceSetup s;
  s.gpu = GpuArg(in.gpu);
  s.model = ModelArg(in.model);
  s.dtype = DtypeArg(in.dtype, s.gpu, "services[].dtype");
  s.kv_cache_fp8 = scenario::OptionValue(scenario::ScenarioSchema(), "services[].kv_cache_dtype",
                                         "--kv-cache-dtype", in.kv_cache_dtype)
                       .Enum() == "fp8";
  s.tp = o.tp;
  s.pp = o.pp;
  s.ep = o.ep;
  // Where the pipeline hand-offs and wide EP's all-to-all stay on NVLink (cluster.nvlink_domain).
  s.nvlink_domain = Read("cluster.nvlink_domain", "--nvlink-domain", in.nvlink_domain);
  s.batch = o.batch;
  s.prompt_tokens = o.prompt;
  s.output_tokens = o.output;
  const workload::ModelCard& m = s.model;
  // With MLA its heads are the ones tp splits (MlaTensorParallelProblem, below), not the card's
  // grouped-query stand-in's.
  if (!m.mla.enabled() && m.attention_heads % o.tp != 0) {
    BadOption("--tp",
              txt::format("{} attention heads do not split over tp {}", m.attention_heads, o.tp));
  }
  // Stages need not hold equal layers (workload::InferenceStageLayers), but each needs one.
  if (o.pp > m.layers) {
    BadOption("--pp", txt::format("pp {} is more pipeline stages than the {} layers of {}: each "
                                  "stage needs at least one",
                                  o.pp, m.layers, m.name));
  }
  if (o.tp > s.nvlink_domain) {
    BadOption("--tp",
              txt::format("tensor parallelism {} exceeds the {} GPUs of an NVLink domain", o.tp,
                          s.nvlink_domain),
              "tensor parallelism stays inside an NVLink domain: --nvlink-domain, as a "
              "scenario's cluster.nvlink_domain");
  }
  if (const std::string why = workload::MlaTensorParallelProblem(m, o.tp); !why.empty()) {
    BadOption("--tp", why);
  }
  if (const std::string why = workload::InferenceLayoutProblem(m, o.tp, o.pp, o.ep); !why.empty()) {
    BadOption("--ep", why);
  }
  if (o.batch > 0 && o.batch % o.pp != 0) {
    BadOption("--batch",
              txt::format("batch {} does not split into pp {} micro-batches", o.batch, o.pp));
  }
  if (const int groups = workload::AttentionGroups(s); o.batch % (groups * o.pp) != 0) {
    BadOption("--batch", txt::format("batch {} does not split over the {} attention groups of "
                                     "wide expert parallelism (ep {} / tp {}){}",
                                     o.batch, groups, o.ep, o.tp,
                                     o.pp > 1 ? txt::format(" x pp {}", o.pp) : ""));
  }
  s.two_batch_overlap = in.two_batch_overlap;
  if (const std::string why = workload::TwoBatchOverlapProblem(s); !why.empty()) {
    BadOption("--two-batch-overlap", why);
  }
  s.speculation = SpeculationArg(in, s);
  const int cached = Read("services[].requests[].shared_prefix_tokens", "--cached-prefix-tokens",
                          in.cached_prefix);
  if (cached >= o.prompt) {
    BadOption("--cached-prefix-tokens",
              txt::format("{} cached tokens leave none of the {}-token prompt to prefill", cached,
                          o.prompt),
              "at most --prompt-tokens - 1 (the last token is always computed)");
  }
  const double link = ToBytesPerSecond(scenario::OptionValue(scenario::ScenarioSchema(),
                                                             "services[].engine.kv_offload.link",
                                                             "--kv-tier-link", in.tier_link)
                                           .Quantity<Bandwidth>());
  const workload::Speculation& sp = s.speculation;
  const workload::InferenceEstimate e = workload::EstimateInference(s);
  const workload::CachedPrefixEstimate tier = cached > 0
                                                  ? workload::EstimateCachedPrefix(s, cached, link)
                                                  : workload::CachedPrefixEstimate{};
  // As chosen from the GPU's card: its default data type unless one was asked for, FlashAttention
  // where it has a generation.
  const std::string dtype(hardware::DataTypeName(s.dtype));
  // The KV cache's type: fp8 when asked, else the activations' (16 bits below 16-bit math).
  const std::string dtype_16(hardware::DataTypeName(
      hardware::IsNarrow(s.dtype) ? s.gpu.SixteenBitType().value_or(s.dtype) : s.dtype));
  const std::string attention =
      workload::AttentionKernelName(s.gpu, workload::AttentionKernel::kFlash);
  if (in.json) {
    nlohmann::ordered_json j = {{"model", m.name},
                                {"gpu", s.gpu.name},
                                {"dtype", dtype},
                                {"kv_cache_dtype", s.kv_cache_fp8 ? "fp8" : dtype_16},
                                {"prefill_attention", attention},
                                {"tp", o.tp},
                                {"pp", o.pp},
                                {"ep", o.ep},
                                {"gpus", e.gpus},
                                {"attention_groups", workload::AttentionGroups(s)},
                                {"two_batch_overlap", s.two_batch_overlap},
                                {"micro_batches", e.micro_batches},
                                {"layers_per_stage", e.layers_per_stage},
                                {"batch", o.batch},
                                {"prompt_tokens", o.prompt},
                                {"output_tokens", o.output},
                                {"prefill_time_s", ToSeconds(e.prefill_time)},
                                {"itl_s", ToSeconds(e.itl)},
                                {"decode_tokens_per_s", e.decode_tokens_per_s},
                                {"gpu_power_w", ToWatts(e.gpu_power)},
                                {"energy_per_token_j", e.energy_per_token_j},
                                {"kv_cache_bytes", ToBytes(e.kv_cache_bytes)},
                                {"kv_bytes_per_token", ToBytes(e.kv_bytes_per_token)},
                                {"weights_per_gpu_bytes", ToBytes(e.weights_per_gpu)},
                                {"memory_per_gpu_bytes", ToBytes(e.memory_per_gpu)},
                                {"fits_in_memory", e.fits_in_memory},
                                {"iteration_overhead_s", ToSeconds(workload::kIterationOverhead)},
                                {"decode_overlapped_s", ToSeconds(e.overlapped_time)}};
    nlohmann::ordered_json ops = nlohmann::ordered_json::array();
    for (const workload::OpCost& op : e.decode_ops) {
      ops.push_back({{"name", op.name},
                     {"time_s", ToSeconds(op.forward)},
                     {"flops", op.flops},
                     {"bytes", op.bytes}});
    }
    j["decode_layer_ops"] = ops;
    if (cached > 0) {
      j["cached_prefix"] = {
          {"tokens", tier.tokens},      {"link_bytes_per_s", tier.link_bytes_per_s},
          {"read_time_s", tier.read_s}, {"prefill_time_s", tier.prefill_s},
          {"ttft_s", tier.ttft_s()},    {"recompute_ttft_s", tier.recompute_s}};
    }
    if (sp.enabled()) {
      j["speculative"] = {
          {"method", workload::SpeculationMethodName(sp.method)},
          {"draft_model", sp.method == workload::SpeculationMethod::kNgram
                              ? nlohmann::ordered_json(nullptr)
                              : nlohmann::ordered_json(workload::DraftModel(m, sp).name)},
          {"draft_tokens", sp.draft_tokens},
          {"acceptance", sp.acceptance},
          {"tokens_per_step", e.tokens_per_step},
          {"step_time_s", ToSeconds(e.step_time)},
          {"verify_time_s", ToSeconds(e.verify_time)},
          {"draft_time_s", ToSeconds(e.draft_time)},
          {"draft_weights_per_gpu_bytes", ToBytes(e.draft_weights_per_gpu)}};
    }
    std::cout << txt::json_text(j) << "\n";
    return kOk;
  }
  std::cout << txt::format(
      "{} on {} x {} (tp {}, pp {}, ep {}), {}{}, {} prefill attention\n"
      "prefill of {} tokens: {:.2f} ms\n"
      "decode at batch {}, context {:.0f}: {:.2f} ms per {}, {:.0f} tokens/s\n"
      "GPU power {:.0f} W per GPU, {:.3f} J per output token (GPUs)\n"
      "memory per GPU: weights {}, KV cache {} ({} per token), total {} of {}{}\n",
      m.name, e.gpus, s.gpu.name, o.tp, o.pp, o.ep, dtype, s.kv_cache_fp8 ? " (KV cache fp8)" : "",
      attention, o.prompt, ToSeconds(e.prefill_time) * 1e3, o.batch, o.prompt + o.output / 2.0,
      ToSeconds(e.itl) * 1e3, sp.enabled() ? "output token" : "iteration", e.decode_tokens_per_s,
      ToWatts(e.gpu_power), e.energy_per_token_j, Readable(e.weights_per_gpu),
      Readable(e.kv_cache_bytes), Readable(e.kv_bytes_per_token), Readable(e.memory_per_gpu),
      Readable(s.gpu.hbm_capacity), e.fits_in_memory ? "" : "  DOES NOT FIT");
  // A type of the same width the card runs at least twice as fast (Blackwell Ultra's int8 at
  // 1/36 of its fp8): the same memory, far less time.
  for (const auto& [t, peak] : s.gpu.peak_dense) {
    if (t != s.dtype && hardware::BytesPerElement(t) == hardware::BytesPerElement(s.dtype) &&
        s.gpu.Peak(s.dtype) && ToFlopPerSecond(peak) >= 2 * ToFlopPerSecond(*s.gpu.Peak(s.dtype))) {
      std::cout << txt::format(
          "note: {} computes {} at {:.0f} TFLOP/s and {} at {:.0f} TFLOP/s (dense): --dtype {} "
          "keeps the same memory and computes faster\n",
          s.gpu.name, dtype, ToFlopPerSecond(*s.gpu.Peak(s.dtype)) / 1e12,
          hardware::DataTypeName(t), ToFlopPerSecond(peak) / 1e12, hardware::DataTypeName(t));
    }
  }
  if (cached > 0) {
    std::cout << txt::format(
        "first token with {} prompt tokens' K/V in the offload tier at {:g} GB/s a GPU: {:.2f} ms "
        "(read {:.2f} ms + prefill of {} tokens {:.2f} ms), {:.2f} ms recomputing the prompt\n",
        cached, link / 1e9, tier.ttft_s() * 1e3, tier.read_s * 1e3, o.prompt - cached,
        tier.prefill_s * 1e3, tier.recompute_s * 1e3);
  }
  if (sp.enabled()) {
    std::cout << txt::format(
        "speculative decoding ({}{}, {} draft token{}, acceptance {}): {:.3f} tokens per step; "
        "step {:.2f} ms = verify {:.2f} ms + draft {:.2f} ms, {:.2f} ms per token\n",
        workload::SpeculationMethodName(sp.method),
        sp.method == workload::SpeculationMethod::kNgram ? ""
                                                         : ": " + workload::DraftModel(m, sp).name,
        sp.draft_tokens, sp.draft_tokens == 1 ? "" : "s", sp.acceptance, e.tokens_per_step,
        ToSeconds(e.step_time) * 1e3, ToSeconds(e.verify_time) * 1e3, ToSeconds(e.draft_time) * 1e3,
        ToSeconds(e.itl) * 1e3);
  }
  if (const int groups = workload::AttentionGroups(s); groups > 1) {
    std::cout << txt::format(
        "wide expert parallelism: attention, dense and shared-expert layers and the logits in {} "
        "data-parallel groups of tp {} ({} sequence{} each), the routed experts over all {} "
        "GPUs ({} each{}), all-to-all dispatch and combine over NVLink domains of {} GPUs\n",
        groups, o.tp, o.batch / groups, o.batch / groups == 1 ? "" : "s", o.ep,
        (m.moe.experts + o.ep - 1) / o.ep,
        o.ep > m.moe.experts ? txt::format("; the {} GPUs beyond the {} experts hold copies",
                                           o.ep - m.moe.experts, m.moe.experts)
                             : "",
        std::min(o.ep, s.nvlink_domain));
    if (s.two_batch_overlap) {
      // A group of one sequence runs as one batch (EstimateInference), as a served replica does.
      const int per_group = o.batch / groups;
      std::cout << (e.micro_batches < 2
                        ? std::string("two-batch overlap: one sequence a group, nothing to split: "
                                      "decoded as one batch\n")
                        : txt::format("two-batch overlap: each group's {} sequences as "
                                      "micro-batches of {} and {}; {:.2f} ms of the {}'s kernels "
                                      "and communication ran at the same time\n",
                                      per_group, per_group - per_group / 2, per_group / 2,
                                      ToSeconds(e.overlapped_time) * 1e3,
                                      sp.enabled() ? "verify pass" : "iteration"));
    }
  }
  if (o.pp > 1) {
    // The slowest stage paces decode (pp micro-batches through its layers) and sets the memory.
    const int most = *std::max_element(e.layers_per_stage.begin(), e.layers_per_stage.end());
    const std::string how =
        m.layers % o.pp == 0
            ? std::string("even")
            : txt::format(
                  "uneven: an iteration takes pp x {} = {} layers' time, memory per GPU "
                  "is that of {} layers",
                  most, o.pp * most, most);
    std::cout << txt::format("pipeline stages {} layers ({})\n", fmt::join(e.layers_per_stage, " "),
                             how);
  }
  return kOk;
}

}  // namespace

Action RegisterInfer(CLI::App& app) {
  auto o = std::make_shared<InferOptions>();
  CLI::App* cmd = app.add_subcommand(
      "infer",
      "One inference replica at a steady decode batch: prefill time, inter-token latency, "
      "throughput, power, energy per token, KV cache and memory");
  cmd->add_option("--model", o->model, "Model card: catalog name or YAML file")->required();
  cmd->add_option("--gpu", o->gpu, "GPU: catalog name")->required();
  cmd->add_option("--tp", o->tp, "Tensor-parallel degree")->capture_default_str();
  cmd->add_option("--pp", o->pp, "Pipeline-parallel degree")->capture_default_str();
  cmd->add_option("--ep", o->ep,
                  "Expert-parallel degree (MoE); above --tp, wide EP: attention in ep/tp "
                  "data-parallel groups, the routed experts over all ep GPUs")
      ->capture_default_str();
  cmd->add_option("--nvlink-domain", o->nvlink_domain,
                  "GPUs joined by NVLink (72 for an NVL72 rack): wide EP's all-to-all and the "
                  "pipeline hand-offs cross the network between domains")
      ->capture_default_str();
  cmd->add_option("--batch", o->batch, "Sequences decoded together")->required();
  cmd->add_option("--prompt-tokens", o->prompt, "Prompt length, tokens")->required();
  cmd->add_option("--output-tokens", o->output, "Output length, tokens")->required();
  cmd->add_option("--dtype", o->dtype,
                  "auto (bf16 where the GPU card has it, else fp16), fp16, bf16, fp8, int8 or "
                  "fp4 (one the GPU has) for weights and GEMMs")
      ->capture_default_str();
  cmd->add_option("--kv-cache-dtype", o->kv_cache_dtype,
                  "auto (the activations' 16 bits) or fp8 (one byte an element)")
      ->capture_default_str();
  // Issue #18's options, each shown with its default.
  const auto with_default = [cmd](const char* name, std::string& value, const char* help) {
    cmd->add_option(name, value, help)->capture_default_str();
  };
  with_default("--speculative", o->speculative,
               "none, draft:MODEL (a draft model on the same GPUs), ngram (prompt lookup) or mtp "
               "(the model's multi-token-prediction module): speculative decoding");
  cmd->add_option("--draft-tokens", o->draft_tokens,
                  "Tokens drafted per step (gamma; default 1 for mtp, 4 otherwise)");
  cmd->add_option("--acceptance", o->acceptance,
                  "Chance each drafted token is accepted, in [0, 1) (with --speculative)");
  with_default("--cached-prefix-tokens", o->cached_prefix,
               "Leading prompt tokens whose K/V are read back from an offload tier (host DRAM or "
               "CXL) instead of prefilled: the first token's time both ways");
  with_default("--kv-tier-link", o->tier_link,
               "Offload tier read bandwidth per GPU (default: host DRAM to an H100 over PCIe 5.0 "
               "x16, as measured by vLLM)");
  cmd->add_flag("--two-batch-overlap", o->two_batch_overlap,
                "Wide EP: each attention group's sequences as two micro-batches, one's all-to-all "
                "in flight while the other computes (services[].engine.two_batch_overlap)");
  cmd->add_flag("--json", o->json, "Print one JSON object");
  return [o] { return Infer(*o); };
}

}  // namespace firstwall::cli
