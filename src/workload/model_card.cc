#include "workload/model_card.h"

namespace firstwall::workload {

double ModelCard::LayerMatrixParams() const {
  const double h = hidden_size;
  const double kv_dim = h * kv_heads / attention_heads;
  const double attention = h * h /*Q*/ + 2.0 * h * kv_dim /*K,V*/ + h * h /*O*/;
  const double mlp = (ffn_type == FfnType::kSwiglu ? 3.0 : 2.0) * h * ffn_hidden_size;
  return attention + mlp;
}

double ModelCard::TotalParams() const {
  const double embeddings = static_cast<double>(vocab_size) * hidden_size;
  return layers * LayerMatrixParams() + embeddings * (tied_embeddings ? 1.0 : 2.0);
}

double ModelCard::ForwardFlopsPerToken(int seq) const {
  const double h = hidden_size;
  return 2.0 * layers * LayerMatrixParams() + 4.0 * layers * seq * h + 2.0 * h * vocab_size;
}

}  // namespace firstwall::workload
