// The electrical path from the grid to the IT load, as a chain of conversion stages (transformer,
// UPS, PDU, rack PSU, ...). Each stage delivers P_out and draws
//   P_in = (P_out + c) / eta
// where c is its fixed (no-load) loss and eta its proportional efficiency. This is the loss form
// ORNL's RAPS uses for Frontier's rectifiers, (P + 17 W)/0.96, and node DC-DC, (P + 13 W)/0.98
// (see ../shared/REFERENCE.md, "Power conversion"). Stages are listed from the load outward, so the
// output of stage i feeds stage i+1's load. Losses of all stages become heat in the building.
#pragma once

#include <string>
#include <vector>

#include "units/quantity.h"

namespace firstwall::power {

struct ConversionStage {
  std::string name;
  double efficiency = 1.0;  // eta in (0, 1]
  units::Power fixed_loss;  // c
  units::Power rating;      // nameplate capacity at the output; zero means unrated
  // Part of the IT equipment (server PSUs, node DC-DC): PUE counts its losses as IT, measuring IT
  // power at the input of the outermost such stage (The Green Grid, PUE: A Comprehensive
  // Examination of the Metric, 2012: IT load measured at the IT equipment's input).
  bool it_equipment = false;
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
  const std::vector<ConversionStage>& stages() const { return stages_; }

 private:
  std::vector<ConversionStage> stages_;
};

}  // namespace firstwall::power
