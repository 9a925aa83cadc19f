#include "workload/model_card.h"

namespace firstwall::workload {

double ModelCard::AttentionParams() const {
  const double h = hidden_size;
  return h * h /*Q*/ + 2.0 * h * KvDim() /*K,V*/ + h * h /*O*/;
}

double ModelCard::MlpParams(int ffn) const {
  return (ffn_type == FfnType::kSwiglu ? 3.0 : 2.0) * hidden_size * static_cast<double>(ffn);
}

double ModelCard::LayerMatrixParams() const {
  if (!IsMoe()) return AttentionParams() + MlpParams(ffn_hidden_size);
  const double router = static_cast<double>(hidden_size) * moe.experts;
  return AttentionParams() + router +
         (moe.experts + moe.shared_experts) * MlpParams(moe.expert_ffn_hidden_size);
}

double ModelCard::ActiveLayerMatrixParams() const {
  if (!IsMoe()) return LayerMatrixParams();
  return AttentionParams() + static_cast<double>(hidden_size) * moe.experts +
         (moe.top_k + moe.shared_experts) * MlpParams(moe.expert_ffn_hidden_size);
}

double ModelCard::TotalParams() const {
  const double embeddings = static_cast<double>(vocab_size) * hidden_size;
  return layers * LayerMatrixParams() + embeddings * (tied_embeddings ? 1.0 : 2.0);
}

double ModelCard::ActiveParams() const {
  const double embeddings = static_cast<double>(vocab_size) * hidden_size;
  return layers * ActiveLayerMatrixParams() + embeddings * (tied_embeddings ? 1.0 : 2.0);
}

double ModelCard::ForwardFlopsPerToken(int seq, AttentionCount count) const {
  const double h = hidden_size;
  // Attention scores and values: 2 x 2 x (keys met) x (query heads x head dim) per token and
  // layer; a causal token meets seq / 2 keys on average (the (s+1)/2 of exact counting, to the
  // FlashAttention convention of half the s x s matrix).
  const double attn_dim = static_cast<double>(attention_heads) * HeadDim();
  const double keys = count == AttentionCount::kCausal ? seq / 2.0 : seq;
  return 2.0 * layers * ActiveLayerMatrixParams() + 4.0 * layers * keys * attn_dim +
         2.0 * h * vocab_size;
}

}  // namespace firstwall::workload
