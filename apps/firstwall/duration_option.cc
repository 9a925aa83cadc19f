#include "apps/firstwall/duration_option.h"

#include <fmt/format.h>

#include "core/error.h"
#include "units/parse.h"

namespace firstwall::cli {

double DurationOption(const std::string& option, const std::string& text, bool zero_ok) {
  double s = 0;
  try {
    s = units::ParseBase(text, units::Dimension::kDuration);
  } catch (const units::UnitParseError& e) {
    // "0" alone has no unit and still means none.
    if (!(zero_ok && text == "0")) {
      throw InputError({option, 0, 0}, fmt::format("'{}': {}", text, e.what()), e.hint());
    }
  }
  if (!(s > 0 || (zero_ok && s == 0)) || s > 1e9) {
    throw InputError({option, 0, 0},
                     fmt::format("'{}' is not a positive duration of at most 1e9 s", text),
                     "write a duration with a unit: 60 s, 1 h");
  }
  return s;
}

}  // namespace firstwall::cli
