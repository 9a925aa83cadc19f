// Speculative decoding and multi-token prediction (issue #18): a cheap drafter proposes `gamma`
// tokens, the target model checks them all in one forward over gamma + 1 query tokens per
// sequence (the verify pass), and keeps the longest accepted run plus one token of its own.
// docs/models.md derives the model; in short:
//
//   tokens per step   E = (1 - alpha^(gamma+1)) / (1 - alpha), for a per-token acceptance rate
//                     alpha in [0, 1), each draft token accepted independently (Leviathan, Kalman
//                     and Matias, "Fast Inference from Transformers via Speculative Decoding",
//                     ICML 2023, eq. 1). E = 1 at alpha = 0; gamma + 1 as alpha -> 1.
//   verify            the target's decode iteration with gamma + 1 rows per sequence through every
//                     GEMM and the logits, the K/V cache read once: the same weight bytes, gamma +
//                     1 times the FLOPs. Nearly free while decode is weight-bound (small batch),
//                     costly once the GEMMs are compute-bound (large batch).
//   draft             kDraft: gamma decode iterations of the draft model at the batch (same GPUs,
//                     same tp, CUDA-graphed: no host overhead of their own); kNgram: none (prompt
//                     lookup on the host, no weights); kMtp: gamma passes of the model's MTP
//                     module, one transformer layer of the target's shape plus its output head
//                     (DeepSeek-AI, DeepSeek-V3 Technical Report, arXiv:2412.19437, sec. 2.2).
//   per token         ITL = (verify + draft + host overhead) / E; tokens/s = batch x E / step.
//
// Not modelled: the tree-shaped drafts of EAGLE/Medusa, acceptance that varies with position,
// context or batch, and the draft's prefill of the prompt (its cost beside the target's is the
// draft's size ratio; left out).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "workload/model_card.h"

namespace firstwall::workload {

enum class SpeculationMethod { kNone, kDraft, kNgram, kMtp };
// As the scenario and `infer --speculative` write them: none, draft, ngram, mtp.
std::string_view SpeculationMethodName(SpeculationMethod m);
std::optional<SpeculationMethod> SpeculationMethodFromName(std::string_view name);

struct Speculation {
  SpeculationMethod method = SpeculationMethod::kNone;
  ModelCard draft;        // kDraft: the draft model (shares the target's vocabulary)
  int draft_tokens = 1;   // gamma: tokens proposed per step (kMtp: the MTP depth), >= 1
  double acceptance = 0;  // alpha: chance each proposed token is accepted, in [0, 1)
  bool enabled() const { return method != SpeculationMethod::kNone; }
};

// Default draft length (gamma) of each method: 1 for MTP (DeepSeek-V3 predicts one extra token),
// 4 otherwise (a common engine default, e.g. vLLM's examples use num_speculative_tokens 4-5).
int DefaultDraftTokens(SpeculationMethod m);

// E[tokens per verify step] for per-token acceptance `alpha` in [0, 1) and `gamma` >= 0 draft
// tokens (Leviathan et al. 2023, eq. 1): (1 - alpha^(gamma+1)) / (1 - alpha). InternalError
// (FW_CHECK) outside those ranges: callers check SpeculationProblem first.
double ExpectedTokensPerStep(double alpha, int gamma);

// The model the drafter runs: the draft card, or for MTP one layer of the target's shape (its
// embedding and output head counted as its own, which overstates its weights by the shared head),
// named "<target> MTP module". Needs s.enabled() and not kNgram.
ModelCard DraftModel(const ModelCard& target, const Speculation& s);

// Why `s` cannot draft for `target` at tensor-parallel degree `tp` and pipeline degree `pp`, or "":
// acceptance outside [0, 1), a draft model with another vocabulary, whose heads do not split over
// tp, or no smaller than the target (active parameters), method mtp for a model without an MTP
// module (ModelCard::mtp_depth 0), a drafting model with pp > 1 (where the drafter would sit is
// not modelled).
std::string SpeculationProblem(const ModelCard& target, const Speculation& s, int tp, int pp);

}  // namespace firstwall::workload
