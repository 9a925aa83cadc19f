#include "power/conversion_chain.h"

#include "core/error.h"

namespace firstwall::power {

ConversionChain::ConversionChain(std::vector<ConversionStage> stages) : stages_(std::move(stages)) {
  for (const ConversionStage& s : stages_) {
    FW_CHECK(s.efficiency > 0 && s.efficiency <= 1, "stage efficiency out of (0, 1]: " + s.name);
    FW_CHECK(s.modules >= 1, "a stage has at least one module: " + s.name);
    FW_CHECK(s.resistive_loss == 0 || s.rating > units::Watts(0),
             "a resistive loss needs a rating: " + s.name);
  }
}

units::Power ConversionChain::StageInput(size_t i, units::Power out) const {
  const ConversionStage& s = stages_[i];
  const double m = s.installed();
  units::Power resistive;
  if (s.resistive_loss > 0) {
    const double share = out / s.rating;
    resistive = s.rating * (s.resistive_loss * share * share * s.modules / m);
  }
  return (out + s.fixed_loss * m + resistive) / s.efficiency;
}

ChainFlow ConversionChain::Flow(units::Power load, double count) const {
  ChainFlow f;
  f.input.reserve(stages_.size());
  f.loss.reserve(stages_.size());
  // Each of the `count` identical chains carries load / count.
  units::Power out = load;
  for (size_t i = 0; i < stages_.size(); ++i) {
    const units::Power in = StageInput(i, out / count) * count;
    f.input.push_back(in);
    f.loss.push_back(in - out);
    f.total_loss += in - out;
    out = in;
  }
  f.grid = out;
  return f;
}

}  // namespace firstwall::power
