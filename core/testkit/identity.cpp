#include "core/testkit/identity.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

namespace dvs::testing {
namespace {

// Ids from here up are above the ranges distributions give accounts and below the overflow ids.
constexpr unsigned kFirstCandidateId = 40000;

uid_t free_uid(unsigned from) {
  for (uid_t u = from;; ++u)
    if (!getpwuid(u)) return u;
}

gid_t free_gid(unsigned from) {
  for (gid_t g = from;; ++g)
    if (!getgrgid(g)) return g;
}

bool has_capability(uint64_t caps, int cap) { return (caps >> cap) & 1u; }

std::string failed(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

Identity stranger() { return Identity{free_uid(kFirstCandidateId), free_gid(kFirstCandidateId), {}}; }

gid_t unused_gid() { return free_gid(stranger().gid + 1); }

std::string cannot_change_identity() {
  const uint64_t caps = effective_capabilities();
  if (has_capability(caps, CAP_SETUID) && has_capability(caps, CAP_SETGID)) return "";
  return "this test gives its children other uids and gids, which needs CAP_SETUID and CAP_SETGID (run it as "
         "root; CI does)";
}

std::string become(const Identity& id, bool keep_sys_admin) {
  if (keep_sys_admin && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return failed("PR_SET_KEEPCAPS");
  if (setgroups(id.groups.size(), id.groups.data()) != 0) return failed("setgroups");
  if (setresgid(id.gid, id.gid, id.gid) != 0) return failed("setresgid");
  if (setresuid(id.uid, id.uid, id.uid) != 0) return failed("setresuid");
  if (keep_sys_admin) {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective = CAP_TO_MASK(CAP_SYS_ADMIN);
    data[CAP_TO_INDEX(CAP_SYS_ADMIN)].permitted = CAP_TO_MASK(CAP_SYS_ADMIN);
    if (syscall(SYS_capset, &hdr, data) != 0) return failed("capset");
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return failed("PR_SET_KEEPCAPS");
  }
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return failed("PR_SET_PDEATHSIG");
  const uint64_t want = keep_sys_admin ? uint64_t{1} << CAP_SYS_ADMIN : 0;
  if (const uint64_t left = effective_capabilities(); left != want)
    return "effective capabilities after the identity change: " + std::to_string(left) + ", expected " +
           std::to_string(want);
  if (getuid() != id.uid || geteuid() != id.uid || getgid() != id.gid || getegid() != id.gid)
    return "the identity did not change";
  return "";
}

uint64_t effective_capabilities() {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("CapEff:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  return ~uint64_t{0};
}

}  // namespace dvs::testing
