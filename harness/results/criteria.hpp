// The criteria a run prints ("met" / "MISSED") and what they make of its exit status under
// --fail-on-criteria (common_options.hpp): dvs run's remote criteria (remote_cells.hpp) and
// dvs web bench's per-layout criteria (harness/commands/web/web_rows.hpp).
#ifndef DVS_HARNESS_RESULTS_CRITERIA_HPP
#define DVS_HARNESS_RESULTS_CRITERIA_HPP

#include <nlohmann/json.hpp>

namespace dvs::cli {

// criteria: an array of objects; an object with a "criterion" was judged when its "met" is a
// boolean (null or absent: it could not be judged, e.g. a row did not run). Objects without a
// "criterion" are no criteria. True when one judged criterion has "met": false.
bool any_criterion_missed(const nlohmann::json& criteria);

// The exit status of a command that printed criteria: rc when it is not 0 (the run failed);
// else 1 when fail_on_criteria and a criterion was missed; else 0.
int criteria_exit_status(int rc, bool fail_on_criteria, const nlohmann::json& criteria);

}  // namespace dvs::cli

#endif
