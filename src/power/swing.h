// Power swings of synchronous training, on a power series sampled every `dt` seconds (10 ms or
// finer): a job's GPUs compute, then wait on communication together, so the site's power pulses at
// the step frequency and its harmonics. Utilities state limits as a ramp rate (MW/s), a dynamic
// range, and a cap on spectral content in a critical band such as 0.1-20 Hz (Choukse et al.,
// "Power Stabilization for AI Training Datacenters", arXiv 2508.14318, 2025).
//
// Metrics: peak-to-trough swing (max - min), the largest ramp between consecutive samples, and
// the share of the fluctuation's energy (the spectrum without its mean, by FFTW's real DFT) that
// lies in the band, with the strongest frequency there.
//
// Mitigations compared on the same series:
//   power floor   each GPU draws at least `floor` (filler work burns the difference; GB200's power
//                 smoothing exposes such a floor)
//   ramp limit    each GPU's power changes by at most `rate` W/s; falls are slowed by burning power
//                 (an energy cost), rises are delayed (the GPU runs below demand: a throughput
//                 cost)
//   battery       a battery supplies or absorbs the difference between the site's power and its
//                 moving average (time constant `smoothing`), within its power and state of charge;
//                 charging stores round-trip efficiency x the energy taken
#pragma once

#include <vector>

namespace firstwall::power {

struct SwingMetrics {
  double peak_w = 0, trough_w = 0;
  double swing_w = 0;           // peak - trough
  double max_ramp_w_per_s = 0;  // largest |dP/dt| between samples
  double band_share = 0;        // of the fluctuation energy within [band_lo, band_hi]
  double band_peak_hz = 0;      // strongest frequency in the band
  double band_amplitude_w = 0;  // its amplitude (half the peak-to-peak of that sinusoid)
  double mean_w = 0;
};

SwingMetrics AnalyzeSwing(const std::vector<double>& power_w, double dt_s, double band_lo_hz,
                          double band_hi_hz);

// The one-sided amplitude spectrum of the fluctuation (the series without its mean), as
// AnalyzeSwing computes it: element k - 1 is bin k, at k / (n x dt) Hz, k = 1..n/2, the amplitude
// 2 |X_k| / n of that sinusoid, in the series' unit. Empty below 4 samples.
std::vector<double> AmplitudeSpectrum(const std::vector<double>& power);

// Per-GPU mitigations applied to a job's GPU power (`gpus` GPUs in lockstep), in place. Return
// the energy burned above demand (J) and, for the ramp limit, set `deferred_j` to the energy the
// GPUs could not draw when they needed it.
double ApplyPowerFloor(std::vector<double>& gpu_w, double gpus, double floor_w_per_gpu,
                       double dt_s);
double ApplyRampLimit(std::vector<double>& gpu_w, double gpus, double rate_w_per_s_per_gpu,
                      double dt_s, double* deferred_j);

// One step of a battery over `dt_s`: it delivers `want_w` (negative: absorbs it) within
// `power_w` and what it holds (`*stored_j` of `capacity_j`), losing sqrt(round-trip efficiency) of
// the energy each way. Returns the power it actually delivers (negative while charging); updates
// `*stored_j` and adds the losses to `*losses_j` when given. Shared by the swing-window battery
// and the site's peak-shaving battery.
double BatteryExchange(double want_w, double power_w, double capacity_j,
                       double round_trip_efficiency, double dt_s, double* stored_j,
                       double* losses_j = nullptr);

struct Battery {
  double power_w = 0;     // charge and discharge limit
  double capacity_j = 0;  // usable energy
  double round_trip_efficiency = 0.9;
  double smoothing_s = 10;  // moving-average time constant the grid is held to
};

struct BatteryResult {
  std::vector<double> grid_w;       // what the grid supplies
  double losses_j = 0;              // round-trip losses
  double min_soc = 0, max_soc = 0;  // state of charge, fraction of capacity (starts at 0.5)
};

BatteryResult SmoothWithBattery(const std::vector<double>& site_w, double dt_s, const Battery& b);

}  // namespace firstwall::power
