// A child process's dvs session for a loop: connect to dvsd, bind a slot (retrying while the
// slot is still held by a previous loop's exiting process), set the wait strategy and wait until
// the peer is bound. Failures are reported through the ChildCtx with the dvs error name.
#ifndef DVS_WORKLOADS_PINGPONG_SESSION_HPP
#define DVS_WORKLOADS_PINGPONG_SESSION_HPP

#include "workloads/pingpong/pingpong.hpp"

namespace dvs::workloads {

// Returns the caller's endpoint (>= 0), or -1 after ctx.fail().
int open_session(measure::ChildCtx& ctx, const PingpongConfig& cfg, int p_nr, int peer_p_nr,
                 const char* role);
// Unbind and disconnect (dvs_close).
void close_session();

// "EDVSTIMEDOUT (-61)"
const char* dvs_err(int rc);

}  // namespace dvs::workloads

#endif
