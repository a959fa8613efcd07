// Web-server workload (docs/WEB.md): an HTTP/1.1 front end whose file contents come
// through DVS endpoints, in the configurations A–F of the original (Pessolani's thesis, web-server evaluation).
//
// Processes (fork()ed by WebServer::start; the caller keeps only their pids):
//   disk servers (optional) a pool of disk_servers processes, system slots disk_p_nr + i on node
//                disk_node: read byte ranges of files under root and push them by vcopy into
//                the requester's buffer.
//   file servers (optional) a pool of fs_servers processes, system slots fs_p_nr + i on node
//                fs_node: the same request; with disk servers, file server i forwards it
//                (sendrec) to disk server i mod disk_servers into its own buffer, then pushes
//                that by vcopy to the front end; without them it reads the file itself.
//                With disk servers, small files are answered from the file server's cache
//                when it has them (WebConfig::fs_cache_bytes, file_cache.hpp).
//   front end    the HTTP server on node front_node: `workers` threads, each bound to its own
//                user slot (dvs_tbind ANY), sharing one epoll set of connections: a worker takes
//                a connection with a request ready, answers what it can without waiting for the
//                client, and parks it again (keep-alive), so a connection waiting for its client
//                (a request head or body, or room in its socket: answers are written without
//                blocking, what the socket does not take queued on the connection, bounded)
//                holds no worker, and the rest of an answer longer than a chunk goes to a
//                streamer thread (at most 32); each request goes to the file server with the fewest requests
//                in flight from this front end; without a file server it reads the files itself (A).
//
// Protocol (one 64-byte message each way, m_u.raw):
//   request  m_type kWebRead; ReadRequest {offset, path_addr, dst_addr, len, path_len}, then
//            the path itself if it fits (path_len <= kInlinePath): else the server pulls it
//            (vcopy from path_addr). The server reads at most len bytes at offset and pushes
//            them to dst_addr (vcopy) while the requester is blocked in its sendrec.
//            len 0: only the size.
//   reply    m_type kWebReply; ReadReply {status (0, -errno, or a dvs error), size, bytes}.
#ifndef DVS_WORKLOADS_WEB_WEB_HPP
#define DVS_WORKLOADS_WEB_WEB_HPP

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dvs/dvs.h"

#include "workloads/rpc/children.hpp"

namespace dvs::workloads::web {

inline constexpr int32_t kWebRead = 0x5701;
inline constexpr int32_t kWebReply = 0x5702;
inline constexpr size_t kMaxPath = 1024;
inline constexpr size_t kInlinePath = 56 - 32;  // bytes of path carried in the request message
inline constexpr int kMaxServers = 8;           // per pool
inline constexpr size_t kCacheFileMax = 65536;  // largest file a file server caches (MoL-FS's buffer_size)

struct ReadRequest {
  uint64_t offset;
  uint64_t path_addr;
  uint64_t dst_addr;
  uint32_t len;
  uint32_t path_len;
};
struct ReadReply {
  int64_t status;
  uint64_t size;
  uint64_t bytes;
};
static_assert(sizeof(ReadRequest) == 32 && sizeof(ReadReply) == 24);

// Where each endpoint runs. fs_node / disk_node -1: that server is not used.
struct Layout {
  int front_node = 0;
  int fs_node = -1;
  int disk_node = -1;
};
// A..F of the original: A same node, direct; B via file server; C via file server + disk server;
// D front + FS on node 0, disk on node 1; E front on 0, FS on 1; F front on 0, FS + disk on 1.
bool layout_of(char letter, Layout* out);
std::string describe(const Layout& l);  // "front@0 -> fs@1 -> disk@1"

struct WebConfig {
  std::string root;                // directory served
  std::string sockets[2];          // dvsd of node 0 and node 1 ("" if that node is not needed)
  Layout layout;
  std::string host = "127.0.0.1";
  int port = 0;                    // 0: any free port (WebServer::port() tells)
  int workers = 8;                 // requests served at once (threads); connections are not bounded by it
  int fs_servers = 2;              // file server processes (when the layout has file servers)
  int disk_servers = 2;            // disk server processes (when the layout has disk servers)
  int front_wait = 2;              // the front end's dvs_set_wait (DVS_WAIT_BLOCK)
  int server_wait = 2;             // the file and disk servers' dvs_set_wait (DVS_WAIT_BLOCK)
  uint32_t spin_ns = DVS_DEFAULT_SPIN_NS;  // spin budget of DVS_WAIT_SPIN_THEN_BLOCK
  size_t chunk = size_t{1} << 20;  // bytes per vcopy (<= the DC's max_copylen)
  // Each file server with disk servers behind it caches whole files of at most kCacheFileMax
  // bytes (file_cache.hpp), fs_cache_bytes in all (0: off, every read reaches a disk server),
  // each used for at most fs_cache_ttl_ms after it was fetched.
  size_t fs_cache_bytes = size_t{8} << 20;
  int fs_cache_ttl_ms = 1000;
  int request_timeout_ms = 5000;   // a request head (and body) must arrive within this
  int idle_timeout_ms = 5000;      // keep-alive: close after this long without a request
  int send_timeout_ms = 5000;      // an answer the client takes none of for this long: close
  int ipc_timeout_ms = 10000;      // one sendrec
  int setup_timeout_ms = 10000;    // binds and links
  size_t max_header = 8192;        // request head larger: 413
  size_t max_body = 65536;         // request body larger: 413
  int dc = 0;
  int fs_p_nr = 8, disk_p_nr = 16;  // first system slot of each pool (pools of up to kMaxServers)
};

std::string validate(const WebConfig& c);  // "" or why not (one line)

class WebServer {
 public:
  WebServer() = default;
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;
  ~WebServer() { stop(); }
  // Listen, fork the servers and the front end, wait (bounded) until all are ready.
  bool start(const WebConfig& cfg, std::string* err);
  int port() const { return port_; }
  // "" while every process runs, else which one stopped and why.
  std::string check();
  // Requests taken so far by the file servers and by the disk servers (all of each pool),
  // link probes not counted.
  struct Counts {
    uint64_t fs_requests = 0, disk_requests = 0;
  };
  Counts counts() const;
  void stop();

 private:
  struct Shared;
  Shared* sh_ = nullptr;
  std::vector<rpc::Child> ch_;
  std::vector<std::string> names_;
  std::vector<int> slots_;  // index of each child's ready / err entry in Shared
  int port_ = 0;
};

}  // namespace dvs::workloads::web

#endif
