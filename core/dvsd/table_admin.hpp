// dvsd's administration of a DC table's slots: binding a process or thread to a slot, unbinding
// it (what its death or dvs_unbind does to everyone waiting on it), privileges, introspection.
// Only dvsd calls these (and in-process tests and the gate's cells that own a table). Every
// function takes the slot locks it needs (shm_table.hpp contract).
#pragma once

#include <sys/types.h>

#include "core/ipc/shm_table.hpp"
#include "dvs/dvs.h"

namespace dvs::core {

// Binds slot index to (pid, tid): 0 and the new endpoint in *ep (a task's is negative), or
// EDVSSLOTUSED / EDVSBADPROC / a lock error.
int admin_bind(DcTable& t, int index, pid_t pid, pid_t tid, bool is_thread, int* ep);
// Unbinds slot index: the process leaves every queue; senders queued to it get EDVSDSTDIED,
// processes waiting to receive from it get EDVSSRCDIED. EDVSNOTBIND if the slot was free.
int admin_unbind(DcTable& t, int index);
// Installs privileges (level, ipc_to) into a bound slot.
int admin_setpriv(DcTable& t, int index, const dvs_priv_t& p);
void admin_getpriv(DcTable& t, int index, dvs_priv_t* out);
void admin_procinfo(DcTable& t, int index, dvs_procinfo_t* out);

}  // namespace dvs::core
