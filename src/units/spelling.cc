#include "units/spelling.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace firstwall::units {
namespace {
char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
}  // namespace

int EditDistance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const int cost = Lower(a[i - 1]) == Lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && Lower(a[i - 1]) == Lower(b[j - 2]) &&
          Lower(a[i - 2]) == Lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

std::vector<std::string> NearMatches(std::string_view word,
                                     std::span<const std::string> candidates) {
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = Lower(c);
    return out;
  };
  const std::string w = lower(word);
  std::vector<std::pair<int, std::string>> containing;
  for (const std::string& c : candidates) {
    if (w.size() >= 2 && c.size() > w.size() && lower(c).find(w) != std::string::npos) {
      containing.emplace_back(EditDistance(word, c), c);
    }
  }
  std::stable_sort(containing.begin(), containing.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (auto& [d, c] : containing) out.push_back(std::move(c));
  if (!out.empty()) return out;
  std::string best;
  int best_d = 1 << 30;
  for (const std::string& c : candidates) {
    const int dist = EditDistance(word, c);
    if (dist < best_d) {
      best_d = dist;
      best = c;
    }
  }
  // A typo changes a few characters; beyond a third of the word it is a different word.
  const int limit = std::max(1, static_cast<int>(word.size()) / 3 + 1);
  if (best_d <= limit) out.push_back(best);
  return out;
}

std::string NearestMatch(std::string_view word, std::span<const std::string> candidates) {
  const std::vector<std::string> near = NearMatches(word, candidates);
  return near.empty() ? std::string() : near.front();
}

}  // namespace firstwall::units
