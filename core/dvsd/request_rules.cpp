#include "core/dvsd/request_rules.hpp"

namespace dvs::dvsd {

using core::Op;

bool well_formed(const core::Request& rq) {
  return rq.magic == core::kControlMagic && rq.version == core::kControlVersion;
}

int bind_target_pnr(int p_nr_field) {
  const bool plain_pnr = p_nr_field >= -DVS_NR_TASKS_MAX && p_nr_field < DVS_GEN_SIZE - DVS_NR_TASKS_MAX;
  if (plain_pnr) return p_nr_field;
  // DVS_ENDPOINT_P's arithmetic in 64 bits: any int32 field, no overflow.
  const int64_t e = p_nr_field;
  return static_cast<int>(((e + DVS_NR_TASKS_MAX) % DVS_GEN_SIZE) - DVS_NR_TASKS_MAX);
}

Need authority_needed(const core::Request& rq, const core::DcGeometry* dc) {
  switch (static_cast<Op>(rq.op)) {
    case Op::Bind: {
      if (!dc || rq.p_nr == DVS_ANY) return Need::Anyone;
      const int p = bind_target_pnr(rq.p_nr);
      return dc->valid_pnr(p) && dc->is_system_index(dc->index_of(p)) ? Need::Admin : Need::Anyone;
    }
    case Op::Unbind:
      return Need::OwnerOrAdmin;
    case Op::LclBind:
    case Op::RmtBind:
    case Op::AddNode:
    case Op::DelNode:
    case Op::SetPriv:
      return Need::Admin;
    case Op::Hello:
    case Op::Wait4Bind:
    case Op::Wait4BindEp:
    case Op::GetEp:
    case Op::GetDcInfo:
    case Op::GetProcInfo:
    case Op::GetPriv:
    case Op::LinkInbox:
      return Need::Anyone;
  }
  return Need::Anyone;  // an unknown op: refused with EDVSBADCALL
}

int admit(Need need, bool requester_is_privileged, bool target_held_by_another) {
  switch (need) {
    case Need::Anyone:
      return 0;
    case Need::OwnerOrAdmin:
      return !target_held_by_another || requester_is_privileged ? 0 : EDVSPRIVILEGES;
    case Need::Admin:
      return requester_is_privileged ? 0 : EDVSPRIVILEGES;
  }
  return EDVSPRIVILEGES;
}

}  // namespace dvs::dvsd
