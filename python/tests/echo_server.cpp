// dvs_py_echo_server: the C++ peer of the Python tests (python/tests/test_ipc.py). Binds a
// system slot, prints "ready <endpoint>" on stdout, then serves requests with rcvrqst until
// OP_QUIT, or until its stdin closes (a watcher thread then exits the process: the server never
// leaves rcvrqst on a timer, so it is always receiving between requests).
//
//   dvs_py_echo_server --socket PATH [--dc 0] [--slot 5] [--wait block|spin-then-block|spin]
//
// Requests (m_type) and what the server does; every reply has m_type = request + 1000 unless
// said otherwise:
//   OP_ECHO     reply with the same payload, m1i1 incremented
//   OP_SEND     (a plain send, no reply) remember the payload for OP_GETLAST
//   OP_GETLAST  reply with the payload remembered (OP_SEND, or the reply of OP_CALL_ME)
//   OP_PULL     m1p1 = address, m1i1 = bytes in the client: vcopy them here; reply m2l1 = FNV-1a
//               64 of the bytes, m2i1 = bytes copied (or the negative error code)
//   OP_PUSH     m1p1 = address, m1i1 = bytes, m1i2 = seed: fill a pattern (byte i = (i*7 + seed)
//               & 0xff) and vcopy it to the client; reply m2i1 = bytes copied or the error
//   OP_ADDR     reply m1p1 = address of the server's buffer, m1i1 = its size
//   OP_CHECKSUM m1i1 = bytes: reply m2l1 = FNV-1a 64 of the first bytes of the server's buffer
//   OP_FILL     m1i1 = bytes, m1i2 = seed: fill the server's buffer with the pattern
//   OP_NOTIFY_ME reply, then notify the client
//   OP_SEND_ME  reply, then send the client a message of m_type OP_SEND_ME + 2000, m1i1 = m1i1 * 3
//   OP_CALL_ME  reply, then sendrec the client (m_type OP_CALL_ME + 2000, m1i1 = m1i1 * 2); the
//               client's reply is remembered for OP_GETLAST
//   OP_QUIT     reply and exit 0
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "dvs/dvs.h"

namespace {

enum Op {
  OP_ECHO = 1,
  OP_SEND = 2,
  OP_GETLAST = 3,
  OP_PULL = 4,
  OP_PUSH = 5,
  OP_ADDR = 6,
  OP_CHECKSUM = 7,
  OP_FILL = 8,
  OP_NOTIFY_ME = 9,
  OP_SEND_ME = 10,
  OP_CALL_ME = 11,
  OP_QUIT = 99,
};

constexpr size_t kBufBytes = 1 << 20;
constexpr long kPeerTimeoutMs = 10000;

uint64_t fnv1a(const uint8_t* p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

void fill(uint8_t* p, size_t n, int seed) {
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>((i * 7 + static_cast<size_t>(seed)) & 0xff);
}

void exit_when_stdin_closes() {
  char c;
  for (;;) {
    const ssize_t n = read(STDIN_FILENO, &c, 1);
    if (n == 0 || (n < 0 && errno != EINTR)) _exit(0);
  }
}

int usage() {
  std::fprintf(stderr, "usage: dvs_py_echo_server --socket PATH [--dc N] [--slot N] [--wait block|spin-then-block|spin]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket;
  int dc = 0, slot = 5;
  dvs_wait_mode_t wait = DVS_WAIT_BLOCK;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    std::string v = argv[++i];
    if (a == "--socket") socket = v;
    else if (a == "--dc") dc = std::atoi(v.c_str());
    else if (a == "--slot") slot = std::atoi(v.c_str());
    else if (a == "--wait") wait = v == "spin" ? DVS_WAIT_SPIN : v == "spin-then-block" ? DVS_WAIT_SPIN_THEN_BLOCK : DVS_WAIT_BLOCK;
    else return usage();
  }
  if (socket.empty()) return usage();
  int rc = dvs_open(socket.c_str());
  if (rc < 0) {
    std::fprintf(stderr, "echo_server: dvs_open: %s\n", dvs_errname(rc));
    return 1;
  }
  const int me = dvs_bind(dc, slot);
  if (me < 0) {
    std::fprintf(stderr, "echo_server: dvs_bind(%d, %d): %s\n", dc, slot, dvs_errname(me));
    return 1;
  }
  dvs_set_wait(wait, DVS_DEFAULT_SPIN_NS);
  std::vector<uint8_t> buf(kBufBytes, 0);
  dvs_message_t last{};
  std::thread(exit_when_stdin_closes).detach();
  std::printf("ready %d\n", me);
  std::fflush(stdout);

  for (;;) {
    dvs_message_t m{};
    rc = dvs_rcvrqst(&m);
    if (rc < 0) {
      std::fprintf(stderr, "echo_server: rcvrqst: %s\n", dvs_errname(rc));
      return 1;
    }
    const int client = m.m_source;
    const int op = m.m_type;
    if (DVS_IS_NOTIFY(op)) continue;  // a notification from a client: nothing to answer
    if (op == OP_SEND) {
      last = m;
      continue;
    }
    dvs_message_t r = m;
    r.m_type = op + 1000;
    switch (op) {
      case OP_ECHO:
        r.m_u.m1.m1i1 = m.m_u.m1.m1i1 + 1;
        break;
      case OP_GETLAST:
        r.m_u = last.m_u;
        r.m_type = last.m_type;
        break;
      case OP_PULL: {
        const size_t n = std::min<size_t>(static_cast<size_t>(m.m_u.m1.m1i1), kBufBytes);
        long got = dvs_vcopy(client, reinterpret_cast<const void*>(m.m_u.m1.m1p1), me, buf.data(), n);
        r.m_u.m2.m2i1 = static_cast<int32_t>(got);
        r.m_u.m2.m2l1 = got >= 0 ? static_cast<int64_t>(fnv1a(buf.data(), static_cast<size_t>(got))) : 0;
        break;
      }
      case OP_PUSH: {
        const size_t n = std::min<size_t>(static_cast<size_t>(m.m_u.m1.m1i1), kBufBytes);
        std::vector<uint8_t> pattern(n);
        fill(pattern.data(), n, m.m_u.m1.m1i2);
        long put = dvs_vcopy(me, pattern.data(), client, reinterpret_cast<void*>(m.m_u.m1.m1p1), n);
        r.m_u.m2.m2i1 = static_cast<int32_t>(put);
        break;
      }
      case OP_ADDR:
        r.m_u.m1.m1p1 = reinterpret_cast<uint64_t>(buf.data());
        r.m_u.m1.m1i1 = static_cast<int32_t>(kBufBytes);
        break;
      case OP_CHECKSUM: {
        const size_t n = std::min<size_t>(static_cast<size_t>(m.m_u.m1.m1i1), kBufBytes);
        r.m_u.m2.m2l1 = static_cast<int64_t>(fnv1a(buf.data(), n));
        break;
      }
      case OP_FILL:
        fill(buf.data(), std::min<size_t>(static_cast<size_t>(m.m_u.m1.m1i1), kBufBytes), m.m_u.m1.m1i2);
        break;
      default:
        break;
    }
    rc = dvs_reply_T(client, &r, kPeerTimeoutMs);
    if (rc < 0) {
      std::fprintf(stderr, "echo_server: reply to %d (op %d): %s\n", client, op, dvs_errname(rc));
      continue;
    }
    if (op == OP_QUIT) return 0;
    if (op == OP_NOTIFY_ME) {
      rc = dvs_notify(client);
      if (rc < 0) std::fprintf(stderr, "echo_server: notify %d: %s\n", client, dvs_errname(rc));
    } else if (op == OP_SEND_ME) {
      dvs_message_t s{};
      s.m_type = OP_SEND_ME + 2000;
      s.m_u.m1.m1i1 = m.m_u.m1.m1i1 * 3;
      rc = dvs_send_T(client, &s, kPeerTimeoutMs);
      if (rc < 0) std::fprintf(stderr, "echo_server: send to %d: %s\n", client, dvs_errname(rc));
    } else if (op == OP_CALL_ME) {
      dvs_message_t s{};
      s.m_type = OP_CALL_ME + 2000;
      s.m_u.m1.m1i1 = m.m_u.m1.m1i1 * 2;
      rc = dvs_sendrec_T(client, &s, kPeerTimeoutMs);
      if (rc < 0) std::fprintf(stderr, "echo_server: sendrec to %d: %s\n", client, dvs_errname(rc));
      else last = s;
    }
  }
}
