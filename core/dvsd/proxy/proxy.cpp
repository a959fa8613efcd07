#include "core/dvsd/proxy/proxy.hpp"

#include <sched.h>
#include <sys/uio.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <utility>

#include "core/dvsd/proxy/proxy_queue.hpp"
#include "core/dvsd/proxy/sealed_link.hpp"
#include "core/dvsd/table_admin.hpp"
#include "core/dvsd/wire/wire.hpp"
#include "core/ipc/primitives.hpp"
#include "core/ipc/remote_inbound.hpp"
#include "core/ipc/waiter.hpp"
#include "transports/registry.hpp"

namespace dvs::dvsd {

namespace {
int64_t now_ns() { return core::monotonic_ns(); }

transport::Transport* transport_for(const std::string& uri) {
  std::string_view scheme, rest;
  if (!transport::split_uri(uri, &scheme, &rest)) return nullptr;
  return transport::find_transport(scheme);
}
}  // namespace

ProxySet::ProxySet(int node_id, std::vector<core::DcTable*> tables, std::vector<std::string> listen_uris,
                   std::vector<PeerSpec> peers, ProxyOptions opt)
    : node_id_(node_id), tables_(std::move(tables)), listen_uris_(std::move(listen_uris)), opt_(opt) {
  for (auto& ps : peers) {
    auto p = std::make_unique<Peer>();
    p->node = ps.node;
    p->uri = ps.uri;
    p->direct = ps.direct.value_or(opt_.direct);
    peers_.push_back(std::move(p));
  }
}

bool ProxySet::any_direct() const {
  return std::any_of(peers_.begin(), peers_.end(), [](const auto& p) { return p->direct; });
}

ProxySet::~ProxySet() { stop(); }

void ProxySet::log(const std::string& line) const { std::fprintf(stderr, "dvsd[node %d] proxy: %s\n", node_id_, line.c_str()); }

ProxySet::Peer* ProxySet::peer(int node) {
  for (auto& p : peers_)
    if (p->node == node) return p.get();
  return nullptr;
}

core::DcTable* ProxySet::table(int dcid) {
  for (auto* t : tables_)
    if (t->geometry().dcid == dcid) return t;
  return nullptr;
}

std::string ProxySet::listen_uri() const {
  auto all = listen_uris();
  return all.empty() ? "" : all.front();
}

std::vector<std::string> ProxySet::listen_uris() const { return bound_uris_.empty() ? listen_uris_ : bound_uris_; }

std::string ProxySet::start() {
  transport::register_builtin_transports();
  bool need_listener = false;
  for (auto& p : peers_) {
    if (p->node == node_id_) return "peer " + std::to_string(p->node) + " is this node";
    if (p->node < node_id_) need_listener = true;
    if (p->node > node_id_ && !transport_for(p->uri)) return "no transport for peer URI " + p->uri;
  }
  if (need_listener && listen_uris_.empty()) return "peers with lower ids dial this node: --listen URI is needed";
  if (any_direct() && listen_uris_.empty())
    return "the direct remote path: the peers' processes dial this node: --listen URI is needed";
  if (auto err = open_listeners(); !err.empty()) {
    for (auto& l : listeners_) l->close();
    listeners_.clear();
    bound_uris_.clear();
    return err;
  }
  // What this node's processes need to open process links of the direct path (link_auth.hpp):
  // the key of their own node and DC only.
  for (auto* t : tables_) {
    t->set_max_autobound(opt_.max_autobound);
    if (!opt_.key) continue;
    const linkauth::Key k = linkauth::process_link_key(*opt_.key, node_id_, t->geometry().dcid);
    t->set_link_security(opt_.seal ? core::kLinksSealed : core::kLinksAuthenticated, k.data());
  }
  for (size_t i = 0; i < listeners_.size(); ++i) accepts_.emplace_back([this, i] { accept_thread(i); });
  for (auto& p : peers_) {
    Peer* raw = p.get();
    raw->thread = std::thread([this, raw] { link_thread(*raw); });
  }
  for (auto* t : tables_) dispatchers_.emplace_back([this, t] { dispatch_thread(t); });
  return "";
}

std::string ProxySet::open_listeners() {
  for (const auto& uri : listen_uris_) {
    transport::Transport* tr = transport_for(uri);
    if (!tr) return "no transport for listen URI " + uri;
    auto av = tr->probe();
    if (!av.available) return std::string(tr->scheme()) + " transport unavailable: " + av.reason;
    int err = 0;
    auto l = tr->listen(uri, &err);
    if (!l) return "cannot listen on " + uri + ": " + dvs_strerror(err);
    bound_uris_.push_back(l->uri());
    listeners_.push_back(std::move(l));
  }
  return "";
}

void ProxySet::stop() {
  if (stopping_.exchange(true)) return;
  for (auto& l : listeners_) l->close();
  for (auto& p : peers_) {
    std::lock_guard<std::mutex> g(p->mu);
    if (p->link) p->link->close();
    if (p->handed) p->handed->close();
    p->cv.notify_all();
  }
  for (auto* t : tables_) core::ring_doorbell(*t);
  for (auto& a : accepts_)
    if (a.joinable()) a.join();
  std::vector<Handshake> handshakes;
  {
    std::lock_guard<std::mutex> g(handshakes_mu_);
    handshakes.swap(handshakes_);
  }
  for (auto& h : handshakes)  // each ends within handshake_ms
    if (h.thread.joinable()) h.thread.join();
  for (auto& p : peers_)
    if (p->thread.joinable()) p->thread.join();
  for (auto& d : dispatchers_)
    if (d.joinable()) d.join();
  std::vector<ProcessLinkThread> process_links;
  {
    std::lock_guard<std::mutex> g(process_links_mu_);
    process_links.swap(process_links_);
  }
  for (auto& t : process_links)
    if (t.thread.joinable()) t.thread.join();
  std::lock_guard<std::mutex> g(handed_mu_);
  for (auto& [key, h] : handed_) h.link->close();
  handed_.clear();
}

void ProxySet::set_up(Peer& p, bool up) {
  if (!up) {  // copies in flight on that link will not be answered
    std::lock_guard<std::mutex> g(copies_mu_);
    for (auto it = copies_.begin(); it != copies_.end();)
      it = (it->second.node == p.node || it->second.relay_node == p.node) ? copies_.erase(it) : std::next(it);
  }
  if (!up) close_process_links(p);
  for (auto* t : tables_) core::proxy_set_up(*t, p.node, up);
  p.stats.set_up(up);
  {
    std::lock_guard<std::mutex> g(p.mu);
    p.up = up;
  }
  p.cv.notify_all();
}

int ProxySet::add_node(core::DcTable& t, int node) {
  Peer* p = peer(node);
  if (!p) return EDVSNOPROXY;  // no link to that node is configured
  std::lock_guard<std::mutex> g(nodes_mu_);
  if (t.spans(node)) return EDVSNODEBUSY;
  t.set_nodes(t.nodes() | (1u << node));
  bool up = false;
  {
    std::lock_guard<std::mutex> lg(p->mu);
    up = p->link != nullptr;
  }
  if (up) core::proxy_set_up(t, node, true);
  log("DC " + std::to_string(t.geometry().dcid) + " spans node " + std::to_string(node) + " (add_node)");
  return 0;
}

int ProxySet::del_node(core::DcTable& t, int node) {
  std::lock_guard<std::mutex> g(nodes_mu_);
  if (!t.spans(node)) return EDVSNODCNODE;
  // New calls fail first; then what is in flight and the waits for its endpoints; then its
  // endpoints' descriptors go (callers blocked on them are answered by the unbind).
  t.set_nodes(t.nodes() & ~(1u << node));
  core::proxy_set_up(t, node, false);
  for (int i = 0; i < t.geometry().nr_slots(); ++i) {
    core::Slot& s = t.slot(i);
    if ((s.flags.load() & DVS_REMOTE) && s.node.load() == node) (void)core::admin_unbind(t, i);
  }
  log("DC " + std::to_string(t.geometry().dcid) + " no longer spans node " + std::to_string(node) + " (del_node)");
  return 0;
}

namespace {
// Copies between this process (dvsd) and pid; false on any failure.
bool copy_with(pid_t pid, bool read_remote, void* local, uint64_t remote_addr, size_t len) {
  size_t done = 0;
  while (done < len) {
    iovec l{static_cast<char*>(local) + done, len - done};
    iovec r{reinterpret_cast<void*>(remote_addr + done), len - done};
    ssize_t n = read_remote ? process_vm_readv(pid, &l, 1, &r, 1, 0) : process_vm_writev(pid, &l, 1, &r, 1, 0);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}
}  // namespace

void ProxySet::start_vcopy(Peer& p, core::DcTable& t, const core::OutboundJob& job) {
  const int dcid = t.geometry().dcid;
  core::VcopyRequest v = core::unpack_vcopy(job.msg);
  const int32_t rqtr = job.src_ep;
  const uint32_t seq = job.seq;
  const uint64_t chunk = std::min<uint64_t>(opt_.copy_chunk, wire::kMaxPayload);
  // The local party decides the direction: push our data (COPYIN) or pull theirs (COPYOUT).
  auto remote_node = [&](int32_t ep) {
    int x = -1;
    if (core::index_of_endpoint_public(t, ep, &x) != 0 || !(t.slot(x).flags.load() & DVS_REMOTE)) return -1;
    return t.slot(x).node.load();
  };
  const int src_node = remote_node(v.src_ep), dst_node = remote_node(v.dst_ep);
  const bool src_local = src_node < 0;
  const bool relay = src_node >= 0 && dst_node >= 0;
  int32_t remote_ep = src_local ? v.dst_ep : v.src_ep;
  pid_t pid = 0;
  if (!relay) {
    if (int rc = core::proxy_copy_party(t, src_local ? v.src_ep : v.dst_ep, rqtr, &pid); rc != 0) {
      core::proxy_complete(t, p.node, core::kCmdVcopy, rqtr, seq, rc);
      return;
    }
  } else if (!peer(dst_node) || !core::proxy_is_up(t, dst_node)) {
    core::proxy_complete(t, p.node, core::kCmdVcopy, rqtr, seq, EDVSNOTCONN);
    return;
  }
  uint64_t chunks = (v.bytes + chunk - 1) / chunk;
  {
    std::lock_guard<std::mutex> g(copies_mu_);
    copies_[{dcid, rqtr, seq}] = CopyOp{p.node, relay ? dst_node : -1, chunks, 0, 0, v.bytes, v};
  }
  std::vector<std::byte> data(src_local ? chunk : 0);
  for (uint64_t off = 0; off < v.bytes; off += chunk) {
    uint32_t len = static_cast<uint32_t>(std::min(chunk, v.bytes - off));
    wire::VcopyDesc d{v.src_ep, v.dst_ep, rqtr, len, v.src_addr, v.dst_addr, v.bytes, off};
    int rc = 0;
    std::span<const std::byte> payload;
    if (src_local) {
      if (!copy_with(pid, true, data.data(), v.src_addr + off, len)) rc = EDVSFAULT;
      payload = std::span<const std::byte>(data.data(), len);
    }
    if (rc == 0)
      rc = send_copy_chunk(p, t, src_local ? wire::CMD_COPYIN_DATA : wire::CMD_COPYOUT_RQST, rqtr, remote_ep, seq, d,
                           payload);
    if (rc != 0) {  // the chunks not sent count as answered with this error
      uint64_t unsent = chunks - off / chunk;
      for (uint64_t i = 0; i < unsent; ++i) copy_answered(t, rqtr, seq, rc);
      return;
    }
  }
}

int ProxySet::send_copy_chunk(Peer& p, core::DcTable& t, uint16_t command, int32_t src_ep, int32_t dst_ep, uint64_t seq,
                              const wire::VcopyDesc& d, std::span<const std::byte> payload) {
  wire::Command c;
  c.hdr.command = command;
  c.hdr.dcid = static_cast<uint8_t>(t.geometry().dcid);
  c.hdr.src_node = static_cast<uint8_t>(node_id_);
  c.hdr.dst_node = static_cast<uint8_t>(p.node);
  c.hdr.src_ep = src_ep;
  c.hdr.dst_ep = dst_ep;
  c.hdr.seq = seq;
  c.vcopy = d;
  c.payload = payload;
  return send_command(p, c, opt_.lz4);
}

int ProxySet::send_command(Peer& p, const wire::Command& c, bool lz4) {
  // Header and body encoded apart from the payload, which goes straight from the caller's
  // buffer to the link in one gather send (no copy into a frame).
  thread_local std::vector<std::byte> head;
  std::span<const std::byte> payload;
  wire::EncodeOptions eo;
  eo.lz4 = lz4;
  if (auto e = wire::encode_frame_head(c, head, &payload, eo); e != wire::WireError::kOk) {
    log("refusing to send an invalid " + std::string(wire::command_info(c.hdr.command).name) + ": " + wire::reason(e));
    return EDVSBADVALUE;
  }
  std::shared_ptr<transport::Link> link;
  {
    std::lock_guard<std::mutex> g(p.mu);
    link = p.link;
  }
  if (!link) return EDVSNOTCONN;
  iovec iov[2] = {{head.data(), head.size()}, {const_cast<std::byte*>(payload.data()), payload.size()}};
  int rc = link->send(std::span<const iovec>(iov, payload.empty() ? 1 : 2));
  p.stats.sent(rc, head.size() + payload.size());
  if (rc == 0) p.last_tx_ns.store(now_ns(), std::memory_order_relaxed);
  return rc;
}

void ProxySet::copy_answered(core::DcTable& t, int32_t rqtr_ep, uint32_t seq, int rcode) {
  const int dcid = t.geometry().dcid;
  long result = 0;
  int wait_node = -1;
  {
    std::lock_guard<std::mutex> g(copies_mu_);
    auto it = copies_.find({dcid, rqtr_ep, seq});
    if (it == copies_.end()) return;  // stale (the requester gave up, or the link went down)
    CopyOp& op = it->second;
    if (rcode < 0 && op.error == 0) op.error = rcode;
    if (++op.answered < op.chunks) return;
    result = op.error != 0 ? op.error : static_cast<long>(op.bytes);
    wait_node = op.node;
    copies_.erase(it);
  }
  core::proxy_complete(t, wait_node, core::kCmdVcopy, rqtr_ep, seq, static_cast<int>(std::min<long>(result, INT32_MAX)));
}

std::optional<ProxySet::CopyOp> ProxySet::copy_of(int dcid, int32_t rqtr_ep, uint32_t seq) {
  std::lock_guard<std::mutex> g(copies_mu_);
  auto it = copies_.find({dcid, rqtr_ep, seq});
  if (it == copies_.end()) return std::nullopt;
  return it->second;
}

int ProxySet::remote_requester_may_copy(const Peer& p, core::DcTable& t, const wire::Command& c) {
  const int32_t rqtr = c.vcopy.rqtr_ep;
  if (c.hdr.src_ep != rqtr) return EDVSBADSRCDST;
  int x = core::kNoSlot;
  if (core::index_of_endpoint_public(t, rqtr, &x) != 0) return EDVSBADSRCDST;
  const core::Slot& s = t.slot(x);
  const uint32_t f = s.flags.load(std::memory_order_acquire);
  // A local process, or one that lives on another node, is not p's to speak for (a free slot is
  // not known here: it may live on p's node).
  if (!(f & DVS_SLOT_FREE) && (!(f & DVS_REMOTE) || s.node.load(std::memory_order_relaxed) != p.node))
    return EDVSBADSRCDST;
  // vcopy is a system process's call, here as on its own node (ipc_vcopy).
  return t.geometry().is_system_index(x) ? 0 : EDVSPRIVILEGES;
}

void ProxySet::handle_copy(Peer& p, core::DcTable& t, const wire::Command& c) {
  const auto& h = c.hdr;
  const auto& v = c.vcopy;
  const int dcid = t.geometry().dcid;
  auto answer = [&](uint16_t command, int rcode, std::span<const std::byte> payload) {
    wire::Command a;
    a.hdr.command = command;
    a.hdr.dcid = static_cast<uint8_t>(dcid);
    a.hdr.src_node = static_cast<uint8_t>(node_id_);
    a.hdr.dst_node = static_cast<uint8_t>(p.node);
    a.hdr.src_ep = h.dst_ep;
    a.hdr.dst_ep = h.src_ep;
    a.hdr.ack_seq = h.seq;
    a.hdr.rcode = rcode;
    a.vcopy = v;
    if (rcode == 0) a.payload = payload;
    send_command(p, a, opt_.lz4);
  };
  pid_t pid = 0;
  switch (h.command) {
    case wire::CMD_COPYIN_DATA: {  // write the chunk into our local destination
      int rc = remote_requester_may_copy(p, t, c);
      if (rc == 0) rc = core::proxy_copy_party(t, v.dst_ep, v.rqtr_ep, &pid);
      if (rc == 0 && !copy_with(pid, false, const_cast<std::byte*>(c.payload.data()), v.dst_addr + v.offset, v.chunk_len))
        rc = EDVSFAULT;
      answer(wire::CMD_COPYIN_ACK, rc, {});
      return;
    }
    case wire::CMD_COPYOUT_RQST: {  // read the chunk from our local source
      thread_local std::vector<std::byte> data;
      data.resize(v.chunk_len);
      int rc = remote_requester_may_copy(p, t, c);
      if (rc == 0) rc = core::proxy_copy_party(t, v.src_ep, v.rqtr_ep, &pid);
      if (rc == 0 && !copy_with(pid, true, data.data(), v.src_addr + v.offset, v.chunk_len)) rc = EDVSFAULT;
      answer(wire::CMD_COPYOUT_DATA, rc, data);
      return;
    }
    case wire::CMD_COPYIN_ACK: {
      // Only the node the chunk went to answers it (the relay's destination node when relayed).
      std::optional<CopyOp> op = copy_of(dcid, v.rqtr_ep, static_cast<uint32_t>(h.ack_seq));
      if (!op || p.node != (op->relay_node >= 0 ? op->relay_node : op->node)) return;  // stale or not its copy
      copy_answered(t, v.rqtr_ep, static_cast<uint32_t>(h.ack_seq), h.rcode);
      return;
    }
    case wire::CMD_COPYOUT_DATA: {  // the pulled chunk: write it into our local destination
      // Only an answer to one of our pulls, from the node it asked, within the copy; where it
      // goes is what our requester asked (our record), never what the frame says.
      std::optional<CopyOp> op = copy_of(dcid, v.rqtr_ep, static_cast<uint32_t>(h.ack_seq));
      if (!op || p.node != op->node) return;
      const uint64_t chunk = std::min<uint64_t>(opt_.copy_chunk, wire::kMaxPayload);
      const bool in_copy = v.offset % chunk == 0 && v.offset < op->bytes &&
                           v.chunk_len == std::min<uint64_t>(chunk, op->bytes - v.offset) &&
                           (h.rcode != 0 || c.payload.size() == v.chunk_len);
      if (!in_copy) {
        copy_answered(t, v.rqtr_ep, static_cast<uint32_t>(h.ack_seq), EDVSBADVALUE);
        return;
      }
      wire::VcopyDesc mine = v;
      mine.src_ep = op->request.src_ep;
      mine.dst_ep = op->request.dst_ep;
      mine.src_addr = op->request.src_addr;
      mine.dst_addr = op->request.dst_addr;
      mine.bytes = op->request.bytes;
      if (op->relay_node >= 0 && h.rcode == 0) {  // both parties remote: push the chunk on to the destination's node
        Peer* dst = peer(op->relay_node);
        int rc = dst ? send_copy_chunk(*dst, t, wire::CMD_COPYIN_DATA, v.rqtr_ep, mine.dst_ep, h.ack_seq, mine, c.payload)
                     : EDVSNOTCONN;
        if (rc != 0) copy_answered(t, v.rqtr_ep, static_cast<uint32_t>(h.ack_seq), rc);
        return;
      }
      int rc = h.rcode;
      if (rc == 0) rc = core::proxy_copy_party(t, mine.dst_ep, v.rqtr_ep, &pid);
      if (rc == 0 &&
          !copy_with(pid, false, const_cast<std::byte*>(c.payload.data()), mine.dst_addr + v.offset, v.chunk_len))
        rc = EDVSFAULT;
      copy_answered(t, v.rqtr_ep, static_cast<uint32_t>(h.ack_seq), rc);
      return;
    }
    default:  // COPYLCL / COPYRMT / COPYIN_RQST (both parties remote): not yet
      if (!wire::is_ack(h.command)) answer(wire::ack_of(h.command), EDVSNOSYS, {});
      return;
  }
}

int ProxySet::send_cmd(Peer& p, int dcid, int command, int32_t src_ep, int32_t dst_ep, uint64_t seq, uint64_t ack_seq,
                       int32_t rcode, const dvs_message_t* msg) {
  wire::Command c;
  c.hdr.command = static_cast<uint16_t>(command);
  c.hdr.dcid = static_cast<uint8_t>(dcid);
  c.hdr.src_node = static_cast<uint8_t>(node_id_);
  c.hdr.dst_node = static_cast<uint8_t>(p.node);
  c.hdr.src_ep = src_ep;
  c.hdr.dst_ep = dst_ep;
  c.hdr.seq = seq;
  c.hdr.ack_seq = ack_seq;
  c.hdr.rcode = rcode;
  c.hdr.timestamp_ns = static_cast<uint64_t>(now_ns());
  if (msg) c.msg = *msg;
  return send_command(p, c, false);
}

std::string ProxySet::scheme_of(const std::string& uri) {
  const size_t at = uri.find("://");
  return at == std::string::npos ? "" : uri.substr(0, at);
}

wire::Command ProxySet::link_command(uint16_t command, int peer_node) const {
  wire::Command c;
  c.hdr.command = command;
  c.hdr.src_node = static_cast<uint8_t>(node_id_);
  c.hdr.dst_node = static_cast<uint8_t>(peer_node);
  c.hdr.src_ep = DVS_NONE;
  c.hdr.dst_ep = DVS_NONE;
  c.hdr.timestamp_ns = static_cast<uint64_t>(now_ns());
  return c;
}

std::string ProxySet::hello_claim(const Peer& p, const std::string& link_scheme) const {
  if (!p.direct || bound_uris_.empty()) return "";
  std::string uri = bound_uris_.front();  // where the peer's processes dial us: a listener of the link's kind
  for (const auto& u : bound_uris_)
    if (scheme_of(u) == link_scheme) {
      uri = u;
      break;
    }
  return std::string(wire::kDirectUriPrefix) + uri;
}

void ProxySet::learn_direct_uri(Peer& p, std::string_view claim) {
  if (!p.direct) return;
  if (claim.substr(0, wire::kDirectUriPrefix.size()) != wire::kDirectUriPrefix) return;
  const std::string uri(claim.substr(wire::kDirectUriPrefix.size()));
  if (!transport_for(uri)) {
    log("node " + std::to_string(p.node) + " announced a direct URI no transport takes: " + uri);
    return;
  }
  for (auto* t : tables_)
    if (t->direct_uri(p.node) != uri || !t->direct_to(p.node)) t->set_direct(p.node, uri);
}

std::optional<linkauth::Key> ProxySet::key_for(int dialer, std::string_view claim, std::string* why) {
  if (!peer(dialer)) {
    *why = "node " + std::to_string(dialer) + " is not a peer of this node";
    return std::nullopt;
  }
  int dcid = -1;
  int32_t ep = DVS_NONE;
  if (!wire::parse_direct_hello(claim, &dcid, &ep)) return opt_.key;  // a node link
  if (!table(dcid)) {
    *why = "a process link of node " + std::to_string(dialer) + " for DC " + std::to_string(dcid) + ", not hosted here";
    return std::nullopt;
  }
  return linkauth::process_link_key(*opt_.key, dialer, dcid);
}

void ProxySet::accept_thread(size_t i) {
  transport::Listener& listener = *listeners_[i];
  while (!stopping_.load()) {
    int err = 0;
    auto link = listener.accept(500, &err);
    {
      std::lock_guard<std::mutex> g(handshakes_mu_);
      for (auto it = handshakes_.begin(); it != handshakes_.end();) {  // reap the ended ones
        if (!it->done->load()) {
          ++it;
          continue;
        }
        it->thread.join();
        it = handshakes_.erase(it);
      }
      if (!link || stopping_.load()) continue;
      // Each handshake on a thread of its own, bounded by handshake_ms: silent dialers delay no
      // one. Beyond max_handshakes at once, a dial is closed unread.
      if (handshakes_.size() >= static_cast<size_t>(opt_.max_handshakes)) {
        log("dropping an incoming link from " + link->peer() + ": " + std::to_string(handshakes_.size()) +
            " handshakes in progress");
        continue;
      }
      auto done = std::make_shared<std::atomic<bool>>(false);
      handshakes_.push_back({std::thread([this, i, l = std::move(link), done]() mutable {
                               admit(i, std::move(l));
                               done->store(true);
                             }),
                             done});
    }
  }
}

void ProxySet::admit(size_t listener, std::unique_ptr<transport::Link> link) {
  linkauth::AcceptedHello a;
  linkauth::KeyFor key;
  if (opt_.key) key = [this](int dialer, std::string_view claim, std::string* why) { return key_for(dialer, claim, why); };
  if (auto why = linkauth::accept_handshake(*link, node_id_, key, opt_.handshake_ms, &a); !why.empty()) {
    log("refusing an incoming link from " + link->peer() + ": " + why);
    return;
  }
  if (opt_.key && opt_.seal) link = linkauth::seal(std::move(link), a.keys, linkauth::Role::kListener);
  int dcid = -1;
  int32_t ep = DVS_NONE;
  const bool process_link = wire::parse_direct_hello(a.inner, &dcid, &ep);
  Peer* p = peer(a.dialer_node);
  if (!p) {
    log("refusing an incoming link from " + link->peer() + ": node " + std::to_string(a.dialer_node) + " is not a peer");
    return;
  }
  if (process_link) {  // a process of a peer node, on the direct path
    // Its node may count the node link up before this one does (the two ends of an opening do
    // not finish at once); the calls it carries wait for this node to count it up too, within a
    // bound (after it, they meet the link's state as it is: a send is refused while it is down).
    {
      std::unique_lock<std::mutex> lk(p->mu);
      p->cv.wait_for(lk, std::chrono::milliseconds(opt_.process_link_wait_ms), [&] { return stopping_.load() || p->up; });
    }
    take_process_link(*p, listener, dcid, ep, std::move(link));
    return;
  }
  if (p->node > node_id_) {
    log("refusing a node link from node " + std::to_string(p->node) + ": this node dials it");
    return;
  }
  std::lock_guard<std::mutex> g(p->mu);
  if (p->link || p->handed) {  // never replaced while up: a restarted peer redials once it went down
    log("refusing a second link from node " + std::to_string(p->node) + " (" + link->peer() + "): its link is up");
    return;
  }
  learn_direct_uri(*p, a.inner);  // before the link counts as up: no call takes the proxy path for want of it
  p->handed = std::shared_ptr<transport::Link>(std::move(link));
  p->via_listener.store(static_cast<int>(listener));
  p->cv.notify_all();
}

void ProxySet::serve_process_link_async(Peer& p, std::shared_ptr<transport::Link> link, int dcid) {
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::lock_guard<std::mutex> g(process_links_mu_);
  if (stopping_.load()) return;
  for (auto it = process_links_.begin(); it != process_links_.end();) {  // reap the ended ones
    if (!it->done->load()) {
      ++it;
      continue;
    }
    it->thread.join();
    it = process_links_.erase(it);
  }
  Peer* pp = &p;
  process_links_.push_back({std::thread([this, pp, link, done, dcid] {
                              serve_process_link(*pp, link, dcid);
                              done->store(true);
                            }),
                            done, pp, link});
}

void ProxySet::close_process_links(Peer& p) {
  {
    std::lock_guard<std::mutex> g(process_links_mu_);
    for (auto& t : process_links_)
      if (t.peer == &p && !t.done->load()) t.link->close();
  }
  std::lock_guard<std::mutex> g(handed_mu_);
  for (auto it = handed_.begin(); it != handed_.end();) {
    if (it->second.peer != &p) {
      ++it;
      continue;
    }
    it->second.link->close();
    it = handed_.erase(it);
  }
}

namespace {
// The pid of the process bound to local endpoint ep of t, or 0.
pid_t local_owner(core::DcTable& t, int32_t ep) {
  int index = core::kNoSlot;
  if (core::index_of_endpoint_public(t, ep, &index) != 0) return 0;
  core::Slot& s = t.slot(index);
  const uint32_t f = s.flags.load(std::memory_order_acquire);
  if ((f & (DVS_SLOT_FREE | DVS_REMOTE)) || s.endpoint.load(std::memory_order_relaxed) != ep) return 0;
  return s.lpid.load(std::memory_order_relaxed);
}
}  // namespace

void ProxySet::take_process_link(Peer& p, size_t listener, int dcid, int32_t ep,
                                 std::unique_ptr<transport::Link> link) {
  std::shared_ptr<transport::Link> shared(std::move(link));
  const wire::Command ack = link_command(wire::CMD_HELLO_ACK, p.node);
  std::vector<std::byte> frame;
  if (wire::encode_frame(ack, frame) != wire::WireError::kOk) return;
  iovec iov{frame.data(), frame.size()};
  if (shared->send(std::span<const iovec>(&iov, 1)) != 0) return;  // the dialer is gone already
  core::DcTable* t = table(dcid);
  const int fd = shared->handover_fd();
  if (inboxes_ && t && fd >= 0) {
    core::LinkHandover h;
    h.dcid = dcid;
    h.ep = ep;
    h.node = p.node;
    const std::string scheme = scheme_of(bound_uris_[listener]);
    scheme.copy(h.scheme, sizeof h.scheme - 1);
    std::lock_guard<std::mutex> g(handed_mu_);
    const pid_t pid = local_owner(*t, ep);  // checked under handed_mu_: see take_back
    if (pid > 0 && inboxes_->hand_over(pid, h, fd)) {
      handed_.emplace(std::make_pair(dcid, ep), HandedLink{&p, shared});
      return;
    }
  }
  serve_process_link_async(p, shared, dcid);
}

void ProxySet::take_back(int dcid, int32_t ep) {
  std::vector<HandedLink> back;
  {
    // The unbind came first: a hand-over after this lock sees the endpoint unbound.
    std::lock_guard<std::mutex> g(handed_mu_);
    auto [from, to] = handed_.equal_range(std::make_pair(dcid, ep));
    for (auto it = from; it != to; ++it) back.push_back(std::move(it->second));
    handed_.erase(from, to);
  }
  for (auto& h : back) serve_process_link_async(*h.peer, std::move(h.link), dcid);
}

void ProxySet::link_thread(Peer& p) {
  while (!stopping_.load()) {
    std::shared_ptr<transport::Link> link;
    if (p.node > node_id_) {  // we dial
      transport::Transport* tr = transport_for(p.uri);
      int err = 0;
      auto l = tr ? tr->dial(p.uri, 1000, &err) : nullptr;
      if (!l) {
        std::unique_lock<std::mutex> lk(p.mu);
        p.cv.wait_for(lk, std::chrono::milliseconds(opt_.dial_retry_ms), [&] { return stopping_.load(); });
        continue;
      }
      linkauth::SessionKeys keys;
      const linkauth::DialerHello hello{node_id_, p.node, hello_claim(p, scheme_of(p.uri)), opt_.key ? &*opt_.key : nullptr};
      if (auto why = linkauth::dial_handshake(*l, hello, opt_.handshake_ms, &keys); !why.empty()) {
        log("link to node " + std::to_string(p.node) + " not opened: " + why);
        l->close();
        std::unique_lock<std::mutex> lk(p.mu);
        p.cv.wait_for(lk, std::chrono::milliseconds(opt_.dial_retry_ms), [&] { return stopping_.load(); });
        continue;
      }
      if (opt_.key && opt_.seal) l = linkauth::seal(std::move(l), keys, linkauth::Role::kDialer);
      link = std::shared_ptr<transport::Link>(std::move(l));
      {
        std::lock_guard<std::mutex> g(p.mu);
        p.link = link;
      }
      // Our processes dial the peer where we did (its listener takes process links too), known
      // before the link counts as up: no call takes the proxy path for want of an address.
      if (p.direct)
        for (auto* t : tables_) t->set_direct(p.node, p.uri);
    } else {  // it dials us: wait for the accept thread
      std::unique_lock<std::mutex> lk(p.mu);
      p.cv.wait(lk, [&] { return stopping_.load() || p.handed != nullptr; });
      if (stopping_.load()) return;
      link = std::move(p.handed);
      p.link = link;
      lk.unlock();
      send_cmd(p, 0, wire::CMD_HELLO_ACK, DVS_NONE, DVS_NONE, 0, 0, 0, nullptr);
    }
    log("link to node " + std::to_string(p.node) + " up (" + link->peer() + ")");
    set_up(p, true);
    serve_link(p, link);
    {
      std::lock_guard<std::mutex> g(p.mu);
      if (p.link == link) p.link.reset();
    }
    link->close();
    set_up(p, false);
  }
}

void ProxySet::serve_link(Peer& p, const std::shared_ptr<transport::Link>& link) {
  int64_t last_rx = now_ns();
  while (!stopping_.load()) {
    std::span<const std::byte> frame;
    // With --poll-us, keep polling for a while after traffic before blocking: a reply that
    // follows within that window costs no wake-up (burns CPU; off by default).
    long n = EDVSTIMEDOUT;
    if (opt_.poll_us > 0) {
      int64_t until = now_ns() + int64_t{opt_.poll_us} * 1000;
      do {
        n = link->recv(&frame, 0);
        if (n != EDVSTIMEDOUT) break;
        sched_yield();
      } while (now_ns() < until);
    }
    if (n == EDVSTIMEDOUT) n = link->recv(&frame, opt_.heartbeat_ms);
    int64_t now = now_ns();
    // Our side of the heartbeat: the peer must hear from us every heartbeat_ms even while it
    // keeps us busy receiving (one-way traffic), or it would declare this link dead.
    if (now - p.last_tx_ns.load(std::memory_order_relaxed) >= int64_t{opt_.heartbeat_ms} * 1'000'000)
      send_cmd(p, 0, wire::CMD_HELLO, DVS_NONE, DVS_NONE, 0, 0, 0, nullptr);
    if (n == EDVSTIMEDOUT) {
      if (now - last_rx > int64_t{opt_.dead_ms} * 1'000'000) {
        log("link to node " + std::to_string(p.node) + " down: silent for " + std::to_string(opt_.dead_ms) + " ms");
        return;
      }
      continue;
    }
    if (n < 0) {
      log("link to node " + std::to_string(p.node) + " down: " + dvs_strerror(static_cast<int>(n)));
      return;
    }
    last_rx = now;
    p.stats.received(n);
    wire::DecodedFrame df;
    if (auto e = wire::decode_frame(frame, &df); e != wire::WireError::kOk) {
      log("closing link to node " + std::to_string(p.node) + ": bad frame (" + wire::reason(e) + ")");
      return;
    }
    for (const auto& c : df.commands)
      if (!dispatch_command(p, c, false)) return;
  }
}

bool ProxySet::dispatch_command(Peer& p, const wire::Command& c, bool process_link) {
  const auto& h = c.hdr;
  const char* kind = process_link ? "process link from node " : "link to node ";
  if (h.src_node != p.node || h.dst_node != node_id_) {
    log("closing " + std::string(kind) + std::to_string(p.node) + ": frame for node " + std::to_string(h.dst_node) +
        " from node " + std::to_string(h.src_node));
    return false;
  }
  if (h.command == wire::CMD_HELLO || h.command == wire::CMD_HELLO_ACK) return true;
  if (h.command == wire::CMD_SHUTDOWN) {
    log("node " + std::to_string(p.node) + " shut the link down");
    return false;
  }
  const bool vcopy = wire::command_info(h.command).body == wire::Body::kVcopy;
  if (process_link && vcopy) {  // a process puts its calls and its answers on it, never a copy
    log("closing process link from node " + std::to_string(p.node) + ": " + wire::command_info(h.command).name +
        " on a process link");
    return false;
  }
  core::DcTable* t = table(h.dcid);
  if (!t) {
    if (!wire::is_ack(h.command) && h.command != wire::CMD_NTFY_MSG)
      send_cmd(p, h.dcid, wire::ack_of(h.command), h.dst_ep, h.src_ep, 0, h.seq, EDVSBADDCID, nullptr);
    return true;
  }
  if (vcopy)
    handle_copy(p, *t, c);
  else
    handle(p, *t, h.command, h.src_ep, h.dst_ep, h.seq, h.ack_seq, h.rcode, c.msg, process_link);
  return true;
}

void ProxySet::serve_process_link(Peer& p, std::shared_ptr<transport::Link> link, int dcid) {
  while (!stopping_.load()) {
    std::span<const std::byte> frame;
    long n = EDVSTIMEDOUT;
    if (opt_.poll_us > 0) {
      const int64_t until = now_ns() + int64_t{opt_.poll_us} * 1000;
      do {
        n = link->recv(&frame, 0);
        if (n != EDVSTIMEDOUT) break;
        sched_yield();
      } while (now_ns() < until);
    }
    if (n == EDVSTIMEDOUT) n = link->recv(&frame, 500);  // 500 ms: notices stop()
    if (n == EDVSTIMEDOUT) continue;
    if (n < 0) break;  // the process exited or its node went away: nothing to clean up here
    p.stats.received(n);
    wire::DecodedFrame df;
    if (auto e = wire::decode_frame(frame, &df); e != wire::WireError::kOk) {
      log("closing a process link from node " + std::to_string(p.node) + ": bad frame (" + wire::reason(e) + ")");
      break;
    }
    bool keep = true;
    for (const auto& c : df.commands) {
      if (c.hdr.dcid != dcid) {  // the link was admitted for one DC (its key is that DC's)
        log("closing a process link from node " + std::to_string(p.node) + ": a frame for DC " +
            std::to_string(c.hdr.dcid) + " on a link of DC " + std::to_string(dcid));
        keep = false;
        break;
      }
      if (!(keep = dispatch_command(p, c, true))) break;
    }
    if (!keep) break;
  }
  link->close();
}

void ProxySet::handle(Peer& p, core::DcTable& t, int command, int32_t src_ep, int32_t dst_ep, uint64_t seq,
                      uint64_t ack_seq, int32_t rcode, const dvs_message_t& msg, bool process_link) {
  core::InboundCommand c;
  c.cmd = command;  // the wire's command numbers are core's
  c.src_ep = src_ep;
  c.dst_ep = dst_ep;
  c.seq = static_cast<uint32_t>(seq);
  c.ack_seq = static_cast<uint32_t>(ack_seq);
  c.rcode = rcode;
  c.msg = msg;
  // A direct replier does not wait for the outcome (docs/REMOTE_PATHS.md): no REPLY_ACK.
  const core::InboundAnswer a = core::handle_inbound(t, p.node, c, !process_link);
  if (a.cmd != core::kCmdNone) send_cmd(p, t.geometry().dcid, a.cmd, dst_ep, src_ep, 0, seq, a.rcode, nullptr);
}

// Builds the wire command for one popped job.
wire::Command ProxySet::command_for(int dcid, int dst_node, const core::OutboundJob& job) const {
  wire::Command c;
  const int command = job.cmd;  // the job's command numbers are the wire's (an answer is op|kAck)
  c.hdr.command = static_cast<uint16_t>(command);
  c.hdr.dcid = static_cast<uint8_t>(dcid);
  c.hdr.src_node = static_cast<uint8_t>(node_id_);
  c.hdr.dst_node = static_cast<uint8_t>(dst_node);
  c.hdr.src_ep = job.src_ep;
  c.hdr.dst_ep = job.dst_ep;
  c.hdr.seq = job.seq;
  c.hdr.ack_seq = job.ack_seq;
  c.hdr.rcode = (command & core::kAck) ? job.rcode : 0;
  c.hdr.timestamp_ns = static_cast<uint64_t>(now_ns());
  if (wire::command_info(c.hdr.command).body == wire::Body::kMessage) c.msg = job.msg;
  return c;
}

void ProxySet::send_jobs(Peer& p, core::DcTable& t, const std::vector<core::OutboundJob>& jobs) {
  if (jobs.empty()) return;
  const int dcid = t.geometry().dcid;
  std::vector<wire::Command> cmds;
  cmds.reserve(jobs.size());
  for (const auto& j : jobs) cmds.push_back(command_for(dcid, p.node, j));
  std::shared_ptr<transport::Link> link;
  {
    std::lock_guard<std::mutex> g(p.mu);
    link = p.link;
  }
  wire::BatchOptions bo;
  bo.max_commands = opt_.batch_max;
  bo.encode.lz4 = opt_.lz4;
  std::vector<std::byte> frame;
  size_t at = 0;
  while (at < cmds.size()) {
    auto pr = wire::pack_next(std::span<const wire::Command>(cmds).subspan(at), frame, bo);
    size_t n = pr.consumed == 0 ? 1 : pr.consumed;
    int rc = EDVSNOTCONN;
    if (pr.error != wire::WireError::kOk) {
      log("refusing to send an invalid " + std::string(wire::command_info(cmds[at].hdr.command).name) + ": " +
          wire::reason(pr.error));
      rc = EDVSBADVALUE;
    } else if (link) {
      iovec iov{frame.data(), frame.size()};
      rc = link->send(std::span<const iovec>(&iov, 1));
      p.stats.sent(rc, frame.size());
      if (rc == 0) p.last_tx_ns.store(now_ns(), std::memory_order_relaxed);
    }
    if (rc != 0) {  // callers wait for answers that will not come: fail them now
      for (size_t i = at; i < at + n; ++i)
        if (!(jobs[i].cmd & core::kAck))
          core::proxy_complete(t, p.node, jobs[i].cmd, jobs[i].src_ep, jobs[i].seq, rc == EDVSBADVALUE ? rc : EDVSNOTCONN);
    }
    at += n;
  }
}

void ProxySet::dispatch_thread(core::DcTable* t) {
  std::vector<core::OutboundJob> jobs;
  int64_t idle_since = 0;
  while (!stopping_.load()) {
    uint32_t seen = t->header().doorbell.load(std::memory_order_acquire);
    bool did = false;
    for (auto& p : peers_) {
      // Drain what is queued for this node (up to a batch) and send it in as few frames as the
      // batching options allow (the original's batching proxy, per link). Order is kept: a
      // vcopy flushes the commands popped before it.
      jobs.clear();
      core::OutboundJob job;
      while (jobs.size() < opt_.batch_max && core::proxy_pop(*t, p->node, &job) == 0) {
        did = true;
        if (job.cmd != core::kCmdVcopy) {
          jobs.push_back(job);
          continue;
        }
        send_jobs(*p, *t, jobs);
        jobs.clear();
        start_vcopy(*p, *t, job);
      }
      send_jobs(*p, *t, jobs);
    }
    if (did) {
      idle_since = 0;
      continue;
    }
    if (opt_.poll_us > 0) {  // see serve_link: poll a while after traffic before sleeping
      int64_t now = now_ns();
      if (idle_since == 0) idle_since = now;
      if (now - idle_since < int64_t{opt_.poll_us} * 1000) {
        sched_yield();
        continue;
      }
    }
    core::wait_doorbell(*t, seen, opt_.heartbeat_ms);
  }
}

}  // namespace dvs::dvsd
