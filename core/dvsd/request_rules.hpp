// What dvsd checks in a control request before carrying it out, as pure functions (no sockets, no
// tables): whether the record is one at all, which slot a bind asks for, and who may make it.
// server.cpp applies them to every request; control_record_fuzz.cpp fuzzes them.
#pragma once

#include "core/ipc/control.hpp"
#include "core/ipc/shm_table.hpp"

namespace dvs::dvsd {

// Magic and version are ours. A record that is not closes its connection (nothing is answered).
bool well_formed(const core::Request& rq);

// The p_nr a bind's p_nr field names: a p_nr as such, else the p_nr of the endpoint it is (a
// system slot's endpoint is its p_nr; a user slot's carries a generation). A negative field below
// every task names no slot: the result is then below -DVS_NR_TASKS_MAX too (valid in no DC).
// DVS_ANY is not resolved.
int bind_target_pnr(int p_nr_field);

// Who may make a request.
enum class Need {
  Anyone,        // any process that can connect
  OwnerOrAdmin,  // unless another process holds the target endpoint, a privileged requester (unbind)
  Admin,         // a privileged requester only (authority.hpp)
};

// dc: the geometry of the request's DC, or nullptr when dvsd hosts no such DC (the request then
// fails with EDVSBADDCID unless it needs authority, which is checked first, as in the original).
// Binding a system slot (index < nr_sysprocs: tasks and system processes) needs Admin; a user slot
// or DVS_ANY, Anyone. LclBind, RmtBind, AddNode, DelNode and SetPriv need Admin; Unbind,
// OwnerOrAdmin; queries, Hello, waits for binds and LinkInbox, Anyone.
Need authority_needed(const core::Request& rq, const core::DcGeometry* dc);

// 0 if a requester may go on, else the code its request is refused with (EDVSPRIVILEGES, the
// original's answer to a caller without CAP_SYS_ADMIN). target_held_by_another: for OwnerOrAdmin,
// a process other than the requester's holds the target endpoint.
int admit(Need need, bool requester_is_privileged, bool target_held_by_another);

}  // namespace dvs::dvsd
