// libdvs's side of the direct remote path (docs/REMOTE_PATHS.md).
//
// Sending: per (node, DC, destination endpoint) this process has one link, dialed at the URI the
// DC table names for that node and introduced with a HELLO that names the endpoint; it is used
// once the peer's HELLO_ACK came (so the peer's dvsd can hand it over with nothing buffered).
// Every thread's commands and answers for that endpoint go out on it; the link is never read
// after the HELLO_ACK.
//
// Receiving: at the first bind in a DC whose dvsd runs the direct path the process opens a link
// inbox with its dvsd (core::Op::LinkInbox); dvsd sends it the links peers' processes dialed to
// this process's endpoints. Each endpoint bound so gets a core::LinkWaiter: its links, an epoll
// set and a door (waiter.hpp). Only the endpoint's own thread reads its links, while it waits in a
// call: what arrives is delivered into the table by core::handle_inbound and the answers go out
// on this process's links, so a remote request or answer reaches the endpoint without any other
// thread. A process that cannot open an inbox (a dvsd without the direct path) gets no
// LinkWaiter: its peers' dvsd serve the links instead.
#pragma once

#include <functional>

#include "core/ipc/remote.hpp"
#include "core/ipc/shm_table.hpp"
#include "core/ipc/waiter.hpp"

namespace dvs::libdvs {

// Makes remote calls on tables that mark a node direct take this path (idempotent).
void install_direct_path();

// For the caller just bound to endpoint ep of DC dcid in table t: its LinkWaiter, or nullptr if t's
// dvsd does not run the direct path (TableHeader::direct_path) or no inbox can be had. open_inbox opens a new control connection to this
// process's dvsd and sends LinkInbox on it: the fd once dvsd answered 0, else < 0; called only
// while the process has no inbox. The LinkWaiter stays valid until release_link_waiter.
core::LinkWaiter* link_waiter_for(core::DcTable& t, int dcid, int32_t ep, const std::function<int()>& open_inbox);
// The endpoint is being unbound: its links are closed here (not shut down: dvsd serves them from
// the unbind on). Call before the unbind request; w may be nullptr.
void release_link_waiter(core::LinkWaiter* w);
// dvs_close: every endpoint's links and the inbox go (the links as in release_link_waiter).
void close_direct_path();

// In a forked child: closes the parent's links, inbox, epoll sets and doors (their fds) without a
// word on the wire.
void forget_direct_links_after_fork();

}  // namespace dvs::libdvs
