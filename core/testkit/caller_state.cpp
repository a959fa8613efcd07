#include "core/testkit/caller_state.hpp"

#include <unistd.h>

#include <cstdio>

#include "core/testkit/poll_until.hpp"
#include "core/testkit/rc_str.hpp"

namespace dvs::testing {

int open_and_bind(const std::string& sock, int dc, int p_nr) {
  int r = dvs_open(sock.c_str());
  if (r < 0) {
    fprintf(stderr, "[child pid %d] dvs_open(%s) = %s\n", getpid(), sock.c_str(), rc_str(r).c_str());
    return r;
  }
  r = dvs_bind(dc, p_nr);
  if (r < 0)
    fprintf(stderr, "[child pid %d] dvs_bind(%d, %d) = %s\n", getpid(), dc, p_nr, rc_str(r).c_str());
  return r;
}

int wait_procinfo(int dc, int p_nr, const std::function<bool(const dvs_procinfo_t&)>& pred,
                  Millis timeout) {
  int last = 0;
  bool ok = poll_until(
      [&] {
        dvs_procinfo_t pi{};
        last = dvs_getprocinfo(dc, p_nr, &pi);
        return last >= 0 && pred(pi);
      },
      timeout);
  if (ok) return 0;
  if (last < 0) {
    fprintf(stderr, "[pid %d] dvs_getprocinfo(%d, %d) = %s\n", getpid(), dc, p_nr, rc_str(last).c_str());
    return last;
  }
  dvs_procinfo_t pi{};
  dvs_getprocinfo(dc, p_nr, &pi);
  fprintf(stderr,
          "[pid %d] timed out waiting for the state of p_nr %d (dc %d): p_rts_flags=0x%x "
          "p_getfrom=%d p_sendto=%d p_endpoint=%d\n",
          getpid(), p_nr, dc, pi.p_rts_flags, pi.p_getfrom, pi.p_sendto, pi.p_endpoint);
  return EDVSTIMEDOUT;
}

int wait_sending(int dc, int p_nr, int dst_ep, Millis timeout) {
  return wait_procinfo(
      dc, p_nr,
      [&](const dvs_procinfo_t& pi) {
        return (pi.p_rts_flags & DVS_SENDING) && (dst_ep == DVS_NONE || pi.p_sendto == dst_ep);
      },
      timeout);
}

int wait_receiving(int dc, int p_nr, Millis timeout) {
  return wait_procinfo(
      dc, p_nr, [](const dvs_procinfo_t& pi) { return (pi.p_rts_flags & DVS_RECEIVING) != 0; },
      timeout);
}

int proc_ep(int dc, int p_nr) {
  dvs_procinfo_t pi{};
  int r = dvs_getprocinfo(dc, p_nr, &pi);
  if (r < 0) return r;
  if (pi.p_rts_flags & DVS_SLOT_FREE) return EDVSNOTBIND;
  return pi.p_endpoint;
}

}  // namespace dvs::testing
