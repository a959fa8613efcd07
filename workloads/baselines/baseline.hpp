// Raw IPC baselines, measured exactly like the dvs loops: two fork()ed processes placed per a
// CpuPair, the same warm-up, the same timing loop (measure/timed_loop.hpp) and the same
// histogram. Each function returns the client's LoopResult (RTT samples for ping-pongs,
// per-block times for the stream) or an error.
//
// Every ping-pong moves one 64-byte message each way per iteration (the dvs message size). The
// client sends a stop message after its loop; the server then exits 0.
#ifndef DVS_HARNESS_BASELINES_BASELINE_HPP
#define DVS_HARNESS_BASELINES_BASELINE_HPP

#include <cstddef>
#include <cstdint>
#include <string>

#include "dvs/dvs.h"

#include "workloads/measure/placement.hpp"
#include "workloads/measure/timed_loop.hpp"
#include "workloads/measure/two_process.hpp"

namespace dvs::baselines {

inline constexpr size_t kMsgBytes = 64;

struct BaselineConfig {
  measure::LoopConfig loop;
  measure::CpuPair cpus;
  int timeout_ms = 60'000;
  uint32_t spin_ns = DVS_DEFAULT_SPIN_NS;   // spin budget of ShmWait::SpinThenFutex
  size_t block_bytes = 65536;  // pipe_stream / tcp_stream block size
  std::string tcp_host = "127.0.0.1";  // tcp_pingpong / tcp_stream: a local IPv4 address
  // tcp_pingpong / tcp_stream between two network namespaces (names under /run/netns; "" = this
  // one): the client's socket lives in tcp_client_netns, the server's in tcp_server_netns, and
  // tcp_host is the server namespace's address (see make_tcp_pair).
  std::string tcp_client_netns, tcp_server_netns;
  // tcp_stream: the reader sets SO_RCVLOWAT = block_bytes, so the kernel wakes it once per block
  // rather than once per arriving segment (what dvs's tcp transport does for large frames).
  bool stream_rcvlowat = false;
  int poll_us = 0;  // fd ping-pongs on sockets, rdma_pingpong: poll this long before blocking (see read_full_polling)
  std::string rdma_addr;  // rdma_pingpong: an IP address of the RDMA device to use ("" = the first one)
  // Peer libraries' ping-pongs (nng_pingpong, zmq_pingpong): bytes of each message (each way),
  // and the bound on any one receive (NNG_OPT_RECVTIMEO / ZMQ_RCVTIMEO) after which a silent
  // peer fails the run with "timed out" instead of waiting for the whole run's timeout_ms.
  size_t msg_bytes = kMsgBytes;
  int recv_timeout_ms = 10'000;
};

// How the shared-memory ping-pong waits for the peer's line to change.
enum class ShmWait {
  Spin,           // busy poll (pause instruction between polls)
  SpinThenFutex,  // busy poll for spin_ns, then futex wait; the writer wakes only if flagged
  Futex,          // futex wait at once
};
const char* shm_wait_name(ShmWait w);

// Raw shared-memory ping-pong: one 64-byte cache line each way (a sequence word + payload) in a
// MAP_SHARED page; the peer polls / futex-waits on the sequence word.
measure::TwoProcessOutcome shm_pingpong(const BaselineConfig& cfg, ShmWait wait);

// Pipe ping-pong: two pipes, 64-byte write()/read() each way.
measure::TwoProcessOutcome pipe_pingpong(const BaselineConfig& cfg);

// UNIX stream socket ping-pong: socketpair(AF_UNIX, SOCK_STREAM), 64 bytes each way.
measure::TwoProcessOutcome unix_pingpong(const BaselineConfig& cfg);

// Pipe stream: the server writes blocks of cfg.block_bytes as fast as it can, the client reads
// them (default pipe capacity, 64 KiB); one op = one whole block received. Throughput =
// block_bytes * iterations / elapsed.
measure::TwoProcessOutcome pipe_stream(const BaselineConfig& cfg);

// TCP ping-pong: one connection over cfg.tcp_host (loopback by default), TCP_NODELAY on both
// ends, 64 bytes each way, the fd_pingpong loop of pipe/UNIX. The connection is made before
// fork (listen on tcp_host:0, connect, accept), so the address must be one of this machine's.
measure::TwoProcessOutcome tcp_pingpong(const BaselineConfig& cfg);

// TCP stream: the same kind of connection (TCP_NODELAY, default socket buffers); the server
// writes blocks of cfg.block_bytes as fast as it can, the client reads whole blocks; one op =
// one block received (the pipe_stream loop). Throughput = block_bytes * iterations / elapsed.
measure::TwoProcessOutcome tcp_stream(const BaselineConfig& cfg);

// TIPC ping-pong: one TIPC SOCK_STREAM connection by service name (TIPC_NODELAY), 64 bytes each
// way, the fd_pingpong loop. On this node, or — with cfg.tcp_client_netns / tcp_server_netns set
// (they name the namespaces of the TIPC ends too) — between two namespaces that are nodes of one
// TIPC cluster, over the TIPC link between them (name published with cluster scope). Where the
// kernel has no AF_TIPC it fails at once with the error "AF_TIPC not supported by this kernel
// (EAFNOSUPPORT)" (the VM lab has it: docs/LAB.md).
measure::TwoProcessOutcome tipc_pingpong(const BaselineConfig& cfg);

// n TIPC ping-pongs at once (1..8 pairs, one connection each, as tipc_pingpong), all clients
// released together: iterations = all timed round trips, elapsed = release to the end of the
// last client, so 2 * iterations / elapsed is the aggregate message rate (the comparator of dvs's
// concurrent pairs over tipc).
measure::TwoProcessOutcome tipc_pingpong_pairs(const BaselineConfig& cfg, int n);

// TIPC stream: the same kind of connection; the server writes blocks of cfg.block_bytes as fast
// as it can, the client reads whole blocks (the pipe_stream / tcp_stream loop). The comparator of
// remote vcopy over tipc.
measure::TwoProcessOutcome tipc_stream(const BaselineConfig& cfg);

// Raw verbs ping-pong: one RC QP pair on one RDMA device (both processes on the device of
// cfg.rdma_addr; Soft-RoCE loops back inside the device), 64-byte SENDs each way into pre-posted
// receives, each side waiting for its completions as the rdma transport does: polling the CQ for
// cfg.poll_us, then sleeping on the completion channel. QPs are connected through the rdma
// transport's Hello over a socketpair. Without a device it fails at once with the transport's
// reason, "no RDMA device (ibv_get_device_list: 0 devices...)" (the VM lab has one: docs/LAB.md).
measure::TwoProcessOutcome rdma_pingpong(const BaselineConfig& cfg);

// RDMA WRITE throughput (the comparator of remote vcopy over rdma; cross-check: perftest's
// ib_write_bw): the writer keeps 4 signalled WRITEs of cfg.block_bytes in flight into one
// registered landing area of the reader (its rkey exchanged at set-up; the reader's CPU is not
// involved); one op = one WRITE completed, i.e. its bytes placed in the reader's memory.
// Throughput = block_bytes * iterations / elapsed. Same device choice and failure texts as
// rdma_pingpong.
measure::TwoProcessOutcome rdma_write_stream(const BaselineConfig& cfg);

// FIFO (named pipe) ping-pong: two FIFOs in a private temp directory (removed once open),
// 64 bytes each way, the fd_pingpong loop of pipe/UNIX.
measure::TwoProcessOutcome fifo_pingpong(const BaselineConfig& cfg);

// FIFO stream: pipe_stream through a FIFO (the original's FIFO copy comparator, TLPI style).
measure::TwoProcessOutcome fifo_stream(const BaselineConfig& cfg);

// SysV message-queue ping-pong: one IPC_PRIVATE queue, message type 1 to the server and 2 to
// the client, 64-byte msgsnd/msgrcv each way. The queue is removed when the run ends.
measure::TwoProcessOutcome sysv_mq_pingpong(const BaselineConfig& cfg);

// SysV message-queue stream: the server msgsnd()s messages of cfg.block_bytes as fast as it can,
// the client msgrcv()s them; one op = one message received. Fails at once if block_bytes exceeds
// /proc/sys/kernel/msgmax (8192 by default: the original's MQ series stops at 8 KB too). The
// queue's msg_qbytes is raised to 4 blocks where the limits allow.
measure::TwoProcessOutcome sysv_mq_stream(const BaselineConfig& cfg);

// How a peer library's ping-pong connects its two processes.
enum class PeerTransport {
  Ipc,  // ipc:// — a UNIX domain socket in a private temp directory (removed after the run)
  Tcp,  // tcp:// — cfg.tcp_host (loopback by default; with tcp_client_netns / tcp_server_netns
        // set, each process lives in its namespace and tcp_host is the server namespace's address)
};
const char* peer_transport_name(PeerTransport t);  // "ipc" | "tcp"

// Peer IPC libraries measured like the raw mechanisms (same runner, loop, histogram, placement):
// one request and one reply of cfg.msg_bytes each way per iteration, with the library's own
// blocking calls (its default wait: the caller sleeps on a condition variable / poll while the
// library's I/O threads move the bytes; those threads inherit the process's CPU pin). The server
// listens (tcp: on port 0) and hands its bound address to the client through a pipe; then the
// client dials. Every receive is bounded by cfg.recv_timeout_ms: a silent peer fails the run
// with a one-line reason. Message byte 0 is the type: 'P' ping, 'S' stop (as fd_pingpong).
// NNG req0/rep0 (nng_send / nng_recv; NNG's TCP sets TCP_NODELAY by default).
measure::TwoProcessOutcome nng_pingpong(const BaselineConfig& cfg, PeerTransport t);
// ZeroMQ REQ/REP (zmq_send / zmq_recv, one context with one I/O thread per process; ZeroMQ sets
// TCP_NODELAY on its TCP connections).
measure::TwoProcessOutcome zmq_pingpong(const BaselineConfig& cfg, PeerTransport t);

// POSIX message-queue ping-pong: two queues (mq_maxmsg 4, mq_msgsize 64), unlinked right after
// mq_open, 64-byte mq_send/mq_receive each way.
measure::TwoProcessOutcome posix_mq_pingpong(const BaselineConfig& cfg);

}  // namespace dvs::baselines

#endif
