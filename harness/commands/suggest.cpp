// nearest(): see suggest.hpp.
#include "harness/commands/suggest.hpp"

#include <algorithm>

namespace dvs::cli {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];  // row[i-1][j-1]
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string nearest(const std::string& word, const std::vector<std::string>& candidates) {
  constexpr size_t kMaxDistance = 2;
  std::string best;
  size_t best_distance = kMaxDistance + 1;
  for (const std::string& c : candidates)
    if (const size_t d = edit_distance(word, c); d < best_distance) {
      best = c;
      best_distance = d;
    }
  if (!best.empty()) return best;
  if (word.find_first_not_of('-') == std::string::npos) return "";
  for (const std::string& c : candidates)
    if (c.size() > word.size() && c.compare(0, word.size(), word) == 0 && (best.empty() || c.size() < best.size()))
      best = c;
  return best;
}

}  // namespace dvs::cli
