// Spelling suggestions for messages about unknown names (units here, scenario keys and catalog
// names above). Lives in the lowest layer so every layer can offer the same "did you mean".
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace firstwall::units {

// Optimal string alignment distance (Levenshtein plus adjacent transposition), case-insensitive.
int EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `word`, or "" when none is close enough to be a plausible typo.
std::string NearestMatch(std::string_view word, std::span<const std::string> candidates);

}  // namespace firstwall::units
