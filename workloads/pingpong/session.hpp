// A child process's dvs session for a loop: connect to dvsd, bind a slot (retrying while the
// slot is still held by a previous loop's exiting process), set the wait strategy and wait until
// the peer is bound. Failures are reported through the ChildCtx with the dvs error name.
#ifndef DVS_WORKLOADS_PINGPONG_SESSION_HPP
#define DVS_WORKLOADS_PINGPONG_SESSION_HPP

#include "workloads/pingpong/pingpong.hpp"

namespace dvs::workloads {

// dvs_open(socket_path), dvs_bind(dc, p_nr) (retried for up to setup_timeout_ms while the slot is
// still held), dvs_set_wait(wait, spin_ns): the session without the wait for the peer.
// Returns the caller's endpoint (>= 0), or -1 after ctx.fail() (messages prefixed with role).
int open_and_bind(measure::ChildCtx& ctx, const std::string& socket_path, int dc, int p_nr, dvs_wait_mode_t wait,
                  uint32_t spin_ns, int setup_timeout_ms, const char* role);
// open_and_bind, then waits (setup_timeout_ms) until peer_p_nr is bound.
// Returns the caller's endpoint (>= 0), or -1 after ctx.fail().
int open_session(measure::ChildCtx& ctx, const PingpongConfig& cfg, int p_nr, int peer_p_nr,
                 const char* role);
// Unbind and disconnect (dvs_close).
void close_session();

// "EDVSTIMEDOUT (-61)"
const char* dvs_err(int rc);

}  // namespace dvs::workloads

#endif
