#include "scenario/catalog.h"

#include <fstream>
#include <sstream>

#include "core/embedded.h"
#include "core/error.h"
#include "units/spelling.h"

namespace firstwall::scenario {
namespace {
using hardware::DataType;

// Keys the schema cannot mark required (they are required only in a new card, or in a block
// that is optional): each missing one fails at the block, "missing required key 'K'<where>".
void RequireKeys(const Section& s, std::initializer_list<const char*> keys,
                 const std::string& where) {
  for (const char* k : keys) {
    if (!s.Has(k)) s.Fail(k, "missing required key '" + s.Name(k) + "'" + where);
  }
}

// Sources: every key given in the card that holds a figure must be cited.
void CheckSources(const Section& s, const std::map<std::string, std::string>& sources,
                  std::initializer_list<const char*> figures) {
  for (const char* f : figures) {
    const std::string key(f);
    const std::string top = key.substr(0, key.find('.'));
    if (s.Has(top) && !sources.count(key) && !sources.count(top)) {
      s.Fail(top, "no source for '" + s.Name(key) + "'",
             "add 'sources: {" + key +
                 ": \"datasheet or paper\"}': every catalog figure cites "
                 "its public source");
    }
  }
}

// Reads `sources:` into `into`; every key must name a figure of the schema, and with `require`,
// every figure the card gives must have a source.
void ReadSources(const Section& s, const Schema& schema, bool require,
                 std::initializer_list<const char*> figures,
                 std::map<std::string, std::string>& into) {
  const auto sources = s.StringMap("sources");
  for (const auto& [k, v] : sources) {
    if (!schema.Find(k) || k == "sources") {
      s.Fail("sources", "source given for unknown key '" + k + "'");
    }
    into[k] = v;
  }
  if (require) CheckSources(s, sources, figures);
}

}  // namespace

hardware::GpuSpec ReadGpuCard(const Section& s, const hardware::GpuSpec* base,
                              bool require_sources) {
  hardware::GpuSpec g = base ? *base : hardware::GpuSpec{};
  if (!base) {
    // Keys the schema marks required are checked by Section only for fresh cards.
    RequireKeys(s,
                {"vendor", "hbm_capacity", "hbm_bandwidth", "tdp", "idle_power", "nvlink_bandwidth",
                 "peak_dense", "thermal"},
                " in a new GPU card");
    // The models' math runs in 16 bits (fp8 keeps its activations and attention there too), so a
    // card needs bf16 or fp16; V100 has fp16 only.
    if (!s.Sub("peak_dense").Has("bf16") && !s.Sub("peak_dense").Has("fp16")) {
      s.Fail("peak_dense",
             "'" + s.Name("peak_dense") +
                 "' gives neither bf16 nor fp16: the models need a "
                 "16-bit tensor-core peak",
             "add peak_dense.fp16 (every tensor-core GPU since Volta has it) or peak_dense.bf16");
    }
    const Section t = s.Sub("thermal");
    RequireKeys(t, {"max_operating", "slowdown", "shutdown"}, " in a new GPU card");
  }
  g.name = s.String("name");
  if (s.Has("vendor")) g.vendor = s.String("vendor");
  if (s.Has("peak_dense")) {
    const Section p = s.Sub("peak_dense");
    for (DataType t : {DataType::kFp32, DataType::kTf32, DataType::kFp16, DataType::kBf16,
                       DataType::kFp8, DataType::kInt8, DataType::kFp4}) {
      const std::string key(hardware::DataTypeName(t));
      if (auto v = p.OptionalQuantity<units::FlopRate>(key)) g.peak_dense[t] = *v;
    }
  }
  if (s.Has("hbm_capacity")) g.hbm_capacity = s.Quantity<units::DataSize>("hbm_capacity");
  if (s.Has("hbm_bandwidth")) g.hbm_bandwidth = s.Quantity<units::Bandwidth>("hbm_bandwidth");
  if (s.Has("tdp")) g.tdp = s.Quantity<units::Power>("tdp");
  if (s.Has("idle_power")) g.idle_power = s.Quantity<units::Power>("idle_power");
  if (s.Has("nvlink_bandwidth")) {
    g.nvlink_bandwidth = s.Quantity<units::Bandwidth>("nvlink_bandwidth");
  }
  if (s.Has("gemm")) {
    const Section ge = s.Sub("gemm");
    if (ge.Has("max_efficiency")) g.gemm.max_efficiency = ge.Fraction("max_efficiency");
    if (ge.Has("fp8_max_efficiency")) {
      g.gemm.fp8_max_efficiency = ge.Fraction("fp8_max_efficiency");
    }
  }
  if (s.Has("capabilities")) {
    const Section c = s.Sub("capabilities");
    if (c.Has("flash_attention")) {
      const std::string fa = c.Enum("flash_attention");
      g.capabilities.flash_attention = fa == "none" ? 0 : std::stoi(fa);
    }
  }
  if (s.Has("collective")) {
    const Section c = s.Sub("collective");
    if (c.Has("nvlink_efficiency")) g.collective.bus_efficiency = c.Fraction("nvlink_efficiency");
    if (c.Has("launch_latency")) {
      g.collective.launch = c.Quantity<units::Duration>("launch_latency");
    }
    if (c.Has("nvls_efficiency")) g.collective.nvls_efficiency = c.Fraction("nvls_efficiency");
    if (c.Has("nvls_latency")) {
      g.collective.nvls_latency = c.Quantity<units::Duration>("nvls_latency");
    }
  }
  if (s.Has("ici")) {
    const Section i = s.Sub("ici");
    RequireKeys(i, {"ports", "torus_dims", "pod_chips"}, " of an ici block");
    g.ici.ports = i.Int("ports");
    g.ici.torus_dims = i.Int("torus_dims");
    g.ici.pod_chips = i.Int("pod_chips");
    if (g.ici.ports != 2 * g.ici.torus_dims) {
      i.Fail("ports", "a torus of " + std::to_string(g.ici.torus_dims) + " dimensions has " +
                          std::to_string(2 * g.ici.torus_dims) + " links per chip, not " +
                          std::to_string(g.ici.ports));
    }
  }
  if (s.Has("thermal")) {
    const Section t = s.Sub("thermal");
    if (t.Has("max_operating")) {
      g.thermal.max_operating = t.Quantity<units::Temperature>("max_operating");
    }
    if (t.Has("slowdown")) g.thermal.slowdown = t.Quantity<units::Temperature>("slowdown");
    if (t.Has("shutdown")) g.thermal.shutdown = t.Quantity<units::Temperature>("shutdown");
  }
  ReadSources(s, GpuCardSchema(), require_sources,
              {"peak_dense", "hbm_capacity", "hbm_bandwidth", "tdp", "idle_power",
               "nvlink_bandwidth", "gemm", "capabilities", "collective", "ici", "thermal"},
              g.sources);
  if (g.idle_power >= g.tdp) {
    s.Fail(s.Has("idle_power") ? "idle_power" : "tdp",
           "idle power " + units::Format(g.idle_power) + " is not below TDP " +
               units::Format(g.tdp) + " for GPU '" + g.name + "'");
  }
  if (!(g.thermal.max_operating <= g.thermal.slowdown &&
        g.thermal.slowdown <= g.thermal.shutdown)) {
    s.Fail("thermal", "thermal thresholds of '" + g.name +
                          "' must satisfy max_operating <= slowdown <= shutdown");
  }
  return g;
}

workload::ModelCard ReadModelCard(const Section& s, const workload::ModelCard* base,
                                  bool require_sources) {
  workload::ModelCard m = base ? *base : workload::ModelCard{};
  if (!base) {
    RequireKeys(s, {"layers", "hidden_size", "attention_heads", "vocab_size"},
                " in a new model card");
  }
  m.name = s.String("name");
  if (s.Has("layers")) m.layers = s.Int("layers");
  if (s.Has("hidden_size")) m.hidden_size = s.Int("hidden_size");
  if (s.Has("attention_heads")) m.attention_heads = s.Int("attention_heads");
  if (s.Has("vocab_size")) m.vocab_size = s.Int("vocab_size");
  if (s.Has("kv_heads")) {
    m.kv_heads = s.Int("kv_heads");
  } else if (!base) {
    m.kv_heads = m.attention_heads;
  }
  if (s.Has("ffn_hidden_size")) {
    m.ffn_hidden_size = s.Int("ffn_hidden_size");
  } else if (!base) {
    m.ffn_hidden_size = 4 * m.hidden_size;
  }
  if (s.Has("ffn_type") || !base) {
    m.ffn_type =
        s.Enum("ffn_type") == "swiglu" ? workload::FfnType::kSwiglu : workload::FfnType::kGelu;
  }
  if (s.Has("tied_embeddings") || !base) m.tied_embeddings = s.Bool("tied_embeddings");
  if (s.Has("mtp_depth") || !base) m.mtp_depth = s.Int("mtp_depth");
  if (s.Has("moe")) {
    const Section moe = s.Sub("moe");
    RequireKeys(moe, {"experts", "top_k", "expert_ffn_hidden_size"}, "");
    m.moe.experts = moe.Int("experts");
    m.moe.top_k = moe.Int("top_k");
    m.moe.expert_ffn_hidden_size = moe.Int("expert_ffn_hidden_size");
    m.moe.shared_experts = moe.Int("shared_experts");
    if (m.moe.top_k > m.moe.experts) {
      moe.Fail("top_k", "top_k " + std::to_string(m.moe.top_k) + " exceeds the " +
                            std::to_string(m.moe.experts) + " experts");
    }
  }
  if (s.Has("mla")) {
    const Section mla = s.Sub("mla");
    // A card that has MLA (an override of one) may change any of its figures alone.
    if (!m.mla.enabled()) RequireKeys(mla, {"kv_lora_rank", "qk_rope_head_dim", "heads"}, "");
    if (mla.Has("kv_lora_rank")) m.mla.kv_lora_rank = mla.Int("kv_lora_rank");
    if (mla.Has("qk_rope_head_dim")) m.mla.qk_rope_head_dim = mla.Int("qk_rope_head_dim");
    if (mla.Has("heads")) m.mla.heads = mla.Int("heads");
  }
  if (m.hidden_size % m.attention_heads != 0) {
    s.Fail(s.Has("attention_heads") ? "attention_heads" : "hidden_size",
           "hidden_size " + std::to_string(m.hidden_size) + " is not a multiple of " +
               "attention_heads " + std::to_string(m.attention_heads));
  }
  if (m.attention_heads % m.kv_heads != 0) {
    s.Fail(s.Has("kv_heads") ? "kv_heads" : "attention_heads",
           "attention_heads " + std::to_string(m.attention_heads) +
               " is not a multiple of kv_heads " + std::to_string(m.kv_heads));
  }
  ReadSources(s, ModelCardSchema(), require_sources,
              {"layers", "hidden_size", "attention_heads", "kv_heads", "ffn_hidden_size",
               "ffn_type", "vocab_size", "moe", "mla"},
              m.sources);
  return m;
}

SystemSpec ReadSystemCard(const Section& s, bool require_sources) {
  SystemSpec y;
  y.name = s.String("name");
  y.vendor = s.String("vendor");
  y.gpu = s.String("gpu");
  y.gpus_per_node = s.Int("gpus_per_node");
  y.nvlink_domain = s.Int("nvlink_domain");
  y.nodes_per_rack = s.Int("nodes_per_rack");
  y.node_base_power = s.Quantity<units::Power>("node_base_power");
  y.rack_power = s.OptionalQuantity<units::Power>("rack_power");
  if (s.Has("liquid_share")) y.liquid_share = s.Fraction("liquid_share");
  if (y.nvlink_domain % y.gpus_per_node != 0) {
    s.Fail("nvlink_domain", "an NVLink domain of " + std::to_string(y.nvlink_domain) +
                                " GPUs does not hold whole nodes of " +
                                std::to_string(y.gpus_per_node));
  }
  ReadSources(s, SystemCardSchema(), require_sources,
              {"gpus_per_node", "nvlink_domain", "nodes_per_rack", "node_base_power", "rack_power",
               "liquid_share"},
              y.sources);
  return y;
}

Catalog ReadCatalogFiles(const std::vector<std::pair<std::string, std::string>>& files) {
  Catalog c;
  std::map<std::string, SourceLocation> name_at;  // GPUs, systems and models share one name space
  std::map<std::string, SourceLocation> system_gpu_at;
  for (const auto& [path, text] : files) {
    const bool gpu = path.find("gpus/") != std::string::npos;
    const bool system = path.find("systems/") != std::string::npos;
    const Document doc = Document::Parse(text, path, Document::kCardStart);
    const Schema& schema = gpu ? GpuCardSchema() : system ? SystemCardSchema() : ModelCardSchema();
    const Section s(doc, schema, doc.root(), "", "", doc.At(doc.root()));
    const std::string name = s.String("name");
    const auto [first, fresh] = name_at.emplace(name, s.KeyAt("name"));
    if (!fresh) {
      throw InputError(s.KeyAt("name"), "a second card is named '" + name + "' (the first is at " +
                                            first->second.ToString() + ")");
    }
    c.origin[name] = path;
    if (gpu) {
      c.gpus[name] = ReadGpuCard(s, nullptr, true);
    } else if (system) {
      c.systems[name] = ReadSystemCard(s, true);
      system_gpu_at[name] = s.KeyAt("gpu");
    } else {
      c.models[name] = ReadModelCard(s, nullptr, true);
      if (s.Has("note")) c.notes[name] = s.String("note");
    }
  }
  for (const auto& [name, y] : c.systems) {
    if (!c.gpus.count(y.gpu)) {
      throw InputError(system_gpu_at.at(name), "system '" + name + "' names GPU '" + y.gpu +
                                                   "', which no GPU card defines; " +
                                                   UnknownNameHint(y.gpu, c.gpus));
    }
  }
  return c;
}

const Catalog& BuiltinCatalog() {
  static const Catalog catalog = [] {
    std::vector<std::pair<std::string, std::string>> files;
    for (const embedded::File& f : embedded::Files()) {
      const std::string path(f.path);
      if (path.starts_with("catalog/gpus/") || path.starts_with("catalog/models/") ||
          path.starts_with("catalog/systems/")) {
        files.emplace_back(path, std::string(f.text));
      }
    }
    return ReadCatalogFiles(files);
  }();
  return catalog;
}

std::string NearestNameHint(const std::string& name, const std::vector<std::string>& known) {
  const std::vector<std::string> near = units::NearMatches(name, known);
  std::string list, mean;
  for (size_t i = 0; i < known.size(); ++i) list += (i ? ", " : "") + known[i];
  for (size_t i = 0; i < near.size(); ++i) {
    mean += std::string(i == 0 ? "" : i + 1 == near.size() ? " or " : ", ") + "'" + near[i] + "'";
  }
  return (near.empty() ? "" : "did you mean " + mean + "? ") + "known: " + list;
}

DataTypeChoice ChooseDataType(const std::string& name, const hardware::GpuSpec& gpu,
                              const Catalog& cat) {
  DataTypeChoice c;
  if (name == "auto") {
    c.type = gpu.DefaultDataType();
    return c;
  }
  const auto t = hardware::DataTypeFromName(name);
  FW_CHECK(t.has_value(), "the schema's data types are known: " + name);
  c.type = *t;
  if (gpu.Peak(*t)) return c;
  const auto origin = cat.origin.find(gpu.name);
  c.problem = gpu.name + " has no " + name + " tensor-core throughput: its card" +
              (origin == cat.origin.end() ? "" : " (" + origin->second + ")") +
              " gives peak_dense for " + gpu.DataTypeList();
  c.hint = "ask for one of those, or auto (" +
           std::string(hardware::DataTypeName(gpu.DefaultDataType())) + " on this GPU)";
  if (*t == DataType::kBf16 && gpu.Peak(DataType::kFp16)) {
    c.hint += "; fp16 (with loss scaling in training) stands in for bf16, as on V100";
  }
  return c;
}

workload::ModelCard LoadModelCardFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError({path, 0, 0}, "cannot read model card file");
  std::stringstream ss;
  ss << in.rdbuf();
  const Document doc = Document::Parse(ss.str(), path, Document::kCardStart);
  const Section s(doc, ModelCardSchema(), doc.root(), "", "", doc.At(doc.root()));
  return ReadModelCard(s, nullptr, false);
}

}  // namespace firstwall::scenario
