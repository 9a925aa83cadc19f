// The electrical path from the grid to the IT load, as a chain of conversion stages (transformer,
// UPS, PDU, rack PSU, ...). Each stage delivers P_out and draws
//   P_in = (P_out + c M + r R (P_out / R)^2 N / M) / eta
// where c is its fixed (no-load) loss per module, eta its proportional efficiency, and r its
// resistive (I^2 R) loss at rated load as a share of its rating R; the stage is N modules of R/N
// with M installed (N, N+1 or 2N redundancy), sharing the load: each installed module adds its
// no-load loss, and I^2 R falls as the current spreads over more modules. This is the general
// stage model no-load + proportional + I^2 R (REFERENCE.md, "Power conversion"); with r = 0 and
// one module it is the form ORNL's RAPS uses for Frontier's rectifiers, (P + 17 W)/0.96, and node
// DC-DC, (P + 13 W)/0.98. Stages are listed from the load outward, so the output of stage i feeds
// stage i+1's load. Losses of all stages become heat in the building.
#pragma once

#include <string>
#include <vector>

#include "units/quantity.h"

namespace firstwall::power {

enum class Redundancy { kN, kNPlus1, k2N };
// What a stage loaded above its rating does.
enum class OverloadPolicy {
  kReport,   // nothing: the peak is reported against the rating
  kCapGpus,  // lower the GPUs' power limit until the stage is within its rating
  kTrip,     // open: everything behind it goes dark and its jobs stop
};

struct ConversionStage {
  std::string name;
  double efficiency = 1.0;  // eta in (0, 1]
  units::Power fixed_loss;  // c
  units::Power rating;      // nameplate capacity at the output; zero means unrated
  // Part of the IT equipment (server PSUs, node DC-DC): PUE counts its losses as IT, measuring IT
  // power at the input of the outermost such stage (The Green Grid, PUE: A Comprehensive
  // Examination of the Metric, 2012: IT load measured at the IT equipment's input).
  bool it_equipment = false;
  double resistive_loss = 0;  // r: I^2 R loss at rated load over the rating
  int modules = 1;            // N
  Redundancy redundancy = Redundancy::kN;
  OverloadPolicy on_overload = OverloadPolicy::kReport;
  // The stage as a tree level: one unit per `racks_per_unit` racks (a PDU per rack, a UPS per row
  // of 10), each with the stage's rating, losses and modules, carrying its racks' load; 0: one
  // unit for the whole site. Levels nest: outward, each groups whole units of the one inside it.
  int racks_per_unit = 0;

  int installed() const {
    return redundancy == Redundancy::kN        ? modules
           : redundancy == Redundancy::kNPlus1 ? modules + 1
                                               : 2 * modules;
  }
};

struct ChainFlow {
  std::vector<units::Power> input;  // per stage, same order as the stages
  std::vector<units::Power> loss;   // per stage
  units::Power grid;                // input of the last stage (or the load when there are none)
  units::Power total_loss;
};

class ConversionChain {
 public:
  explicit ConversionChain(std::vector<ConversionStage> stages);
  // `load` is the IT power at the innermost stage's output; `count` is how many identical
  // parallel units of the chain share it (one chain per rack, say): fixed losses count `count`
  // times. Pass count = 1 for one aggregate chain.
  ChainFlow Flow(units::Power load, double count = 1.0) const;
  // What one unit of stage `i` draws to deliver `out`.
  units::Power StageInput(size_t i, units::Power out) const;
  const std::vector<ConversionStage>& stages() const { return stages_; }

 private:
  std::vector<ConversionStage> stages_;
};

}  // namespace firstwall::power
