// For a child that calls dvs: its session (open and bind), and the state of a slot as
// dvs_getprocinfo shows it, waited for with a bound. Failures are printed to stderr with the pid.
#ifndef DVS_TESTING_CALLER_STATE_HPP
#define DVS_TESTING_CALLER_STATE_HPP

#include <functional>
#include <string>

#include "core/testkit/test_time.hpp"
#include "dvs/dvs.h"

namespace dvs::testing {

// dvs_open(sock) + dvs_bind(dc, p_nr); returns the endpoint or a negative code (message printed).
int open_and_bind(const std::string& sock, int dc, int p_nr);

// Poll dvs_getprocinfo(dc, p_nr) until pred(info) holds. 0 when it does, a negative code
// from getprocinfo if that fails, EDVSTIMEDOUT after timeout.
int wait_procinfo(int dc, int p_nr, const std::function<bool(const dvs_procinfo_t&)>& pred,
                  Millis timeout = Millis(5000));
// p_nr is blocked sending to dst_ep (p_rts_flags has DVS_SENDING and p_sendto == dst_ep;
// dst_ep < 0 skips the p_sendto check... use DVS_NONE to skip).
int wait_sending(int dc, int p_nr, int dst_ep, Millis timeout = Millis(5000));
// p_nr is blocked receiving (DVS_RECEIVING).
int wait_receiving(int dc, int p_nr, Millis timeout = Millis(5000));

// Endpoint of p_nr from dvs_getprocinfo (a negative code on error or if the slot is free).
int proc_ep(int dc, int p_nr);

}  // namespace dvs::testing

#endif
