// libdvs's side of the direct remote path: see direct_path.hpp.
#include "core/libdvs/direct_path.hpp"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "core/dvsd/proxy/link_handshake.hpp"
#include "core/dvsd/proxy/sealed_link.hpp"
#include "core/dvsd/wire/wire.hpp"
#include "core/ipc/control.hpp"
#include "core/ipc/remote_inbound.hpp"
#include "transports/registry.hpp"

namespace dvs::libdvs {

namespace {

constexpr int kDialTimeoutMs = 1000;

uint64_t now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

int send_frame(transport::Link& link, const wire::Command& c) {
  thread_local std::vector<std::byte> frame;
  if (wire::encode_frame(c, frame) != wire::WireError::kOk) return EDVSBADVALUE;
  iovec iov{frame.data(), frame.size()};
  return link.send(std::span<const iovec>(&iov, 1)) == 0 ? 0 : EDVSNOTCONN;
}

// ---------------------------------------------------------------------------------------------
// Sending: one link per (node, DC, destination endpoint).

struct OutKey {
  int node;
  int dcid;
  int32_t ep;
  bool operator<(const OutKey& o) const { return std::tie(node, dcid, ep) < std::tie(o.node, o.dcid, o.ep); }
};
// A link of this process, dialed to a peer's endpoint or handed over from a peer's process to one
// of ours. Any thread sends on it (Link::send serialises them); the thread reading it holds
// read_mu. Both directions carry traffic: commands one way, their answers (ACKs, replies) back on
// the same connection, so the transport's acknowledgements ride on the answers.
struct ProcLink {
  std::shared_ptr<transport::Link> link;
  int node = -1;        // the peer's node
  std::mutex read_mu;
};
struct OutLink {
  std::mutex mu;                // guards pl and uri, and serialises dialing
  std::shared_ptr<ProcLink> pl;  // null until dialed, and after it failed
  std::string uri;              // where it was dialed
};
struct Outgoing {
  std::mutex mu;  // guards links (the map; each entry has its own lock)
  std::map<OutKey, std::shared_ptr<OutLink>> links;
};
Outgoing& outgoing() {
  static Outgoing* o = new Outgoing;  // never destroyed: threads may outlive main
  return *o;
}

// Dials node at uri for endpoint ep of t's DC and waits for the HELLO_ACK. nullptr on failure.
std::unique_ptr<transport::Link> dial_endpoint(core::DcTable& t, int node, int32_t ep, const std::string& uri) {
  transport::register_builtin_transports();
  std::string_view scheme, rest;
  if (!transport::split_uri(uri, &scheme, &rest)) return nullptr;
  transport::Transport* tr = transport::find_transport(scheme);
  if (!tr) return nullptr;
  int err = 0;
  std::unique_ptr<transport::Link> l = tr->dial(uri, kDialTimeoutMs, &err);
  if (!l) return nullptr;
  // The handshake proves this node's key for the DC (TableHeader::link_security) when dvsd runs
  // with a cluster key; the claim names the endpoint the link is for.
  linkauth::Key key{};
  const uint32_t security = t.link_security(key.data());
  linkauth::DialerHello hello{t.geometry().node_id, node, wire::direct_hello_payload(t.geometry().dcid, ep),
                              security == core::kLinksOpen ? nullptr : &key};
  linkauth::SessionKeys keys;
  const std::string why = linkauth::dial_handshake(*l, hello, kDialTimeoutMs, &keys);
  sodium_memzero(key.data(), key.size());
  if (!why.empty()) return nullptr;
  if (security == core::kLinksSealed) l = linkauth::seal(std::move(l), keys, linkauth::Role::kDialer);
  std::span<const std::byte> frame;
  wire::DecodedFrame df;
  if (l->recv(&frame, kDialTimeoutMs) <= 0 || wire::decode_frame(frame, &df) != wire::WireError::kOk ||
      df.commands.size() != 1 || df.commands[0].hdr.command != wire::CMD_HELLO_ACK)
    return nullptr;
  return l;
}

// The link of this process to endpoint ep on node (dialed now if there is none, or if the one there
// is `failed`). nullptr if it cannot be had.
std::shared_ptr<ProcLink> link_to(core::DcTable& t, int node, int32_t ep, const ProcLink* failed) {
  Outgoing& o = outgoing();
  std::shared_ptr<OutLink> ol;
  {
    std::lock_guard<std::mutex> g(o.mu);
    auto& entry = o.links[OutKey{node, t.geometry().dcid, ep}];
    if (!entry) entry = std::make_shared<OutLink>();
    ol = entry;
  }
  std::lock_guard<std::mutex> g(ol->mu);
  const std::string uri = t.direct_uri(node);
  if (ol->pl && ol->pl.get() != failed && ol->uri == uri) return ol->pl;
  ol->pl.reset();
  std::unique_ptr<transport::Link> l = dial_endpoint(t, node, ep, uri);
  if (!l) return nullptr;
  ol->pl = std::make_shared<ProcLink>();
  ol->pl->link = std::shared_ptr<transport::Link>(std::move(l));
  ol->pl->node = node;
  ol->uri = uri;
  return ol->pl;
}

wire::Command command_of(core::DcTable& t, const core::DirectCommand& dc) {
  wire::Command c;
  c.hdr.command = static_cast<uint16_t>(dc.cmd);  // core's command numbers are the wire's
  c.hdr.dcid = static_cast<uint8_t>(t.geometry().dcid);
  c.hdr.src_node = static_cast<uint8_t>(t.geometry().node_id);
  c.hdr.dst_node = static_cast<uint8_t>(dc.node);
  c.hdr.src_ep = dc.src_ep;
  c.hdr.dst_ep = dc.dst_ep;
  c.hdr.seq = dc.seq;
  c.hdr.ack_seq = dc.ack_seq;
  c.hdr.rcode = dc.rcode;
  c.hdr.timestamp_ns = now_ns();
  c.msg = dc.msg;
  return c;
}

int send_direct(core::DcTable& t, const core::DirectCommand& dc);

// ---------------------------------------------------------------------------------------------
// Receiving: the process's inbox, and each endpoint's links.

class EndpointLinks;

struct Inbox {
  std::mutex mu;  // guards fd and endpoints; held while a handed link is added to an endpoint
  int fd = -1;    // the LinkInbox connection (non-blocking), -1 while none
  std::map<std::pair<int, int32_t>, EndpointLinks*> endpoints;  // by (dcid, ep)
  std::mutex read_mu;  // one reader of fd at a time
};
Inbox& inbox() {
  static Inbox* in = new Inbox;  // never destroyed: threads may outlive main
  return *in;
}

constexpr uint64_t kDoorId = 0;
constexpr uint64_t kInboxId = 1;
constexpr uint64_t kFirstLinkId = 2;

class EndpointLinks final : public core::LinkWaiter {
 public:
  EndpointLinks(int dcid, int32_t ep, int node_id, int epfd, int door_fd, uint64_t door)
      : dcid_(dcid), ep_(ep), node_id_(node_id), epfd_(epfd), door_fd_(door_fd), door_(door) {}
  ~EndpointLinks() override = default;

  core::WaitEnd wait(core::DcTable& t, core::Slot& slot, int mode, uint32_t spin_ns, core::Deadline deadline) override;
  void poll_now(core::DcTable& t) override { (void)handle_events(t, 0); }

  // Any thread, with the inbox's lock held: l (a link from a process of node to this endpoint) is
  // read by this endpoint's thread from now on.
  void add_handed_link(std::unique_ptr<transport::Link> l, int node);
  // Before a call through pl to endpoint ep of node: the answers come back on pl, so the waits of
  // this endpoint's thread read it; and this endpoint's next calls to ep take pl at once.
  void watch(int node, int32_t ep, const std::shared_ptr<ProcLink>& pl);
  // The link this endpoint last called endpoint ep of node through, or null; forget_out after it failed.
  std::shared_ptr<ProcLink> out_link(int node, int32_t ep);
  void forget_out(int node, int32_t ep);
  // The owner thread, sending a call that waits (send, sendrec) through pl: if pl dies before the
  // call is answered, the wait ends (kLinkDown: what was sent on it may never have arrived).
  void calling_through(const std::shared_ptr<ProcLink>& pl) {
    std::lock_guard<std::mutex> g(mu_);
    call_link_ = pl;
    call_link_died_ = false;
  }
  // The link a call from endpoint ep of node last came in on (its answers go back on it), or null.
  std::shared_ptr<ProcLink> return_path(int node, int32_t ep);
  void watch_inbox(int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kInboxId;
    (void)epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
  }
  void unwatch_inbox(int fd) { (void)epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr); }
  // Closes the handed links (not shutting them down), the epoll set and the door. A wait still in
  // it (dvs_close from another thread) goes on in the futex.
  void release();
  // In a forked child: closes the descriptors only.
  void forget_after_fork();

 private:
  struct Entry {
    std::shared_ptr<ProcLink> pl;
    bool handed;  // handed to us: it carries only calls to this endpoint (and answers we send)
  };
  enum class Events { kHandled, kInterrupted, kBroken };
  // One epoll_wait of at most timeout_ms, then what it returned handled. kBroken: the epoll set
  // is gone (released).
  Events handle_events(core::DcTable& t, int timeout_ms);
  // Reads and delivers every frame already on link id, answering on the same link; a link that
  // ended or misbehaved is no longer watched (a handed one is closed).
  void read_link(core::DcTable& t, uint64_t id);
  uint64_t add_entry(std::shared_ptr<ProcLink> pl, bool handed);  // mu_ held
  bool call_link_down() {
    std::lock_guard<std::mutex> g(mu_);
    return call_link_died_;
  }
  void drain_door();
  void read_inbox();
  void drop_entry(uint64_t id);

  const int dcid_;
  const int32_t ep_;
  const int node_id_;
  const int epfd_;
  const int door_fd_;
  const uint64_t door_;
  std::atomic<bool> released_{false};
  std::mutex mu_;  // guards the maps below (handed links come from any thread)
  std::map<uint64_t, Entry> entries_;                       // by epoll id
  std::map<const ProcLink*, uint64_t> watched_;             // the dialed links in entries_
  std::map<std::pair<int, int32_t>, std::weak_ptr<ProcLink>> returns_;  // by (node, caller endpoint)
  std::map<std::pair<int, int32_t>, std::shared_ptr<ProcLink>> outs_;   // by (node, callee endpoint)
  std::shared_ptr<ProcLink> call_link_;  // the link this endpoint's current call went out on
  bool call_link_died_ = false;
  uint64_t next_id_ = kFirstLinkId;
};

uint64_t EndpointLinks::add_entry(std::shared_ptr<ProcLink> pl, bool handed) {
  const uint64_t id = next_id_++;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = id;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, pl->link->poll_fd(), &ev) != 0) return 0;
  entries_.emplace(id, Entry{std::move(pl), handed});
  return id;
}

void EndpointLinks::add_handed_link(std::unique_ptr<transport::Link> l, int node) {
  auto pl = std::make_shared<ProcLink>();
  pl->link = std::shared_ptr<transport::Link>(std::move(l));
  pl->node = node;
  std::lock_guard<std::mutex> g(mu_);
  if (released_.load() || add_entry(pl, true) == 0)
    pl->link->keep_connection_on_close();  // dvsd's copy serves it once we let go of the endpoint
}

void EndpointLinks::watch(int node, int32_t ep, const std::shared_ptr<ProcLink>& pl) {
  std::lock_guard<std::mutex> g(mu_);
  if (released_.load()) return;
  outs_[{node, ep}] = pl;
  if (watched_.count(pl.get())) return;
  if (const uint64_t id = add_entry(pl, false); id != 0) watched_[pl.get()] = id;
}

std::shared_ptr<ProcLink> EndpointLinks::out_link(int node, int32_t ep) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = outs_.find({node, ep});
  return it == outs_.end() ? nullptr : it->second;
}

void EndpointLinks::forget_out(int node, int32_t ep) {
  std::lock_guard<std::mutex> g(mu_);
  outs_.erase({node, ep});
}

std::shared_ptr<ProcLink> EndpointLinks::return_path(int node, int32_t ep) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = returns_.find({node, ep});
  return it == returns_.end() ? nullptr : it->second.lock();
}

void EndpointLinks::drop_entry(uint64_t id) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (it->second.pl == call_link_) call_link_died_ = true;
  for (auto o = outs_.begin(); o != outs_.end();) o = o->second == it->second.pl ? outs_.erase(o) : std::next(o);
  (void)epoll_ctl(epfd_, EPOLL_CTL_DEL, it->second.pl->link->poll_fd(), nullptr);
  watched_.erase(it->second.pl.get());
  entries_.erase(it);  // a handed link closes with its last owner; a dialed one stays its OutLink's
}

void EndpointLinks::read_link(core::DcTable& t, uint64_t id) {
  std::shared_ptr<ProcLink> pl;
  bool handed = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    pl = it->second.pl;
    handed = it->second.handed;
  }
  std::unique_lock<std::mutex> reading(pl->read_mu, std::try_to_lock);
  if (!reading.owns_lock()) return;  // another thread of this process is reading it
  thread_local wire::DecodedFrame df;  // reused: its vectors keep their capacity
  for (;;) {
    std::span<const std::byte> frame;
    const long n = pl->link->recv(&frame, 0);
    if (n == EDVSTIMEDOUT) return;
    if (n < 0 || wire::decode_frame(frame, &df) != wire::WireError::kOk) {
      drop_entry(id);  // the peer closed it (or sent garbage: it loses its link)
      return;
    }
    for (const wire::Command& c : df.commands) {
      const auto& h = c.hdr;
      // Only the peer's commands and answers for this node's endpoints; a handed link only calls
      // to this endpoint.
      if (h.src_node != pl->node || h.dst_node != node_id_ || h.dcid != dcid_ ||
          wire::command_info(h.command).body == wire::Body::kVcopy || (handed && h.dst_ep != ep_ && !wire::is_ack(h.command))) {
        drop_entry(id);
        return;
      }
      if (h.command == wire::CMD_HELLO || h.command == wire::CMD_HELLO_ACK) continue;
      core::InboundCommand ic;
      ic.cmd = h.command;
      ic.src_ep = h.src_ep;
      ic.dst_ep = h.dst_ep;
      ic.seq = static_cast<uint32_t>(h.seq);
      ic.ack_seq = static_cast<uint32_t>(h.ack_seq);
      ic.rcode = h.rcode;
      ic.msg = c.msg;
      if (handed && !wire::is_ack(h.command)) {
        std::lock_guard<std::mutex> g(mu_);
        returns_[{pl->node, h.src_ep}] = pl;
      }
      const core::InboundAnswer a = core::handle_inbound(t, pl->node, ic, false);
      if (a.cmd == core::kCmdNone) continue;
      core::DirectCommand answer;
      answer.node = pl->node;
      answer.cmd = a.cmd;
      answer.src_ep = h.dst_ep;
      answer.dst_ep = h.src_ep;
      answer.ack_seq = ic.seq;
      answer.rcode = a.rcode;
      // Back on the link the call came on; if it just failed, on ours to the caller.
      if (send_frame(*pl->link, command_of(t, answer)) != 0) (void)send_direct(t, answer);
    }
    if (!pl->link->has_buffered()) return;  // the rest is in the socket: epoll says when
  }
}

void EndpointLinks::drain_door() {
  char byte;
  while (recv(door_fd_, &byte, sizeof byte, MSG_DONTWAIT) >= 0) {
  }
}

void EndpointLinks::read_inbox() {
  Inbox& in = inbox();
  std::unique_lock<std::mutex> rl(in.read_mu, std::try_to_lock);
  if (!rl.owns_lock()) return;  // another thread is reading it
  for (;;) {
    core::LinkHandover h;
    int fd = -1;
    int inbox_fd = -1;
    {
      std::lock_guard<std::mutex> g(in.mu);
      inbox_fd = in.fd;
    }
    if (inbox_fd < 0) return;
    const long n = core::recv_record(inbox_fd, &h, sizeof h, &fd);
    if (n == -EAGAIN || n == -EWOULDBLOCK) return;
    if (n != static_cast<long>(sizeof h) || h.magic != core::kControlMagic) {
      if (fd >= 0) close(fd);
      if (n == 0 || n < 0) {  // dvsd is gone: the life checks end the waits; stop watching
        std::lock_guard<std::mutex> g(in.mu);
        if (in.fd == inbox_fd) {
          for (auto& [key, e] : in.endpoints) e->unwatch_inbox(inbox_fd);
          close(in.fd);
          in.fd = -1;
        }
        return;
      }
      continue;
    }
    if (fd < 0) continue;
    h.scheme[sizeof h.scheme - 1] = '\0';
    std::lock_guard<std::mutex> g(in.mu);
    auto it = in.endpoints.find({h.dcid, h.ep});
    transport::Transport* tr = transport::find_transport(h.scheme);
    if (it == in.endpoints.end() || !tr || h.node < 0 || h.node >= DVS_NR_NODES) {
      close(fd);  // not (or no longer) ours: dvsd serves it once the endpoint is unbound
      continue;
    }
    int err = 0;
    std::unique_ptr<transport::Link> l = tr->adopt(fd, &err);
    if (!l) {
      close(fd);
      continue;
    }
    it->second->add_handed_link(std::move(l), h.node);
  }
}

EndpointLinks::Events EndpointLinks::handle_events(core::DcTable& t, int timeout_ms) {
  if (released_.load(std::memory_order_acquire)) return Events::kBroken;
  epoll_event evs[16];
  const int n = epoll_wait(epfd_, evs, 16, timeout_ms);
  if (n < 0) return errno == EINTR ? Events::kInterrupted : Events::kBroken;
  for (int i = 0; i < n; ++i) {
    const uint64_t id = evs[i].data.u64;
    if (id == kDoorId)
      drain_door();
    else if (id == kInboxId)
      read_inbox();
    else
      read_link(t, id);
  }
  return Events::kHandled;
}

core::WaitEnd EndpointLinks::wait(core::DcTable& t, core::Slot& slot, int mode, uint32_t spin_ns,
                                  core::Deadline deadline) {
  using core::WaitEnd;
  struct CallOver {  // whatever ends this wait, the call it was for is over
    EndpointLinks* self;
    ~CallOver() {
      std::lock_guard<std::mutex> g(self->mu_);
      self->call_link_.reset();
      self->call_link_died_ = false;
    }
  } call_over{this};
  auto done = [&] { return slot.wake.load(std::memory_order_acquire) == core::kWakeDone; };
  auto passed = [&] { return !deadline.forever() && core::monotonic_ns() >= deadline.at_ns; };
  // Spinning: poll the links and the completion word until the budget is spent.
  if (mode == DVS_WAIT_SPIN || mode == DVS_WAIT_SPIN_THEN_BLOCK) {
    const int64_t stop = mode == DVS_WAIT_SPIN ? -1 : core::monotonic_ns() + spin_ns;
    for (uint32_t i = 0;; ++i) {
      if (done()) return WaitEnd::kWoken;
      if (handle_events(t, 0) == Events::kBroken) return core::wait_woken(t, slot, mode, spin_ns, deadline);
      if (done()) return WaitEnd::kWoken;
      if (call_link_down()) return WaitEnd::kLinkDown;
      if ((i & 63) != 63) continue;
      if (!t.dvsd_alive()) return WaitEnd::kDvsdGone;
      if (passed()) return WaitEnd::kTimedOut;
      if (stop >= 0 && core::monotonic_ns() >= stop) break;
    }
  }
  // Sleeping: in epoll on the links, the inbox and the door, in slices of at most kLifeCheckNs.
  for (;;) {
    slot.door.store(door_, std::memory_order_relaxed);
    slot.sleeping.store(core::kSleepDoor, std::memory_order_seq_cst);
    if (done()) {
      slot.sleeping.store(core::kSleepNot, std::memory_order_relaxed);
      return WaitEnd::kWoken;
    }
    int64_t slice = core::kLifeCheckNs;
    if (!deadline.forever()) {
      const int64_t left = deadline.at_ns - core::monotonic_ns();
      if (left <= 0) {
        slot.sleeping.store(core::kSleepNot, std::memory_order_relaxed);
        (void)handle_events(t, 0);  // what already arrived still counts
        return done() ? WaitEnd::kWoken : WaitEnd::kTimedOut;
      }
      slice = std::min(slice, left);
    }
    const int slice_ms = static_cast<int>((slice + 999'999) / 1'000'000);
    const Events ev = handle_events(t, slice_ms);
    slot.sleeping.store(core::kSleepNot, std::memory_order_relaxed);
    if (done()) return WaitEnd::kWoken;
    if (call_link_down()) return WaitEnd::kLinkDown;
    if (ev == Events::kInterrupted) return WaitEnd::kInterrupted;
    if (ev == Events::kBroken) return core::wait_woken(t, slot, DVS_WAIT_BLOCK, 0, deadline);
    if (!t.dvsd_alive()) return WaitEnd::kDvsdGone;
  }
}

void EndpointLinks::release() {
  released_.store(true, std::memory_order_release);
  std::lock_guard<std::mutex> g(mu_);
  for (auto& [id, e] : entries_)
    if (e.handed) e.pl->link->keep_connection_on_close();
  entries_.clear();
  watched_.clear();
  returns_.clear();
  outs_.clear();
  call_link_.reset();
  close(epfd_);
  close(door_fd_);
}

void EndpointLinks::forget_after_fork() {
  for (auto& [id, e] : entries_)
    if (e.handed)
      if (int fd = e.pl->link->poll_fd(); fd >= 0) close(fd);
  close(epfd_);
  close(door_fd_);
}

// A door: an abstract datagram socket named after a fresh random token. -1 on failure.
int open_door(uint64_t* token) {
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  for (int attempt = 0; attempt < 8; ++attempt) {
    uint64_t d = 0;
    if (getrandom(&d, sizeof d, 0) != sizeof d) break;
    sockaddr_un a;
    const socklen_t len = core::door_address(d, &a);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&a), len) == 0) {
      *token = d;
      return fd;
    }
  }
  close(fd);
  return -1;
}

// Every EndpointLinks made (the registry keeps only the bound ones; released ones stay allocated:
// a thread may still be returning from a wait on one).
std::vector<EndpointLinks*>& all_made() {
  static auto* v = new std::vector<EndpointLinks*>;
  return *v;
}

// The EndpointLinks of local endpoint ep of DC dcid, or nullptr (never freed: see all_made).
EndpointLinks* endpoint_links(int dcid, int32_t ep) {
  Inbox& in = inbox();
  std::lock_guard<std::mutex> g(in.mu);
  auto it = in.endpoints.find({dcid, ep});
  return it == in.endpoints.end() ? nullptr : it->second;
}

int send_direct(core::DcTable& t, const core::DirectCommand& dc) {
  if (dc.node < 0 || dc.node >= DVS_NR_NODES) return EDVSBADNODEID;
  const wire::Command c = command_of(t, dc);
  EndpointLinks* me = dc.sender_links ? static_cast<EndpointLinks*>(dc.sender_links)
                                      : endpoint_links(t.geometry().dcid, dc.src_ep);
  // An answer goes back on the link its call came in on (one connection per caller and callee).
  if (me && (dc.cmd == core::kCmdReply || (dc.cmd & core::kAck)))
    if (auto pl = me->return_path(dc.node, dc.dst_ep); pl && send_frame(*pl->link, c) == 0) return 0;
  const bool waits = dc.cmd == core::kCmdSend || dc.cmd == core::kCmdSendrec;
  std::shared_ptr<ProcLink> failed;
  if (me)
    if (auto pl = me->out_link(dc.node, dc.dst_ep)) {
      if (waits) me->calling_through(pl);
      if (send_frame(*pl->link, c) == 0) return 0;
      me->forget_out(dc.node, dc.dst_ep);
      failed = pl;
    }
  // A link that failed (the peer's dvsd restarted, the peer process let go) is dialed again once.
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::shared_ptr<ProcLink> pl = link_to(t, dc.node, dc.dst_ep, failed.get());
    if (!pl) return EDVSNOTCONN;
    if (me) me->watch(dc.node, dc.dst_ep, pl);  // its answers come back on it
    if (me && waits) me->calling_through(pl);
    if (send_frame(*pl->link, c) == 0) return 0;
    failed = pl;
  }
  return EDVSNOTCONN;
}

}  // namespace

void install_direct_path() { core::set_direct_sender(&send_direct); }

core::LinkWaiter* link_waiter_for(core::DcTable& t, int dcid, int32_t ep, const std::function<int()>& open_inbox) {
  if (t.header().direct_path.load(std::memory_order_acquire) == 0) return nullptr;
  transport::register_builtin_transports();  // read_inbox adopts links with them
  Inbox& in = inbox();
  std::lock_guard<std::mutex> g(in.mu);
  if (in.fd < 0) {
    const int fd = open_inbox();
    if (fd < 0) return nullptr;
    in.fd = fd;
  }
  uint64_t door = 0;
  const int door_fd = open_door(&door);
  if (door_fd < 0) return nullptr;
  const int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) {
    close(door_fd);
    return nullptr;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kDoorId;
  (void)epoll_ctl(epfd, EPOLL_CTL_ADD, door_fd, &ev);
  auto* e = new EndpointLinks(dcid, ep, t.geometry().node_id, epfd, door_fd, door);
  e->watch_inbox(in.fd);
  in.endpoints[{dcid, ep}] = e;
  all_made().push_back(e);
  return e;
}

void release_link_waiter(core::LinkWaiter* w) {
  if (!w) return;
  auto* e = static_cast<EndpointLinks*>(w);
  {
    Inbox& in = inbox();
    std::lock_guard<std::mutex> g(in.mu);
    for (auto it = in.endpoints.begin(); it != in.endpoints.end();)
      it = it->second == e ? in.endpoints.erase(it) : std::next(it);
  }
  e->release();
}

void close_direct_path() {
  Inbox& in = inbox();
  std::vector<EndpointLinks*> bound;
  {
    std::lock_guard<std::mutex> g(in.mu);
    for (auto& [key, e] : in.endpoints) bound.push_back(e);
    in.endpoints.clear();
    if (in.fd >= 0) close(in.fd);
    in.fd = -1;
  }
  for (auto* e : bound) e->release();
}

void forget_direct_links_after_fork() {
  Outgoing& o = outgoing();
  new (&o.mu) std::mutex;  // the parent's lock states are meaningless here
  for (auto& [key, ol] : o.links) {
    new (&ol->mu) std::mutex;
    if (ol->pl) {
      // Closing would say goodbye on the parent's connection: leak the object, close only our fd.
      if (int fd = ol->pl->link->poll_fd(); fd >= 0) close(fd);
      new (&ol->pl) std::shared_ptr<ProcLink>();
    }
  }
  o.links.clear();
  Inbox& in = inbox();
  new (&in.mu) std::mutex;
  new (&in.read_mu) std::mutex;
  for (auto& [key, e] : in.endpoints) e->forget_after_fork();
  in.endpoints.clear();
  if (in.fd >= 0) close(in.fd);
  in.fd = -1;
}

}  // namespace dvs::libdvs
