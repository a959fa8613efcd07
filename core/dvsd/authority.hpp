// Who holds authority over dvsd's control plane (docs/ARCHITECTURE.md, "Authority").
//
// A requester is *privileged* when the kernel's record of it says so: its uid is 0 or dvsd's own
// uid (a process of dvsd's user can signal or replace dvsd anyway), or its real gid is the admin
// group (dvsd --admin-group) — or, read from /proc/<pid>/status while the request is served, it
// has CAP_SYS_ADMIN in dvsd's user namespace or the admin group among its supplementary groups.
// The /proc part is trusted only while the process still has the uid and gid the kernel recorded
// for the request (real and effective alike), so a process that changed identity since, or a pid
// taken over under another identity, is judged by the kernel's record alone.
//
// Authority belongs to the process, never to an endpoint: a slot with system privileges confers
// none (as in the original, where management calls needed CAP_SYS_ADMIN of the caller).
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dvs::dvsd {

// The fields of /proc/<pid>/status that authority reads.
struct ProcStatus {
  uid_t uid[4] = {};  // real, effective, saved, filesystem
  gid_t gid[4] = {};
  uint64_t cap_eff = 0;
  std::vector<gid_t> groups;  // supplementary
};

// Parses the text of /proc/<pid>/status: nullopt if Uid, Gid, Groups or CapEff is missing or
// malformed (then nothing in it is believed).
std::optional<ProcStatus> parse_proc_status(std::string_view text);

struct AuthorityPolicy {
  uid_t dvsd_uid = 0;                // dvsd's effective uid: its processes hold authority
  std::optional<gid_t> admin_gid;    // --admin-group: its members hold authority
  uid_t overflow_uid = 65534;        // what an uid unmapped in dvsd's user namespace reads as:
  gid_t overflow_gid = 65534;        //   it never grants anything (see policy_for_this_process)
};

// dvsd's own uid, the admin group given, and this kernel's overflow uid/gid.
AuthorityPolicy policy_for_this_process(std::optional<gid_t> admin_gid);

// The decision itself, pure: cred is the kernel's record of the request's sender (SCM_CREDENTIALS:
// pid 0 when there is none), status its /proc status now (nullopt: unreadable), in_dvsd_user_ns
// whether it lives in dvsd's user namespace (its CapEff means nothing elsewhere).
bool is_privileged(const ucred& cred, const std::optional<ProcStatus>& status, bool in_dvsd_user_ns,
                   const AuthorityPolicy& policy);

// is_privileged with the status and namespace of cred.pid read from /proc now. Reads /proc only
// when the kernel's record does not decide it.
bool requester_is_privileged(const ucred& cred, const AuthorityPolicy& policy);

// "--admin-group NAME|GID": the group's gid in *out, or what is wrong ("" on success).
std::string resolve_group(const std::string& spec, gid_t* out);

}  // namespace dvs::dvsd
