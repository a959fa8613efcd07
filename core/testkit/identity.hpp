// Giving a forked test child another identity, to try dvsd's authority (docs/ARCHITECTURE.md,
// "Authority") from processes that do not have it. The test process itself stays who it is.
#ifndef DVS_TESTING_IDENTITY_HPP
#define DVS_TESTING_IDENTITY_HPP

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dvs::testing {

struct Identity {
  uid_t uid;
  gid_t gid;
  std::vector<gid_t> groups;  // supplementary
};

// A uid and a gid that no account and no group of this system has, and neither root's nor the
// kernel's overflow ids (what an unmapped id reads as), with no supplementary groups: a process
// that nothing but its own identity can grant anything.
Identity stranger();

// A gid that no group of this system has, other than stranger()'s: a group only the test uses.
gid_t unused_gid();

// "" if this process can give its children another identity (it has CAP_SETUID and CAP_SETGID, as
// root has), else why not: the reason an identity test skips with.
std::string cannot_change_identity();

// In a forked child: takes identity id (setgroups, setresgid, setresuid: real, effective and
// saved alike), after which the process has no capability, or only CAP_SYS_ADMIN (effective and
// permitted) with keep_sys_admin. Re-arms the parent-death signal the identity change cleared.
// "" on success, else what failed.
std::string become(const Identity& id, bool keep_sys_admin = false);

// The calling process's effective capability set (CapEff of /proc/self/status), or ~0 if unreadable.
uint64_t effective_capabilities();

}  // namespace dvs::testing

#endif
