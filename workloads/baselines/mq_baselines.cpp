// Message-queue baselines: SysV (msgget) ping-pong and block stream, POSIX (mq_open) ping-pong.
// See baseline.hpp. Queues are private to one measurement: the SysV queue is IPC_PRIVATE and
// removed when the measurement ends (also if a child was killed); the POSIX queues are unlinked
// right after opening (the inherited descriptors keep them alive until both children exit).
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "workloads/baselines/baseline.hpp"

namespace dvs::baselines {

namespace {

// SysV message types: one queue, the type says the direction.
constexpr long kToServer = 1;
constexpr long kToClient = 2;

struct SysvMsg {
  long mtype;
  unsigned char text[kMsgBytes];
};

int sysv_send(int q, const SysvMsg& m, size_t len) {
  for (;;) {
    if (msgsnd(q, &m, len, 0) == 0) return 0;
    if (errno != EINTR) return -errno;
  }
}

int sysv_recv(int q, SysvMsg* m, size_t len, long type) {
  for (;;) {
    const ssize_t r = msgrcv(q, m, len, type, 0);
    if (r == ssize_t(len)) return 0;
    if (r >= 0) return -EPROTO;
    if (errno != EINTR) return -errno;
  }
}

long read_proc_long(const char* path, long dflt) {
  FILE* f = std::fopen(path, "r");
  if (f == nullptr) return dflt;
  long v = dflt;
  if (std::fscanf(f, "%ld", &v) != 1) v = dflt;
  std::fclose(f);
  return v;
}

}  // namespace

measure::TwoProcessOutcome sysv_mq_pingpong(const BaselineConfig& cfg) {
  const int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  if (q < 0) return measure::failed_outcome(fmt::format("msgget: {}", strerror(errno)));
  auto server = [&](measure::ChildCtx& ctx) -> int {
    SysvMsg m{};
    for (;;) {
      int rc = sysv_recv(q, &m, kMsgBytes, kToServer);
      if (rc < 0) return ctx.fail("server msgrcv: %s", strerror(-rc));
      m.mtype = kToClient;
      rc = sysv_send(q, m, kMsgBytes);
      if (rc < 0) return ctx.fail("server msgsnd: %s", strerror(-rc));
      if (m.text[0] == 'S') return 0;
    }
  };
  auto client = [&](measure::ChildCtx& ctx, measure::LoopResult& res) -> int {
    SysvMsg m{};
    std::memset(m.text, 0xa5, sizeof m.text);
    m.text[0] = 'P';
    res.bytes_per_op = kMsgBytes;
    measure::run_timed_loop(
        [&]() -> int {
          m.mtype = kToServer;
          const int rc = sysv_send(q, m, kMsgBytes);
          if (rc < 0) return rc;
          return sysv_recv(q, &m, kMsgBytes, kToClient);
        },
        cfg.loop, res);
    if (res.error < 0) return ctx.fail("client msgsnd/msgrcv: %s", strerror(-res.error));
    m.text[0] = 'S';
    m.mtype = kToServer;
    if (sysv_send(q, m, kMsgBytes) < 0 || sysv_recv(q, &m, kMsgBytes, kToClient) < 0)
      return ctx.fail("client: stop exchange failed");
    return 0;
  };
  auto out = measure::run_two_process(cfg.cpus, server, client, cfg.timeout_ms);
  msgctl(q, IPC_RMID, nullptr);
  return out;
}

measure::TwoProcessOutcome sysv_mq_stream(const BaselineConfig& cfg) {
  const size_t block = cfg.block_bytes;
  const long msgmax = read_proc_long("/proc/sys/kernel/msgmax", 8192);
  if (block == 0 || long(block) > msgmax)
    return measure::failed_outcome(fmt::format("SysV MQ: a {} B message exceeds msgmax ({} B, /proc/sys/kernel/msgmax)",
                              block, msgmax));
  const int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  if (q < 0) return measure::failed_outcome(fmt::format("msgget: {}", strerror(errno)));
  // Room for a few blocks if the limits allow it (raising msg_qbytes above msgmnb needs
  // CAP_SYS_RESOURCE; without it the default queue size stands).
  msqid_ds ds{};
  if (msgctl(q, IPC_STAT, &ds) == 0 && ds.msg_qbytes < 4 * block) {
    ds.msg_qbytes = 4 * block;
    (void)msgctl(q, IPC_SET, &ds);
  }
  // Writer: until the reader removes the queue (EIDRM), its normal end.
  auto server = [&](measure::ChildCtx& ctx) -> int {
    std::vector<unsigned char> buf(sizeof(long) + block, 0x5a);
    long type = 1;
    std::memcpy(buf.data(), &type, sizeof type);
    for (;;) {
      if (msgsnd(q, buf.data(), block, 0) == 0) continue;
      if (errno == EINTR) continue;
      if (errno == EIDRM || errno == EINVAL) return 0;
      return ctx.fail("writer msgsnd: %s", strerror(errno));
    }
  };
  auto client = [&](measure::ChildCtx& ctx, measure::LoopResult& res) -> int {
    std::vector<unsigned char> buf(sizeof(long) + block);
    res.bytes_per_op = block;
    measure::run_timed_loop(
        [&]() -> int {
          for (;;) {
            const ssize_t r = msgrcv(q, buf.data(), block, 0, 0);
            if (r == ssize_t(block)) return 0;
            if (r >= 0) return -EPROTO;
            if (errno != EINTR) return -errno;
          }
        },
        cfg.loop, res);
    msgctl(q, IPC_RMID, nullptr);  // ends the writer
    if (res.error < 0) return ctx.fail("reader msgrcv: %s", strerror(-res.error));
    if (buf[sizeof(long)] != 0x5a || buf[sizeof(long) + block - 1] != 0x5a)
      return ctx.fail("reader: corrupt data");
    return 0;
  };
  auto out = measure::run_two_process(cfg.cpus, server, client, cfg.timeout_ms);
  msgctl(q, IPC_RMID, nullptr);  // if a child was killed before removing it
  return out;
}

measure::TwoProcessOutcome posix_mq_pingpong(const BaselineConfig& cfg) {
  static std::atomic<unsigned> seq{0};
  mq_attr attr{};
  attr.mq_maxmsg = 4;
  attr.mq_msgsize = kMsgBytes;
  mqd_t qs[2] = {mqd_t(-1), mqd_t(-1)};  // [0] to the server, [1] to the client
  for (int i = 0; i < 2; ++i) {
    const std::string name = fmt::format("/dvs-bl-{}-{}-{}", getpid(), seq.fetch_add(1), i);
    qs[i] = mq_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
    if (qs[i] == mqd_t(-1)) {
      const int e = errno;
      if (i == 1) mq_close(qs[0]);
      return measure::failed_outcome(fmt::format("mq_open {}: {}", name, strerror(e)));
    }
    mq_unlink(name.c_str());
  }
  auto recv = [](mqd_t q, unsigned char* m) -> int {
    for (;;) {
      const ssize_t r = mq_receive(q, reinterpret_cast<char*>(m), kMsgBytes, nullptr);
      if (r == ssize_t(kMsgBytes)) return 0;
      if (r >= 0) return -EPROTO;
      if (errno != EINTR) return -errno;
    }
  };
  auto send = [](mqd_t q, const unsigned char* m) -> int {
    for (;;) {
      if (mq_send(q, reinterpret_cast<const char*>(m), kMsgBytes, 0) == 0) return 0;
      if (errno != EINTR) return -errno;
    }
  };
  auto server = [&](measure::ChildCtx& ctx) -> int {
    unsigned char m[kMsgBytes];
    for (;;) {
      int rc = recv(qs[0], m);
      if (rc < 0) return ctx.fail("server mq_receive: %s", strerror(-rc));
      rc = send(qs[1], m);
      if (rc < 0) return ctx.fail("server mq_send: %s", strerror(-rc));
      if (m[0] == 'S') return 0;
    }
  };
  auto client = [&](measure::ChildCtx& ctx, measure::LoopResult& res) -> int {
    unsigned char m[kMsgBytes];
    std::memset(m, 0xa5, sizeof m);
    m[0] = 'P';
    res.bytes_per_op = kMsgBytes;
    measure::run_timed_loop(
        [&]() -> int {
          const int rc = send(qs[0], m);
          if (rc < 0) return rc;
          return recv(qs[1], m);
        },
        cfg.loop, res);
    if (res.error < 0) return ctx.fail("client mq_send/mq_receive: %s", strerror(-res.error));
    m[0] = 'S';
    if (send(qs[0], m) < 0 || recv(qs[1], m) < 0) return ctx.fail("client: stop exchange failed");
    return 0;
  };
  return measure::run_two_process(cfg.cpus, server, client, cfg.timeout_ms, 3'000, [&] {
    mq_close(qs[0]);
    mq_close(qs[1]);
  });
}

}  // namespace dvs::baselines
