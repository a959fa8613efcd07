// The proxies of one node (the original's sender/receiver proxies of PabloPessolani/MOL-IPC and PID5162, user-space edition): one link per remote
// node over a registered transport, carrying the wire protocol (core/dvsd/wire/wire.hpp).
//
// Threads:
//   - per remote node, a link thread: obtains the link (dials it when the peer's id is higher,
//     else takes the one the accept thread hands over), then receives frames, delivers them into
//     the DC tables (core/ipc/remote_inbound.hpp) and answers with ACKs; sends HELLO when the link is idle
//     and declares the link dead when nothing arrived for dead_ms;
//   - per listen URI, an accept thread for peers with lower ids (they dial us over any of them,
//     first frame = HELLO);
//   - per DC table, a dispatcher: pops the work local processes queued for each node's proxy
//     slot and sends it.
// A link that goes down fails every local call waiting on that node (EDVSNOTCONN) within
// dead_ms; it comes back by itself when the peer does. A frame that fails validation closes the
// link with a logged reason; the node keeps running.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <tuple>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/dvsd/proxy/cluster_key.hpp"
#include "core/dvsd/proxy/link_handshake.hpp"
#include "core/dvsd/proxy/link_inboxes.hpp"
#include "core/dvsd/proxy/link_stats.hpp"
#include "core/dvsd/proxy/proxy_queue.hpp"
#include "core/dvsd/wire/wire.hpp"
#include "core/ipc/remote.hpp"
#include "core/ipc/remote_inbound.hpp"
#include "core/ipc/shm_table.hpp"
#include "transports/transport.hpp"

namespace dvs::dvsd {

struct PeerSpec {
  int node = -1;
  std::string uri;  // where the peer listens (we dial it if its id is higher than ours)
  // The remote path to this peer (docs/REMOTE_PATHS.md); unset: ProxyOptions::direct.
  std::optional<bool> direct;
};

struct ProxyOptions {
  int heartbeat_ms = 500;   // HELLO on a link idle this long
  int dead_ms = 3000;       // a link silent this long is dead
  int dial_retry_ms = 200;  // between dial attempts
  uint32_t batch_max = 64;  // commands per frame (1 = no batching), the original's MAXBATCMD idea
  bool lz4 = false;         // LZ4 payloads when that makes them smaller
  uint32_t copy_chunk = 512 * 1024;  // vcopy bytes per frame (all chunks of a copy are sent at once: pipelined)
  int poll_us = 0;  // poll links and the doorbell this long after traffic before sleeping
  // The remote path of this node's processes (docs/REMOTE_PATHS.md), for every peer whose
  // PeerSpec does not say: false = proxy (the original's: caller -> dispatcher -> node link); true
  // = direct (each process puts its commands on its own links to the peer, dialed at the peer's
  // URI; this node then listens for the peers' process links).
  bool direct = false;
  // Link security (docs/SECURITY.md). With a cluster key every link (node links and the direct
  // path's process links) opens with the mutual challenge-response of core/dvsd/proxy/link_auth.hpp and
  // nothing from a dialer that fails it reaches a table; without one, links open with a plain
  // HELLO (anyone who reaches a listener can join: dvsd --no-auth).
  std::optional<linkauth::Key> key;
  bool seal = false;         // with a key: every frame encrypted and authenticated (sealed_link.hpp)
  int handshake_ms = 2000;   // a dialer completes its side of the handshake within this
  // A process link from a peer whose node link this node does not count up yet (one side of a
  // link's opening ends before the other's) is acknowledged once it is up, or after this long.
  int process_link_wait_ms = 500;
  int max_handshakes = 64;   // handshakes in progress at once; a dial beyond them is closed at once
  // Endpoints one peer may have auto-bound here (surrogates of its callers), per DC; they are
  // released when its link goes down.
  int max_autobound = 64;
};

class ProxySet {
 public:
  // listen_uris: where peers with lower ids may dial us, one listener each (any transports).
  ProxySet(int node_id, std::vector<core::DcTable*> tables, std::vector<std::string> listen_uris,
           std::vector<PeerSpec> peers, ProxyOptions opt);
  ~ProxySet();
  ProxySet(const ProxySet&) = delete;
  ProxySet& operator=(const ProxySet&) = delete;

  // Listens on every listen URI (at least one is needed if there are lower-id peers) and starts
  // the threads. "" or a one-line reason.
  std::string start();
  void stop();
  // The first URI actually listened on (port 0 resolved); "" if none.
  std::string listen_uri() const;
  // Whether any peer is reached on the direct path (this node's processes then open link inboxes).
  bool any_direct() const;
  // Every URI listened on, in the order given (port 0 resolved once started).
  std::vector<std::string> listen_uris() const;
  // add_node / del_node on table t (see dvs_add_node in dvs.h): 0 or an EDVS code. Called by
  // the control server's thread.
  int add_node(core::DcTable& t, int node);
  int del_node(core::DcTable& t, int node);
  // The direct path's hand-over (docs/REMOTE_PATHS.md): a process link to an endpoint bound here
  // goes to its process's inbox when the transport can hand links over; without inboxes (or
  // before this is called) every process link is served here. Call before start().
  void set_link_inboxes(LinkInboxes* inboxes) { inboxes_ = inboxes; }
  // Endpoint ep of DC dcid was unbound here: the links handed to its process are served here from
  // now on (the process has let go of them, or is gone). Any thread.
  void take_back(int dcid, int32_t ep);
  // f(peer node, peer URI, its LinkStats) for every configured peer. For a peer that dials us the
  // URI is the one of our listeners its latest link came in on ("" before it first dialed).
  template <class F> void for_each_link(F f) const {
    for (const auto& p : peers_) {
      const int via = p->via_listener.load();
      f(p->node, via >= 0 ? bound_uris_[static_cast<size_t>(via)] : p->uri, p->stats);
    }
  }

 private:
  struct Peer {
    int node = -1;
    std::string uri;
    bool direct = false;  // the remote path to this peer is the direct one
    std::mutex mu;
    std::condition_variable cv;
    std::shared_ptr<transport::Link> link;     // current link, null while down
    std::shared_ptr<transport::Link> handed;   // accepted by the accept thread, not yet taken
    bool up = false;  // the link counts as up (set_up); guarded by mu, changes notify cv
    std::atomic<int64_t> last_tx_ns{0};
    std::atomic<uint64_t> link_seq{0};
    std::atomic<int> via_listener{-1};  // peers that dial us: index of the listener of their latest link
    std::thread thread;
    metrics::LinkStats stats;  // dvsd --metrics-port (metrics_collector.hpp)
  };

  // Encodes c and sends it on p's link as one frame (payload gathered, not copied). 0, or
  // EDVSNOTCONN (no link / the send failed: the link is going down), EDVSBADVALUE (c invalid).
  int send_command(Peer& p, const wire::Command& c, bool lz4);
  void link_thread(Peer& p);
  std::mutex nodes_mu_;  // serialises add_node / del_node
  // Listens on every listen_uris_ entry (fills listeners_ and bound_uris_). "" or a reason.
  std::string open_listeners();
  // Accepts links on listeners_[i] and hands each, after its HELLO, to its peer's link thread.
  void accept_thread(size_t i);
  void dispatch_thread(core::DcTable* t);
  // Sends popped jobs to p in order, batched; callers of jobs that cannot be sent fail now.
  void send_jobs(Peer& p, core::DcTable& t, const std::vector<core::OutboundJob>& jobs);
  // vcopy with a remote party: the requester's node pushes (COPYIN_DATA) or pulls
  // (COPYOUT_RQST) every chunk at once; the answers are counted in copies_.
  void start_vcopy(Peer& p, core::DcTable& t, const core::OutboundJob& job);
  void copy_answered(core::DcTable& t, int32_t rqtr_ep, uint32_t seq, int rcode);
  int send_copy_chunk(Peer& p, core::DcTable& t, uint16_t command, int32_t src_ep, int32_t dst_ep, uint64_t seq,
                      const wire::VcopyDesc& d, std::span<const std::byte> payload);
  void handle_copy(Peer& p, core::DcTable& t, const wire::Command& c);
  // A copy request from p's node (COPYIN_DATA, COPYOUT_RQST): 0 if its requester may be p's (not a
  // local endpoint, nor one living on another node) and may copy (a system process, as vcopy
  // requires here); else the error to answer with.
  int remote_requester_may_copy(const Peer& p, core::DcTable& t, const wire::Command& c);
  wire::Command command_for(int dcid, int dst_node, const core::OutboundJob& job) const;
  void serve_link(Peer& p, const std::shared_ptr<transport::Link>& link);
  // Frames of a process link from peer p (the direct path), until it closes or we stop. Answers
  // go out on p's node link; a process link never carries vcopy or link-level commands.
  // It was admitted for DC dcid: a frame for another DC closes it.
  void serve_process_link(Peer& p, std::shared_ptr<transport::Link> link, int dcid);
  // serve_process_link on a thread of its own (reaped when it ends, joined at stop).
  void serve_process_link_async(Peer& p, std::shared_ptr<transport::Link> link, int dcid);
  // A process link from p's process to endpoint ep of DC dcid, come in on listener `listener`:
  // answered with HELLO_ACK, then handed to the endpoint's process or served here.
  void take_process_link(Peer& p, size_t listener, int dcid, int32_t ep, std::unique_ptr<transport::Link> link);
  // The claim of the first HELLO on a node link we dial: on the direct path it tells p where its
  // processes dial us (our listener of link_scheme's kind, else our first); else empty.
  std::string hello_claim(const Peer& p, const std::string& link_scheme) const;
  // The handshake of one accepted link (on a thread of its own, bounded by handshake_ms), then
  // the link goes to its peer's link thread (node link) or to take_process_link.
  void admit(size_t listener, std::unique_ptr<transport::Link> link);
  // The key a dialer must prove for its claim (accept side); nullopt with *why if none is due.
  std::optional<linkauth::Key> key_for(int dialer, std::string_view claim, std::string* why);
  // A link-level command (HELLO, HELLO_ACK) from this node to peer_node, stamped now.
  wire::Command link_command(uint16_t command, int peer_node) const;
  // On the direct path: the HELLO of a peer that dialed us told where its processes dial it: tell
  // ours (the tables), before the link is handed over and counts as up.
  void learn_direct_uri(Peer& p, std::string_view claim);
  static std::string scheme_of(const std::string& uri);
  // Handles one decoded command from p (either kind of link). False: close that link.
  bool dispatch_command(Peer& p, const wire::Command& c, bool process_link);
  void handle(Peer& p, core::DcTable& t, int command, int32_t src_ep, int32_t dst_ep, uint64_t seq,
              uint64_t ack_seq, int32_t rcode, const dvs_message_t& msg, bool process_link);
  // Sends one command to p (dropped with a log line if the link is down).
  int send_cmd(Peer& p, int dcid, int command, int32_t src_ep, int32_t dst_ep, uint64_t seq, uint64_t ack_seq,
               int32_t rcode, const dvs_message_t* msg);
  void set_up(Peer& p, bool up);
  Peer* peer(int node);
  core::DcTable* table(int dcid);
  void log(const std::string& line) const;

  int node_id_;
  std::vector<core::DcTable*> tables_;
  std::vector<std::string> listen_uris_;  // as configured
  std::vector<std::string> bound_uris_;   // as listened on (port 0 resolved); fixed after start()
  std::vector<std::unique_ptr<Peer>> peers_;
  ProxyOptions opt_;
  std::vector<std::unique_ptr<transport::Listener>> listeners_;
  std::vector<std::thread> accepts_;
  struct Handshake {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;  // set by the thread as it ends
  };
  std::mutex handshakes_mu_;
  std::vector<Handshake> handshakes_;  // in progress: reaped by the accept threads, joined at stop
  std::vector<std::thread> dispatchers_;
  struct ProcessLinkThread {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;  // set by the thread as it ends
    Peer* peer;
    std::shared_ptr<transport::Link> link;
  };
  // p's link went down: every process link from p's processes closes with it (served here or
  // handed over: closing our copy shuts the connection for the process too), so that nothing
  // sent before the failure arrives after it, as on the node link.
  void close_process_links(Peer& p);
  std::mutex process_links_mu_;
  std::vector<ProcessLinkThread> process_links_;  // one per direct process link: reaped when done, joined at stop
  std::atomic<bool> stopping_{false};
  LinkInboxes* inboxes_ = nullptr;
  struct HandedLink {
    Peer* peer;
    std::shared_ptr<transport::Link> link;  // our copy: served here once the endpoint is unbound
  };
  std::mutex handed_mu_;  // also orders a hand-over against take_back of the same endpoint
  std::multimap<std::pair<int, int32_t>, HandedLink> handed_;  // by (dcid, endpoint)

  struct CopyOp {
    int node = -1;        // the node whose proxy slot the requester waits in (it completes there)
    int relay_node = -1;  // both parties remote: chunks pulled from `node` are pushed to this node
    uint64_t chunks = 0;
    uint64_t answered = 0;
    int error = 0;
    uint64_t bytes = 0;
    core::VcopyRequest request{};  // as our requester asked: where answers' data goes
  };
  // A copy of copies_' record of (dcid, requester, seq), if there is one.
  std::optional<CopyOp> copy_of(int dcid, int32_t rqtr_ep, uint32_t seq);
  std::mutex copies_mu_;
  std::map<std::tuple<int, int32_t, uint32_t>, CopyOp> copies_;  // (dcid, requester, seq)
};

}  // namespace dvs::dvsd
