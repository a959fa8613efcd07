// Sessions of the remote loops (see remote.hpp): binding on each node, the server's readiness
// flag, the client's rmtbind and link probe, the server's probe drain. Internal to this folder.
#ifndef DVS_WORKLOADS_REMOTE_SESSION_HPP
#define DVS_WORKLOADS_REMOTE_SESSION_HPP

#include <atomic>
#include <cstdint>

#include "workloads/remote/remote.hpp"

namespace dvs::workloads::remote {

// Shared between the children (MAP_SHARED, created before fork).
struct SyncPage {
  std::atomic<uint32_t> server_ready[kMaxPairs];
  std::atomic<uint32_t> probe_taken[kMaxPairs];  // the server has received the link probe
  std::atomic<uint32_t> abort;  // a child failed: the others stop waiting
};
static_assert(std::atomic<uint32_t>::is_always_lock_free);

SyncPage* map_sync_page();  // nullptr on failure
void unmap_sync_page(SyncPage* s);

// Server: dvs_open(server_socket), bind p_nr (retrying while a previous loop's process still
// holds it), set the wait strategy, set *ready. Returns the endpoint or -1 after ctx.fail().
int server_session(measure::ChildCtx& ctx, const RemoteConfig& cfg, int p_nr,
                   std::atomic<uint32_t>* ready);
// Server: take the client's link probe (a notify from client_ep) off the queue, then set *taken.
int drain_probe(measure::ChildCtx& ctx, const RemoteConfig& cfg, int client_ep,
                std::atomic<uint32_t>* taken);

// Client: dvs_open(client_socket), bind p_nr, set the wait strategy, rmtbind the server, wait
// for *server_ready, probe the link with notify until it is up, then wait for *probe_taken (the
// server received the probe). Returns the endpoint or -1.
// Why wait for probe_taken: a remote notify returns when node 0's dispatcher pops it, and the
// dispatcher sends a vcopy popped in the same round *before* the batched messages popped ahead of
// it (core/dvsd/proxy/proxy.cpp dispatch_thread), so a vcopy issued right after the probe could reach
// the server while it still waits for the probe, and succeed there.
int client_session(measure::ChildCtx& ctx, const RemoteConfig& cfg, int p_nr, int server_p_nr,
                   const std::atomic<uint32_t>* server_ready,
                   const std::atomic<uint32_t>* probe_taken, const std::atomic<uint32_t>* abort);

// Sleep-poll until *flag != 0 (or *abort != 0), bounded. True if flag was set.
bool wait_flag(const std::atomic<uint32_t>* flag, const std::atomic<uint32_t>* abort,
               int timeout_ms);

}  // namespace dvs::workloads::remote

#endif
