// The seed corpus of the fuzz target dvs_control_record_fuzz (control_record_fuzz.cpp): one file
// per seed, each one or more core::Request records as libdvs sends them, some followed by the
// text of a /proc/<pid>/status (the input format the target reads). Written by
// dvs_control_record_seeds DIR; dvs_request_rules_test checks the committed corpus against them.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace dvs::dvsd {

// (file name, bytes) of every seed.
std::vector<std::pair<std::string, std::string>> control_record_seeds();

}  // namespace dvs::dvsd
