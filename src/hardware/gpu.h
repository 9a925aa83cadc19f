// A GPU as the models see it: peak dense throughput per data type, HBM, power envelope, NVLink
// and thermal limits. The figures come from catalog/gpus/*.yaml, each with its public source; this
// header only gives them types.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hardware/collective.h"
#include "hardware/gemm.h"
#include "units/quantity.h"

namespace firstwall::hardware {

// int8 and fp4 are weight-and-GEMM formats of inference (and fp4 of NVFP4 training): like fp8
// they cast GEMM inputs and keep activations, attention and their communication in 16 bits.
enum class DataType { kFp32, kTf32, kFp16, kBf16, kFp8, kInt8, kFp4 };

std::string_view DataTypeName(DataType t);  // "bf16"
std::optional<DataType> DataTypeFromName(std::string_view name);
// Bytes per element of weights and GEMM inputs: tf32/fp32 4, bf16/fp16 2, fp8 and int8 1 (their
// per-tensor or per-channel scales are negligible), fp4 0.5625: NVFP4 stores 4-bit E2M1 values with
// one 8-bit E4M3 scale per block of 16 (NVIDIA, "Introducing NVFP4 for efficient and accurate
// low-precision inference", 2025), 4.5 bits an element. MXFP4 (OCP Microscaling Formats v1.0,
// 2023: an 8-bit E8M0 scale per 32) is 4.25 bits; the models use NVFP4's 4.5 for both.
double BytesPerElement(DataType t);
// True for the types narrower than 16 bits (fp8, int8, fp4): only GEMM inputs and weights are
// stored in them; activations, attention and KV cache stay in the card's 16-bit type.
bool IsNarrow(DataType t);
// Bytes per element of NVFP4 (4-bit values, one 1-byte scale per 16).
inline constexpr double kFp4BytesPerElement = (4.0 + 8.0 / 16.0) / 8.0;

struct ThermalLimits {
  units::Temperature max_operating;  // sustained operation target
  units::Temperature slowdown;       // clocks drop above this
  units::Temperature shutdown;       // the GPU stops above this
};

// Kernels a GPU runs, as its card states under `capabilities:`; the data types it has tensor
// cores for are the keys of `peak_dense`. Defaults are what the models assumed of every GPU before
// cards stated capabilities (FlashAttention-2's efficiency), so a card that leaves them out keeps
// that behaviour.
struct GpuCapabilities {
  // Highest FlashAttention generation that runs on the GPU (Dao-AILab/flash-attention README):
  // 0: none, attention runs unfused (Volta and older: FlashAttention 1.x needs Turing or Ampere,
  // FlashAttention-2 Ampere, Ada or Hopper, or ROCm MI200/MI300); 1: FlashAttention 1.x (Turing);
  // 2: FlashAttention-2; 3: FlashAttention-3 (Hopper only). Other fused kernels the models assume
  // (fused LayerNorm and softmax of apex and Megatron-LM, vLLM's PagedAttention and fused norms)
  // build for sm70 (Volta) and later, so every card that can be described has them.
  int flash_attention = 2;
};

// An accelerator whose chips join each other directly in a torus (Google TPU inter-chip
// interconnect, ICI) rather than through NVLink switches: the catalog's `ici:` block. Its
// bandwidth is the card's nvlink_bandwidth (per chip, both directions summed, as Google quotes
// "bidirectional ICI bandwidth per chip"), spread evenly over `ports` links.
struct IciSpec {
  int ports = 0;       // ICI links per chip: 2 x the torus dimensions; 0: no ICI
  int torus_dims = 0;  // 3 (v4, v5p) or 2 (v5e, Trillium)
  int pod_chips = 0;   // chips of the largest torus (a pod) the links join
  bool present() const { return ports > 0; }
};

struct GpuSpec {
  std::string name;
  std::string vendor;
  std::map<DataType, units::FlopRate> peak_dense;  // without sparsity
  units::DataSize hbm_capacity;
  units::Bandwidth hbm_bandwidth;
  units::Power tdp;
  units::Power idle_power;
  // Aggregate NVLink (or Infinity Fabric) bandwidth per GPU, both directions summed, as vendors
  // quote it; one direction carries half. Positive: the models have no PCIe-only path, and the
  // catalog schema refuses a card without one (nvlink_bandwidth at least 1 GB/s).
  units::Bandwidth nvlink_bandwidth;
  ThermalLimits thermal;
  // Achievable GEMM efficiency; the H100 fit unless the catalog gives the GPU its own.
  GemmModel gemm = DefaultGemmModel();
  GpuCapabilities capabilities;
  // How its NVLink and NVSwitch run collectives; the H100 fit unless the catalog gives its own.
  NvlinkCollectives collective;
  IciSpec ici;                                 // TPUs only
  std::map<std::string, std::string> sources;  // catalog field -> citation

  // Peak for `t`, or nullopt when the GPU has no such tensor-core path (A100 has no fp8).
  std::optional<units::FlopRate> Peak(DataType t) const;
  // The data type of training and serving when none is asked for: bf16 where the card has it,
  // else fp16 (mixed precision with loss scaling, as on V100), else the widest type it has.
  DataType DefaultDataType() const;
  // The 16-bit type that fp8, int8 and fp4 training and serving keep activations and attention in:
  // bf16 where the card has it, else fp16; nullopt when the card has neither.
  std::optional<DataType> SixteenBitType() const;
  // The data types of peak_dense, as "fp32, fp16".
  std::string DataTypeList() const;
  // The GEMM model for inputs of type `t` (fp8, int8 and fp4 share fp8's efficiency ceiling).
  GemmModel GemmFor(DataType t) const;
  units::Bandwidth NvlinkPerDirection() const { return nvlink_bandwidth / 2.0; }
};

// The torus of `dims` chips of `gpu` (whose ici must be present): per-direction link bandwidth
// nvlink_bandwidth / (2 x ports), the card's collective bus efficiency and launch cost, NVLink's
// hop latency (no public ICI per-hop figure was found).
TorusSpec TorusFor(const GpuSpec& gpu, const std::vector<int>& dims, bool twisted = false);

// Roofline time of work with `flops` and `bytes` moved to or from HBM: the larger of the compute
// time at `compute_efficiency` x peak and the memory time at full HBM bandwidth
// (Williams, Waterman & Patterson, "Roofline", CACM 2009).
units::Duration RooflineTime(units::FlopCount flops, units::DataSize bytes, units::FlopRate peak,
                             double compute_efficiency, units::Bandwidth hbm_bandwidth);

}  // namespace firstwall::hardware
