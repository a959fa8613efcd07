// The criteria of a run and its exit status: see criteria.hpp.
#include "harness/results/criteria.hpp"

namespace dvs::cli {

bool any_criterion_missed(const nlohmann::json& criteria) {
  if (!criteria.is_array()) return false;
  for (const auto& c : criteria) {
    if (!c.is_object() || !c.contains("criterion")) continue;
    const auto met = c.find("met");
    if (met != c.end() && met->is_boolean() && !met->get<bool>()) return true;
  }
  return false;
}

int criteria_exit_status(int rc, bool fail_on_criteria, const nlohmann::json& criteria) {
  if (rc != 0) return rc;
  return fail_on_criteria && any_criterion_missed(criteria) ? 1 : 0;
}

}  // namespace dvs::cli
