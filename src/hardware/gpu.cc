#include "hardware/gpu.h"

#include <algorithm>
#include <array>
#include <utility>

namespace firstwall::hardware {
namespace {
constexpr std::array<std::pair<DataType, std::string_view>, 7> kNames = {{
    {DataType::kFp32, "fp32"},
    {DataType::kTf32, "tf32"},
    {DataType::kFp16, "fp16"},
    {DataType::kBf16, "bf16"},
    {DataType::kFp8, "fp8"},
    {DataType::kInt8, "int8"},
    {DataType::kFp4, "fp4"},
}};
}  // namespace

std::string_view DataTypeName(DataType t) {
  for (auto [type, name] : kNames) {
    if (type == t) return name;
  }
  return "?";
}

std::optional<DataType> DataTypeFromName(std::string_view name) {
  for (auto [type, n] : kNames) {
    if (n == name) return type;
  }
  return std::nullopt;
}

double BytesPerElement(DataType t) {
  switch (t) {
    case DataType::kFp4:
      return kFp4BytesPerElement;
    case DataType::kFp8:
    case DataType::kInt8:
      return 1.0;
    case DataType::kFp16:
    case DataType::kBf16:
      return 2.0;
    case DataType::kTf32:
    case DataType::kFp32:
      return 4.0;
  }
  return 4.0;
}

bool IsNarrow(DataType t) { return BytesPerElement(t) < 2.0; }

std::optional<units::FlopRate> GpuSpec::Peak(DataType t) const {
  auto it = peak_dense.find(t);
  if (it == peak_dense.end()) return std::nullopt;
  return it->second;
}

DataType GpuSpec::DefaultDataType() const {
  if (auto t = SixteenBitType()) return *t;
  for (DataType t :
       {DataType::kFp32, DataType::kTf32, DataType::kFp8, DataType::kInt8, DataType::kFp4}) {
    if (peak_dense.count(t)) return t;
  }
  return DataType::kBf16;  // a card without peaks: the caller's Peak() check refuses it
}

std::optional<DataType> GpuSpec::SixteenBitType() const {
  for (DataType t : {DataType::kBf16, DataType::kFp16}) {
    if (peak_dense.count(t)) return t;
  }
  return std::nullopt;
}

std::string GpuSpec::DataTypeList() const {
  std::string list;
  for (const auto& [t, peak] : peak_dense)
    list += (list.empty() ? "" : ", ") + std::string(DataTypeName(t));
  return list;
}

GemmModel GpuSpec::GemmFor(DataType t) const {
  GemmModel g = gemm;
  if (IsNarrow(t)) g.max_efficiency = gemm.fp8_max_efficiency;
  return g;
}

TorusSpec TorusFor(const GpuSpec& gpu, const std::vector<int>& dims, bool twisted) {
  TorusSpec t;
  t.dims = dims;
  t.twisted = twisted;
  t.link = gpu.nvlink_bandwidth / (2.0 * std::max(1, gpu.ici.ports));
  t.efficiency = gpu.collective.bus_efficiency;
  t.hop_latency = kNvlinkHopLatency;
  t.launch = gpu.collective.launch;
  return t;
}

units::Duration RooflineTime(units::FlopCount flops, units::DataSize bytes, units::FlopRate peak,
                             double compute_efficiency, units::Bandwidth hbm_bandwidth) {
  const units::Duration compute = flops / (peak * compute_efficiency);
  const units::Duration memory = bytes / hbm_bandwidth;
  return std::max(compute, memory);
}

}  // namespace firstwall::hardware
