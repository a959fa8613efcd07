// libdvs's side of the direct remote path: see direct_path.hpp.
#include "core/direct_path.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/proxy/wire.hpp"
#include "transports/registry.hpp"

namespace dvs::libdvs {

namespace {

constexpr int kDialTimeoutMs = 1000;

struct NodeLink {
  std::mutex mu;                          // guards link and uri (not the sends: Link::send is)
  std::shared_ptr<transport::Link> link;  // null until dialed, and after it failed
  std::string uri;                        // where it was dialed
};

NodeLink* links() {
  static NodeLink* all = new NodeLink[DVS_NR_NODES];  // never destroyed: threads may outlive main
  return all;
}

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

// The link of this process to node (dialed and introduced now if there is none). nullptr if it
// cannot be had.
std::shared_ptr<transport::Link> link_to(core::DcTable& t, int node) {
  NodeLink& nl = links()[node];
  std::lock_guard<std::mutex> g(nl.mu);
  const std::string uri = t.direct_uri(node);
  if (nl.link && nl.uri == uri) return nl.link;
  nl.link.reset();
  transport::register_builtin_transports();
  std::string_view scheme, rest;
  if (!transport::split_uri(uri, &scheme, &rest)) return nullptr;
  transport::Transport* tr = transport::find_transport(scheme);
  if (!tr) return nullptr;
  int err = 0;
  std::unique_ptr<transport::Link> l = tr->dial(uri, kDialTimeoutMs, &err);
  if (!l) return nullptr;
  wire::Command hello;
  hello.hdr.command = wire::CMD_HELLO;
  hello.hdr.src_node = static_cast<uint8_t>(t.geometry().node_id);
  hello.hdr.dst_node = static_cast<uint8_t>(node);
  hello.hdr.src_ep = DVS_NONE;
  hello.hdr.dst_ep = DVS_NONE;
  hello.hdr.timestamp_ns = now_ns();
  hello.payload = std::as_bytes(std::span<const char>(wire::kDirectHelloPayload.data(), wire::kDirectHelloPayload.size()));
  if (send_frame(*l, hello) != 0) return nullptr;
  nl.link = std::shared_ptr<transport::Link>(std::move(l));
  nl.uri = uri;
  return nl.link;
}

void drop_link(int node, const std::shared_ptr<transport::Link>& failed) {
  NodeLink& nl = links()[node];
  std::lock_guard<std::mutex> g(nl.mu);
  if (nl.link == failed) nl.link.reset();
}

int send_direct(core::DcTable& t, const core::DirectCommand& dc) {
  if (dc.node < 0 || dc.node >= DVS_NR_NODES) return EDVSBADNODEID;
  std::shared_ptr<transport::Link> link = link_to(t, dc.node);
  if (!link) return EDVSNOTCONN;
  wire::Command c;
  c.hdr.command = static_cast<uint16_t>(dc.cmd);  // core's command numbers are the wire's
  c.hdr.dcid = static_cast<uint8_t>(t.geometry().dcid);
  c.hdr.src_node = static_cast<uint8_t>(t.geometry().node_id);
  c.hdr.dst_node = static_cast<uint8_t>(dc.node);
  c.hdr.src_ep = dc.src_ep;
  c.hdr.dst_ep = dc.dst_ep;
  c.hdr.seq = dc.seq;
  c.hdr.ack_seq = dc.ack_seq;
  c.hdr.timestamp_ns = now_ns();
  c.msg = dc.msg;
  const int rc = send_frame(*link, c);
  if (rc == EDVSNOTCONN) drop_link(dc.node, link);  // the next call dials again
  return rc;
}

}  // namespace

void install_direct_path() { core::set_direct_sender(&send_direct); }

void forget_direct_links_after_fork() {
  for (int n = 0; n < DVS_NR_NODES; ++n) {
    NodeLink& nl = links()[n];
    new (&nl.mu) std::mutex;  // the parent's lock state is meaningless here
    if (nl.link) {
      // Closing would say goodbye on the parent's connection: leak the object, close only our fd.
      if (int fd = nl.link->poll_fd(); fd >= 0) close(fd);
      new (&nl.link) std::shared_ptr<transport::Link>();
    }
    nl.uri.clear();
  }
}

}  // namespace dvs::libdvs
