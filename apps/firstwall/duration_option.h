// A duration given as a command-line option ("10 min", "30 s").
#pragma once

#include <string>

namespace firstwall::cli {

// `text` in seconds. InputError naming `option` unless it parses as a duration with a unit and is
// positive, or 0 when `zero_ok` (which a bare "0" also writes), and at most 1e9 s.
double DurationOption(const std::string& option, const std::string& text, bool zero_ok = false);

}  // namespace firstwall::cli
