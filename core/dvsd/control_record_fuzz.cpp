// libFuzzer target: control request records as dvsd receives them, through the checks dvsd makes
// before it carries one out (request_rules.hpp, authority.hpp). Seeds: fuzz-corpus/
// dvs_control_record_fuzz/ (written by dvs_control_record_seeds).
//
// Input: whole core::Request records, then any bytes, read as the text of the sender's
// /proc/<pid>/status. For each record the fuzzer also plays the kernel's record of its sender and
// dvsd's policy, taken from fields the decision never reads (pid, tid, node, ep, p_nr,
// is_thread, timeout_ms), so it explores identities and policies as freely as requests.
//
// Nothing crashes or reads outside the input (ASan, UBSan), and:
//   * a record is served iff its magic and version are ours;
//   * every management op (LclBind, RmtBind, AddNode, DelNode, SetPriv) needs authority, Unbind
//     needs it for another's endpoint, a bind needs it exactly when the slot it names is a system
//     slot of the DC, every other op needs none; the bind's slot is the one the server binds;
//   * admit() refuses (EDVSPRIVILEGES) exactly what the need and the requester's standing deny;
//   * a status that parses says what it was made of: rendered again it parses the same;
//   * is_privileged grants nothing without a kernel record of the sender, never grants on the
//     overflow ids, never believes a status whose uid or gid is not the record's, never counts
//     CAP_SYS_ADMIN of another user namespace, and an unreadable status never grants more than a
//     readable one.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <linux/capability.h>
#include <optional>
#include <string>
#include <string_view>

#include "core/dvsd/authority.hpp"
#include "core/dvsd/request_rules.hpp"
#include "core/ipc/control.hpp"
#include "core/testkit/fuzz_check.hpp"

namespace {

using dvs::core::Op;
using dvs::core::Request;
using namespace dvs::dvsd;

// DC 0: the original's geometry (dvsd's default); DC 1: a small one; others: not hosted.
const dvs::core::DcGeometry* geometry_of(int dcid) {
  static const dvs::core::DcGeometry dc0{};
  static const dvs::core::DcGeometry dc1 = [] {
    dvs::core::DcGeometry g;
    g.dcid = 1;
    g.nr_procs = 10;
    g.nr_tasks = 2;
    g.nr_sysprocs = 4;
    return g;
  }();
  return dcid == 0 ? &dc0 : dcid == 1 ? &dc1 : nullptr;
}

std::string render(const ProcStatus& st) {
  std::string s = "Uid:";
  for (uid_t u : st.uid) s += "\t" + std::to_string(u);
  s += "\nGid:";
  for (gid_t g : st.gid) s += "\t" + std::to_string(g);
  s += "\nGroups:";
  for (gid_t g : st.groups) s += " " + std::to_string(g);
  char cap[32];
  std::snprintf(cap, sizeof cap, "%016llx", static_cast<unsigned long long>(st.cap_eff));
  return s + "\nCapEff:\t" + cap + "\n";
}

bool same_status(const ProcStatus& a, const ProcStatus& b) {
  return std::equal(a.uid, a.uid + 4, b.uid) && std::equal(a.gid, a.gid + 4, b.gid) && a.cap_eff == b.cap_eff &&
         a.groups == b.groups;
}

void check_need(const Request& rq, const dvs::core::DcGeometry* dc, Need need) {
  switch (static_cast<Op>(rq.op)) {
    case Op::LclBind:
    case Op::RmtBind:
    case Op::AddNode:
    case Op::DelNode:
    case Op::SetPriv:
      DVS_FUZZ_CHECK(need == Need::Admin);
      return;
    case Op::Unbind:
      DVS_FUZZ_CHECK(need == Need::OwnerOrAdmin);
      return;
    case Op::Bind: {
      if (!dc || rq.p_nr == DVS_ANY) {
        DVS_FUZZ_CHECK(need == Need::Anyone);
        return;
      }
      const int p = bind_target_pnr(rq.p_nr);
      DVS_FUZZ_CHECK(p < DVS_GEN_SIZE - DVS_NR_TASKS_MAX);
      DVS_FUZZ_CHECK(p >= -DVS_NR_TASKS_MAX || rq.p_nr < -DVS_NR_TASKS_MAX);
      // A p_nr the endpoint macros can take without overflow resolves as they do.
      if (rq.p_nr > -1'000'000'000 && rq.p_nr < 1'000'000'000 &&
          !(rq.p_nr >= -DVS_NR_TASKS_MAX && rq.p_nr < DVS_GEN_SIZE - DVS_NR_TASKS_MAX))
        DVS_FUZZ_CHECK(p == DVS_ENDPOINT_P(rq.p_nr));
      const bool system = dc->valid_pnr(p) && dc->index_of(p) < dc->nr_sysprocs;
      DVS_FUZZ_CHECK(need == (system ? Need::Admin : Need::Anyone));
      return;
    }
    default:
      DVS_FUZZ_CHECK(need == Need::Anyone);
  }
}

void check_admit(Need need) {
  for (bool privileged : {false, true})
    for (bool held_by_other : {false, true}) {
      const int rc = admit(need, privileged, held_by_other);
      DVS_FUZZ_CHECK(rc == 0 || rc == EDVSPRIVILEGES);
      const bool refused = need == Need::Admin ? !privileged
                           : need == Need::OwnerOrAdmin ? held_by_other && !privileged
                                                        : false;
      DVS_FUZZ_CHECK((rc == EDVSPRIVILEGES) == refused);
    }
}

void check_privilege(const Request& rq, const std::optional<ProcStatus>& status) {
  const ucred cred{rq.pid, static_cast<uid_t>(rq.tid), static_cast<gid_t>(rq.node)};
  AuthorityPolicy policy;
  policy.dvsd_uid = static_cast<uid_t>(rq.ep);
  if (rq.is_thread & 1) policy.admin_gid = static_cast<gid_t>(rq.p_nr);
  const bool same_ns = rq.timeout_ms & 1;
  const bool granted = is_privileged(cred, status, same_ns, policy);
  const bool by_record = is_privileged(cred, std::nullopt, same_ns, policy);
  DVS_FUZZ_CHECK(!by_record || granted);  // more knowledge never takes authority away
  if (cred.pid <= 0) DVS_FUZZ_CHECK(!granted);
  if (cred.uid == policy.overflow_uid && cred.gid == policy.overflow_gid) DVS_FUZZ_CHECK(!granted);
  if (by_record) {
    const bool uid_grants = cred.uid == 0 || cred.uid == policy.dvsd_uid;
    const bool gid_grants = policy.admin_gid && cred.gid == *policy.admin_gid;
    DVS_FUZZ_CHECK(uid_grants || gid_grants);
  }
  if (!status) return;
  const bool believed = status->uid[0] == cred.uid && status->uid[1] == cred.uid && status->gid[0] == cred.gid &&
                        status->gid[1] == cred.gid;
  if (!believed) DVS_FUZZ_CHECK(granted == by_record);
  ProcStatus all_caps = *status, no_caps = *status;
  all_caps.cap_eff = ~uint64_t{0};
  no_caps.cap_eff = 0;
  DVS_FUZZ_CHECK(is_privileged(cred, all_caps, false, policy) == is_privileged(cred, no_caps, false, policy));
  if (believed && same_ns && cred.pid > 0 && cred.uid != policy.overflow_uid && cred.gid != policy.overflow_gid)
    DVS_FUZZ_CHECK(is_privileged(cred, all_caps, true, policy));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const size_t records = size / sizeof(Request);
  const std::string_view tail(reinterpret_cast<const char*>(data) + records * sizeof(Request),
                              size - records * sizeof(Request));
  const std::optional<ProcStatus> status = parse_proc_status(tail);
  if (status) {
    const auto again = parse_proc_status(render(*status));
    DVS_FUZZ_CHECK(again && same_status(*status, *again));
  }
  for (size_t i = 0; i < records; ++i) {
    Request rq;
    std::memcpy(static_cast<void*>(&rq), data + i * sizeof(Request), sizeof rq);
    const bool served = well_formed(rq);
    DVS_FUZZ_CHECK(served == (rq.magic == dvs::core::kControlMagic && rq.version == dvs::core::kControlVersion));
    if (!served) continue;
    const dvs::core::DcGeometry* dc = geometry_of(rq.dcid);
    const Need need = authority_needed(rq, dc);
    check_need(rq, dc, need);
    check_admit(need);
    check_privilege(rq, status);
  }
  return 0;
}
