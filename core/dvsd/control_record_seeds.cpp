#include "core/dvsd/control_record_seeds.hpp"

#include <cstring>

#include "core/ipc/control.hpp"

namespace dvs::dvsd {
namespace {

using core::Op;
using core::Request;

// A record with every byte defined (padding included), as libdvs would fill it for op.
Request record(Op op, int dcid = 0) {
  Request rq;
  std::memset(static_cast<void*>(&rq), 0, sizeof rq);  // the padding too
  rq.magic = core::kControlMagic;
  rq.version = core::kControlVersion;
  rq.op = static_cast<uint32_t>(op);
  rq.dcid = dcid;
  rq.node = -1;
  return rq;
}

std::string bytes(const Request& rq) { return std::string(reinterpret_cast<const char*>(&rq), sizeof rq); }

// The status of an unprivileged process (uid/gid 1000, one supplementary group, no capability).
constexpr const char* kUserStatus =
    "Name:\tclient\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nPid:\t4242\nPPid:\t1\n"
    "Uid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nGroups:\t1000 2000 \n"
    "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n";
// The same process holding CAP_SYS_ADMIN.
constexpr const char* kAdminStatus =
    "Name:\tadmin\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nGroups:\t\n"
    "CapPrm:\t0000000000200000\nCapEff:\t0000000000200000\n";

}  // namespace

std::vector<std::pair<std::string, std::string>> control_record_seeds() {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("hello", bytes(record(Op::Hello)));

  Request any = record(Op::Bind);
  any.p_nr = DVS_ANY;
  any.tid = 4242;
  out.emplace_back("bind_any_user_slot", bytes(any));

  Request sys = record(Op::Bind);
  sys.p_nr = 10;
  sys.tid = 4243;
  sys.is_thread = 1;
  out.emplace_back("tbind_system_slot_with_user_status", bytes(sys) + kUserStatus);

  Request unbind = record(Op::Unbind);
  unbind.ep = DVS_ENDPOINT(3, 40);
  out.emplace_back("unbind", bytes(unbind));

  Request lcl = record(Op::LclBind);
  lcl.pid = 4244;
  lcl.p_nr = 45;
  out.emplace_back("lclbind_with_admin_status", bytes(lcl) + kAdminStatus);

  Request w4b = record(Op::Wait4Bind);
  w4b.timeout_ms = 5000;
  Request w4bep = record(Op::Wait4BindEp);
  w4bep.ep = 25;
  w4bep.timeout_ms = -1;
  out.emplace_back("wait4bind_then_wait4bindep", bytes(w4b) + bytes(w4bep));

  Request getep = record(Op::GetEp);
  getep.pid = 4245;
  Request info = record(Op::GetDcInfo, 1);
  Request proc = record(Op::GetProcInfo);
  proc.p_nr = -35;
  Request priv = record(Op::GetPriv);
  priv.ep = 7;
  out.emplace_back("queries", bytes(getep) + bytes(info) + bytes(proc) + bytes(priv));

  Request setpriv = record(Op::SetPriv);
  setpriv.ep = 7;
  setpriv.priv.level = DVS_LEVEL_SERVER;
  for (auto& w : setpriv.priv.ipc_to) w = ~uint64_t{0};
  out.emplace_back("setpriv", bytes(setpriv));

  Request rmt = record(Op::RmtBind);
  rmt.ep = 12;
  rmt.node = 1;
  out.emplace_back("rmtbind", bytes(rmt));

  Request add = record(Op::AddNode);
  add.node = 2;
  Request del = record(Op::DelNode);
  del.node = 2;
  out.emplace_back("add_then_del_node_with_user_status", bytes(add) + bytes(del) + kUserStatus);

  out.emplace_back("link_inbox", bytes(record(Op::LinkInbox)));
  return out;
}

}  // namespace dvs::dvsd
