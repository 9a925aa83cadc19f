// Time of one matrix multiplication C[M,N] = A[M,K] B[K,N] on a GPU, fitted to measured operator
// times (vidur's H100 profile of Llama-2-70B layers, ../shared/data/calibration; the fit and its
// error are in gemm_test.cc and docs/validation.md):
//
//   t = t0 + max( 2 M N K / (P x e(M)),  bytes / (B x e_mem) ),   e(M) = e_max x M / (M + M_half)
//
// P is the peak for the data type, B the HBM bandwidth, bytes = (M K + K N + M N) x element size.
// e(M) captures how GEMMs with few rows (few tokens) leave tensor cores idle: tiles are 64-256
// rows, and small M means few tiles per wave. t0 is the launch and tail overhead of one kernel.
#pragma once

#include "units/quantity.h"

namespace firstwall::hardware {

struct GemmModel {
  double max_efficiency = 0.75;  // e_max for 16-bit inputs
  // e_max for fp8 inputs (and int8 and fp4, an assumption: no public MAMF of them was found): fp8
  // tensor cores are harder to keep fed (H100 MAMF 70.9% fp8 vs 80.3%
  // bf16, Bekman, ml-engineering), so the bf16 fit scaled by 70.9 / 80.3.
  double fp8_max_efficiency = 0.66;
  double half_rows = 128;           // M_half
  units::Duration overhead;         // t0
  double memory_efficiency = 0.95;  // e_mem
};

// The H100 fit; the catalog may override it per GPU.
GemmModel DefaultGemmModel();

units::Duration GemmTime(const GemmModel& g, double m, double n, double k, double bytes_per_element,
                         units::FlopRate peak, units::Bandwidth hbm);

// Time of work that only streams memory (norms, activations, optimizer updates).
units::Duration StreamTime(const GemmModel& g, units::DataSize bytes, units::Bandwidth hbm);

}  // namespace firstwall::hardware
