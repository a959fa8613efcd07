// libdvs's side of the direct remote path (docs/REMOTE_PATHS.md): per remote node, one link of
// this process to that node's dvsd, dialed at the URI the DC table names, introduced with a HELLO
// that says "a process link"; the commands of every thread of the process to that node go out on
// it. The remote dvsd delivers them; answers come back through the node links as on the proxy
// path. Installed as core's DirectSender at the first bind; a forked child starts without links.
#pragma once

#include "core/remote.hpp"
#include "core/shm_table.hpp"

namespace dvs::libdvs {

// Makes remote calls on tables that mark a node direct take this path (idempotent).
void install_direct_path();
// In a forked child: closes the parent's links (their fds) without a word on the wire.
void forget_direct_links_after_fork();

}  // namespace dvs::libdvs
