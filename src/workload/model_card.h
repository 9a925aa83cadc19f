// The shape of a transformer language model, as much as the performance models need. Cards live in
// catalog/models/*.yaml with their sources.
#pragma once

#include <map>
#include <string>

namespace firstwall::workload {

enum class FfnType { kGelu, kSwiglu };  // 2 or 3 weight matrices in the MLP

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
  std::map<std::string, std::string> sources;

  // Weights of one transformer layer's matrices (QKV, output projection, MLP); norms and biases
  // are left out (under 0.1% of the total for the catalog's models).
  double LayerMatrixParams() const;
  // All parameters: layers, input embedding and (unless tied) the output projection.
  double TotalParams() const;
  // Forward FLOPs per token at sequence length `seq`: 2 FLOPs per multiply-add over every matrix,
  // attention scores and weighted values (2 x 2 x seq x hidden per layer, the full-matrix count of
  // Narayanan et al. SC21, eq. 3), and the logits (2 x hidden x vocab).
  double ForwardFlopsPerToken(int seq) const;
};

}  // namespace firstwall::workload
