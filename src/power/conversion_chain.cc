#include "power/conversion_chain.h"

#include "core/error.h"

namespace firstwall::power {

ConversionChain::ConversionChain(std::vector<ConversionStage> stages) : stages_(std::move(stages)) {
  for (const ConversionStage& s : stages_) {
    FW_CHECK(s.efficiency > 0 && s.efficiency <= 1, "stage efficiency out of (0, 1]: " + s.name);
  }
}

ChainFlow ConversionChain::Flow(units::Power load, double count) const {
  ChainFlow f;
  f.input.reserve(stages_.size());
  f.loss.reserve(stages_.size());
  units::Power out = load;
  for (const ConversionStage& s : stages_) {
    const units::Power in = (out + s.fixed_loss * count) / s.efficiency;
    f.input.push_back(in);
    f.loss.push_back(in - out);
    f.total_loss += in - out;
    out = in;
  }
  f.grid = out;
  return f;
}

}  // namespace firstwall::power
