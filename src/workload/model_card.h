// The shape of a transformer language model, as much as the performance models need. Cards live in
// catalog/models/*.yaml with their sources.
#pragma once

#include <map>
#include <string>

namespace firstwall::workload {

enum class FfnType { kGelu, kSwiglu };  // 2 or 3 weight matrices in the MLP

// Mixture of experts: every MLP is replaced by `experts` routed experts of which each token uses
// `top_k`, plus `shared_experts` that every token uses.
struct MoeSpec {
  int experts = 0;  // 0: a dense model
  int top_k = 0;
  int expert_ffn_hidden_size = 0;
  int shared_experts = 0;
};

// Multi-head latent attention (DeepSeek-V2/V3): keys and values are cached as one compressed latent
// of kv_lora_rank elements plus a decoupled rotary key of qk_rope_head_dim, shared by all heads.
// Decode runs it in the absorbed form (the up-projections folded into the query and the output):
// each of `heads` query heads scores the rope_dim + kv_lora_rank latent and takes a kv_lora_rank
// value from it. Only the inference model's decode reads this (its KV cache and attention); the
// projections, prefill and training keep the card's grouped-query stand-in (the card says so).
struct MlaSpec {
  int kv_lora_rank = 0;  // 0: no MLA, the K/V cache is kv_heads x head_dim each
  int qk_rope_head_dim = 0;
  int heads = 0;
  bool enabled() const { return kv_lora_rank > 0; }
  // Elements cached per token and layer: one latent and one rotary key, for every head.
  double CachedElements() const { return static_cast<double>(kv_lora_rank) + qk_rope_head_dim; }
};

struct ModelCard {
  std::string name;
  int layers = 0;
  int hidden_size = 0;
  int attention_heads = 0;
  int kv_heads = 0;  // grouped-query attention; equal to attention_heads for multi-head
  int ffn_hidden_size = 0;
  FfnType ffn_type = FfnType::kGelu;
  int vocab_size = 0;
  bool tied_embeddings = false;
  // Multi-token-prediction modules trained with the model (DeepSeek-V3: 1): what speculative
  // method mtp drafts with (speculative.h). 0: none.
  int mtp_depth = 0;
  MoeSpec moe;
  MlaSpec mla;
  std::map<std::string, std::string> sources;

  bool IsMoe() const { return moe.experts > 0; }
  int HeadDim() const { return hidden_size / attention_heads; }
  double KvDim() const { return static_cast<double>(kv_heads) * HeadDim(); }
  // Weights of one layer's attention matrices (Q, K, V, output).
  double AttentionParams() const;
  // Weights of one dense MLP (or one expert: `ffn` = expert_ffn_hidden_size).
  double MlpParams(int ffn) const;
  // Weights of one transformer layer's matrices, all experts included; norms and biases are left
  // out (under 0.1% of the total for the catalog's models).
  double LayerMatrixParams() const;
  // Weights a token goes through in one layer: for MoE, top_k routed plus the shared experts.
  double ActiveLayerMatrixParams() const;
  // All parameters: layers, input embedding and (unless tied) the output projection.
  double TotalParams() const;
  double ActiveParams() const;
  // Forward FLOPs per token at sequence length `seq`: 2 FLOPs per multiply-add over every active
  // matrix, attention scores and weighted values, and the logits (2 x hidden x vocab). The
  // attention term is 2 x 2 x seq x (heads x head_dim) per layer over the full score matrix
  // (kFullMatrix: Narayanan et al. SC21, eq. 3, and PaLM's 6N + 12LHQT), or half of it
  // (kCausal, the default): a causal decoder's query i meets only keys 0..i, so the kernels that
  // skip masked blocks (FlashAttention) do half the work. docs/models.md says why firstwall's MFU
  // uses the causal count.
  enum class AttentionCount { kCausal, kFullMatrix };
  double ForwardFlopsPerToken(int seq, AttentionCount count = AttentionCount::kCausal) const;
};

}  // namespace firstwall::workload
