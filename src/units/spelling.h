// Spelling suggestions for messages about unknown names (units here, scenario keys and catalog
// names above). Lives in the lowest layer so every layer can offer the same "did you mean".
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace firstwall::units {

// Optimal string alignment distance (Levenshtein plus adjacent transposition), case-insensitive.
int EditDistance(std::string_view a, std::string_view b);

// The candidates `word` plausibly means, best first: those that contain it (case-insensitive, a
// word of 2 or more characters: "H100" means "H100-SXM5-80GB", a shortened name rather than a
// typo of "B200"), closest by edit distance first; when none does, the closest candidate if it is
// close enough to be a typo; otherwise none.
std::vector<std::string> NearMatches(std::string_view word,
                                     std::span<const std::string> candidates);

// The first of NearMatches, or "".
std::string NearestMatch(std::string_view word, std::span<const std::string> candidates);

}  // namespace firstwall::units
