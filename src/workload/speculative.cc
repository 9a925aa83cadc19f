#include "workload/speculative.h"

#include <cmath>

#include <fmt/format.h>

#include "core/error.h"

namespace firstwall::workload {

std::string_view SpeculationMethodName(SpeculationMethod m) {
  switch (m) {
    case SpeculationMethod::kDraft:
      return "draft";
    case SpeculationMethod::kNgram:
      return "ngram";
    case SpeculationMethod::kMtp:
      return "mtp";
    case SpeculationMethod::kNone:
      break;
  }
  return "none";
}

std::optional<SpeculationMethod> SpeculationMethodFromName(std::string_view name) {
  for (SpeculationMethod m : {SpeculationMethod::kNone, SpeculationMethod::kDraft,
                              SpeculationMethod::kNgram, SpeculationMethod::kMtp}) {
    if (SpeculationMethodName(m) == name) return m;
  }
  return std::nullopt;
}

int DefaultDraftTokens(SpeculationMethod m) { return m == SpeculationMethod::kMtp ? 1 : 4; }

double ExpectedTokensPerStep(double alpha, int gamma) {
  FW_CHECK(alpha >= 0 && alpha < 1, "acceptance rate outside [0, 1)");
  FW_CHECK(gamma >= 0, "negative draft length");
  return (1.0 - std::pow(alpha, gamma + 1)) / (1.0 - alpha);
}

ModelCard DraftModel(const ModelCard& target, const Speculation& s) {
  FW_CHECK(s.method == SpeculationMethod::kDraft || s.method == SpeculationMethod::kMtp,
           "DraftModel: no drafting model for this method");
  if (s.method == SpeculationMethod::kDraft) return s.draft;
  ModelCard m = target;
  m.name = target.name + " MTP module";
  m.layers = 1;
  return m;
}

std::string SpeculationProblem(const ModelCard& target, const Speculation& s, int tp, int pp) {
  if (!s.enabled()) return "";
  if (!(s.acceptance >= 0 && s.acceptance < 1)) {
    return fmt::format(
        "acceptance {} is outside [0, 1): it is the chance that each drafted "
        "token is accepted",
        s.acceptance);
  }
  if (s.draft_tokens < 1) return "a speculative step drafts at least one token";
  if (s.method == SpeculationMethod::kNgram) return "";
  if (pp > 1) {
    return fmt::format(
        "speculative decoding with a drafting model ({}) is not modelled with "
        "pipeline parallelism (pp {}): where the drafter runs is open",
        SpeculationMethodName(s.method), pp);
  }
  if (s.method == SpeculationMethod::kMtp && target.mtp_depth < 1) {
    return fmt::format(
        "{} has no multi-token-prediction module (its card's mtp_depth is 0): method mtp drafts "
        "with one (DeepSeek-V3 has 1); use draft or ngram",
        target.name);
  }
  if (s.method == SpeculationMethod::kDraft) {
    const ModelCard& d = s.draft;
    if (d.vocab_size != target.vocab_size) {
      return fmt::format(
          "draft model {} has a vocabulary of {} tokens, the target {} one of {}: "
          "a draft must share the target's tokenizer",
          d.name, d.vocab_size, target.name, target.vocab_size);
    }
    if (d.ActiveParams() >= target.ActiveParams()) {
      return fmt::format(
          "draft model {} ({:.1f}B active parameters) is not smaller than the target {} "
          "({:.1f}B): drafting would cost more than the decoding it saves",
          d.name, d.ActiveParams() / 1e9, target.name, target.ActiveParams() / 1e9);
    }
    if (d.attention_heads % tp != 0) {
      return fmt::format(
          "draft model {}'s {} attention heads do not split over tp {} (the draft "
          "runs at the target's tp)",
          d.name, d.attention_heads, tp);
    }
    if (d.IsMoe()) return "a mixture-of-experts draft model is not modelled";
  }
  return "";
}

}  // namespace firstwall::workload
