// Raw control connections to dvsd for tests: records of core/ipc/control.hpp sent and received as
// they are, without libdvs (so a test can send what libdvs never would, or observe dvsd from a
// process that must not open libdvs). Every wait is bounded.
#ifndef DVS_TESTING_RAW_CONTROL_HPP
#define DVS_TESTING_RAW_CONTROL_HPP

#include <string>

#include "core/ipc/control.hpp"
#include "core/testkit/test_time.hpp"

namespace dvs::testing {

// A SOCK_SEQPACKET socket connected to path (blocking unless nonblocking_connect), or -1.
int raw_connect(const std::string& path, bool nonblocking_connect = false);

// A request record of op for dcid, every other field at its default.
core::Request make_request(core::Op op, int dcid = 0);

// Waits up to timeout for fd to have one of events; the revents, or 0 on timeout.
short wait_for(int fd, short events, Millis timeout);

// One reply from a raw connection within timeout (a passed descriptor is closed). rc of the
// reply, or 1 if none arrived.
int recv_reply(int fd, core::Reply* rp, Millis timeout = Millis(5000));

// A request/reply on a raw connection: the reply's rc, or 1 if none arrived in time.
int raw_call(int fd, core::Request rq, core::Reply* rp);

}  // namespace dvs::testing

#endif
