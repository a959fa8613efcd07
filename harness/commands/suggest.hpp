// "Did you mean ...?" for a mistyped command or option name.
#ifndef DVS_HARNESS_COMMANDS_SUGGEST_HPP
#define DVS_HARNESS_COMMANDS_SUGGEST_HPP

#include <cstddef>
#include <string>
#include <vector>

namespace dvs::cli {

// Levenshtein distance: the fewest single-character insertions, deletions and substitutions
// that turn a into b.
size_t edit_distance(const std::string& a, const std::string& b);

// The candidate nearest to word: the one at the smallest edit distance if that is at most 2,
// else the shortest one word is a prefix of (word must have a letter after its leading dashes),
// else "". Ties go to the earlier candidate.
std::string nearest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace dvs::cli

#endif
