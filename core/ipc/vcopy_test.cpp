// vcopy: third-party block copy between address spaces (requester = src, = dst, or neither).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/testkit/caller_state.hpp"
#include "core/testkit/dvsd_process.hpp"
#include "core/testkit/forked_child.hpp"
#include "core/testkit/pipe.hpp"
#include "core/testkit/test_message.hpp"
#include "dvs/dvs.h"

namespace {
using namespace dvs::testing;
using std::chrono::milliseconds;

constexpr int kRqtr = 3;   // system process: the only kind allowed to request a copy
constexpr int kSrc = 40;   // user processes owning the buffers
constexpr int kDst = 41;
constexpr int kBufReq = 1; // m_type of "here is my buffer" requests
constexpr int kRoleSrc = 1, kRoleDst = 2;

uint8_t pattern(size_t i, int seed) { return static_cast<uint8_t>((i * 131u + static_cast<unsigned>(seed) * 7u + (i >> 8)) & 0xff); }
void fill(std::vector<uint8_t>& b, int seed) {
  for (size_t i = 0; i < b.size(); ++i) b[i] = pattern(i, seed);
}
// -1 if b[0..n) holds the pattern, else the first bad index.
long first_mismatch(const uint8_t* b, size_t n, int seed) {
  for (size_t i = 0; i < n; ++i)
    if (b[i] != pattern(i, seed)) return static_cast<long>(i);
  return -1;
}

// A buffer owner: sendrecs its buffer's address to the requester and, once the reply comes,
// checks the buffer. role src: pattern `seed` stays intact; role dst: bytes [0,n) must hold the
// pattern, bytes [n, size) must still be zero.
int buffer_owner(const std::string& sock, int p_nr, int role, size_t size, size_t n, int seed,
                 bool expect_copy) {
  CHILD_CHECK_OK(open_and_bind(sock, 0, p_nr));
  std::vector<uint8_t> buf(size + 64, 0);
  if (role == kRoleSrc) fill(buf, seed);
  dvs_message_t m{};
  m.m_type = kBufReq;
  m.m_u.m1.m1i1 = role;
  m.m_u.m1.m1p1 = reinterpret_cast<uint64_t>(buf.data());
  m.m_u.m1.m1p2 = size;
  CHILD_CHECK_EQ(0, dvs_sendrec_T(kRqtr, &m, 20000));
  CHILD_CHECK_EQ(0, m.m_type);  // the requester's verdict
  if (role == kRoleDst) {
    if (expect_copy) {
      long bad = first_mismatch(buf.data(), n, seed);
      if (bad >= 0) fprintf(stderr, "dst byte %ld is %u, expected %u\n", bad, buf[static_cast<size_t>(bad)], pattern(static_cast<size_t>(bad), seed));
      CHILD_CHECK_EQ(-1, bad);
    }
    for (size_t i = expect_copy ? n : 0; i < buf.size(); ++i) {
      if (buf[i] != 0) {
        fprintf(stderr, "dst byte %zu written (%u) outside the copy of %zu bytes\n", i, buf[i], expect_copy ? n : 0);
        return 20;
      }
    }
  } else {
    CHILD_CHECK_EQ(-1, first_mismatch(buf.data(), buf.size(), seed));
  }
  return 0;
}

struct Req {
  int ep = 0, role = 0;
  uint64_t addr = 0, size = 0;
};

// The requester takes `count` buffer requests.
int take_requests(int count, Req* out) {
  for (int i = 0; i < count; ++i) {
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));
    CHILD_CHECK_EQ(kBufReq, m.m_type);
    out[i] = Req{m.m_source, m.m_u.m1.m1i1, m.m_u.m1.m1p1, m.m_u.m1.m1p2};
  }
  return 0;
}

int reply_verdict(int ep, int verdict) {
  dvs_message_t m{};
  m.m_type = verdict;
  CHILD_CHECK_EQ(0, dvs_reply_T(ep, &m, 5000));
  return 0;
}

enum class Mode { RequesterIsSrc, RequesterIsDst, ThirdParty };
struct Param {
  Mode mode;
  size_t bytes;
};
std::string param_name(const ::testing::TestParamInfo<Param>& i) {
  const char* m = i.param.mode == Mode::RequesterIsSrc   ? "RequesterIsSrc"
                  : i.param.mode == Mode::RequesterIsDst ? "RequesterIsDst"
                                                         : "ThirdParty";
  return std::string(m) + "_" + std::to_string(i.param.bytes) + "B";
}

class Vcopy : public DvsdTest, public ::testing::WithParamInterface<Param> {};

TEST_P(Vcopy, CopiesTheBytes) {
  const std::string sock = sock_;
  const Mode mode = GetParam().mode;
  const size_t n = GetParam().bytes;
  const size_t size = n + 4096;  // dst bytes beyond n must stay untouched
  const int seed = 5;
  Pipe ready;
  auto rq = run_in_child("requester", [&, sock] {
    CHILD_CHECK_EQ(kRqtr, open_and_bind(sock, 0, kRqtr));
    dvs_dcinfo_t di{};
    CHILD_CHECK_OK(dvs_getdcinfo(0, &di));
    CHILD_CHECK(static_cast<long>(n) <= di.max_copylen);
    ready.send(1);
    std::vector<uint8_t> own(size + 64, 0);
    Req rs[2];
    const int parties = mode == Mode::ThirdParty ? 2 : 1;
    if (int rc = take_requests(parties, rs)) return rc;
    Req src{}, dst{};
    for (int i = 0; i < parties; ++i) (rs[i].role == kRoleSrc ? src : dst) = rs[i];
    long r;
    switch (mode) {
      case Mode::RequesterIsSrc:
        fill(own, seed);
        CHILD_CHECK(dst.ep != 0);
        r = dvs_vcopy(kRqtr, own.data(), dst.ep, reinterpret_cast<void*>(dst.addr), n);
        break;
      case Mode::RequesterIsDst:
        CHILD_CHECK(src.ep != 0);
        r = dvs_vcopy(src.ep, reinterpret_cast<const void*>(src.addr), kRqtr, own.data(), n);
        break;
      default:
        CHILD_CHECK(src.ep != 0 && dst.ep != 0);
        r = dvs_vcopy(src.ep, reinterpret_cast<const void*>(src.addr), dst.ep,
                      reinterpret_cast<void*>(dst.addr), n);
        break;
    }
    CHILD_CHECK_EQ(static_cast<long>(n), r);
    if (mode == Mode::RequesterIsDst) {
      CHILD_CHECK_EQ(-1, first_mismatch(own.data(), n, seed));
      for (size_t i = n; i < own.size(); ++i) CHILD_CHECK_EQ(0, own[i]);
    }
    for (int i = 0; i < parties; ++i)
      if (int rc = reply_verdict(rs[i].ep, 0)) return rc;
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  std::vector<ForkedChild> owners;
  if (mode != Mode::RequesterIsSrc)
    owners.push_back(run_in_child("src-owner", [&, sock] {
      return buffer_owner(sock, kSrc, kRoleSrc, size, n, seed, true);
    }));
  if (mode != Mode::RequesterIsDst)
    owners.push_back(run_in_child("dst-owner", [&, sock] {
      return buffer_owner(sock, kDst, kRoleDst, size, n, seed, true);
    }));
  EXPECT_TRUE(rq.wait_ok(milliseconds(20000)));
  for (auto& o : owners) EXPECT_TRUE(o.wait_ok(milliseconds(20000)));
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, Vcopy,
    ::testing::Values(Param{Mode::RequesterIsSrc, 1}, Param{Mode::RequesterIsSrc, 4096},
                      Param{Mode::RequesterIsSrc, 1 << 20}, Param{Mode::RequesterIsDst, 1},
                      Param{Mode::RequesterIsDst, 4096}, Param{Mode::RequesterIsDst, 1 << 20},
                      Param{Mode::ThirdParty, 1}, Param{Mode::ThirdParty, 4096},
                      Param{Mode::ThirdParty, 1 << 20}, Param{Mode::ThirdParty, 12345}),
    param_name);

using VcopyErrors = DvsdTest;

TEST_F(VcopyErrors, MoreThanMaxCopylenIsRefusedAndCopiesNothing) {
  const std::string sock = sock_;
  const size_t n = static_cast<size_t>(kDefCopylen) + 1;
  const size_t size = n + 4096;
  Pipe ready;
  auto rq = run_in_child("requester", [&, sock] {
    CHILD_CHECK_EQ(kRqtr, open_and_bind(sock, 0, kRqtr));
    ready.send(1);
    Req rs[2];
    if (int rc = take_requests(2, rs)) return rc;
    Req src = rs[0].role == kRoleSrc ? rs[0] : rs[1];
    Req dst = rs[0].role == kRoleSrc ? rs[1] : rs[0];
    long r = dvs_vcopy(src.ep, reinterpret_cast<const void*>(src.addr), dst.ep,
                       reinterpret_cast<void*>(dst.addr), n);
    if (r != EDVSRANGE) fprintf(stderr, "vcopy of max_copylen+1 bytes = %s\n", rc_str(r).c_str());
    CHILD_CHECK(r < 0);
    for (auto& q : rs)
      if (int rc = reply_verdict(q.ep, 0)) return rc;
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto s = run_in_child("src-owner", [&, sock] { return buffer_owner(sock, kSrc, kRoleSrc, size, n, 9, false); });
  auto d = run_in_child("dst-owner", [&, sock] { return buffer_owner(sock, kDst, kRoleDst, size, n, 9, false); });
  EXPECT_TRUE(rq.wait_ok(milliseconds(20000)));
  EXPECT_TRUE(s.wait_ok(milliseconds(20000)));
  EXPECT_TRUE(d.wait_ok(milliseconds(20000)));
}

TEST_F(VcopyErrors, PartyNotBlockedReceivingIsRefused) {
  const std::string sock = sock_;
  Pipe ready, refused;
  auto rq = run_in_child("requester", [&, sock] {
    CHILD_CHECK_EQ(kRqtr, open_and_bind(sock, 0, kRqtr));
    ready.send(1);
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 10000));  // a plain send: the owner runs on
    const int ep = m.m_source;
    void* addr = reinterpret_cast<void*>(m.m_u.m1.m1p1);
    std::vector<uint8_t> own(64);
    fill(own, 1);
    CHILD_CHECK_EQ(0, wait_procinfo(0, kDst, [](const dvs_procinfo_t& pi) {
                     return (pi.p_rts_flags & (DVS_SENDING | DVS_RECEIVING)) == 0;
                   }));
    long r = dvs_vcopy(kRqtr, own.data(), ep, addr, own.size());
    if (r != EDVSPROCSTS) fprintf(stderr, "vcopy to a running party = %s\n", rc_str(r).c_str());
    CHILD_CHECK(r < 0);
    refused.send(r);
    return 0;
  });
  ASSERT_TRUE(ready.recv());
  auto owner = run_in_child("dst-owner", [&, sock] {
    CHILD_CHECK_OK(open_and_bind(sock, 0, kDst));
    std::vector<uint8_t> buf(64, 0);
    dvs_message_t m{};
    m.m_type = kBufReq;
    m.m_u.m1.m1p1 = reinterpret_cast<uint64_t>(buf.data());
    CHILD_CHECK_EQ(0, dvs_send_T(kRqtr, &m, 10000));
    auto r = refused.recv();  // running, outside any IPC call
    CHILD_CHECK(r.has_value());
    for (uint8_t b : buf) CHILD_CHECK_EQ(0, b);
    return 0;
  });
  EXPECT_TRUE(rq.wait_ok());
  EXPECT_TRUE(owner.wait_ok());
}

TEST_F(VcopyErrors, UserRequesterIsRefused) {
  const std::string sock = sock_;
  Pipe ready, dinfo;
  auto user = run_in_child("user", [&, sock] {
    int ep = open_and_bind(sock, 0, 42);
    CHILD_CHECK_OK(ep);
    ready.send(ep);
    std::vector<uint8_t> mine(64);
    fill(mine, 3);
    // The destination is blocked receiving from us: only privileges can refuse it.
    dvs_message_t m{};
    auto got = dinfo.recv();
    CHILD_CHECK(got.has_value());
    const int dst_ep = static_cast<int>(*got);
    CHILD_CHECK_EQ(0, wait_receiving(0, kDst));
    auto addr = dinfo.recv();
    CHILD_CHECK(addr.has_value());
    long r = dvs_vcopy(ep, mine.data(), dst_ep, reinterpret_cast<void*>(*addr), mine.size());
    if (r != EDVSPRIVILEGES) fprintf(stderr, "vcopy by a user process = %s\n", rc_str(r).c_str());
    CHILD_CHECK(r < 0);
    m = make_msg(1);
    CHILD_CHECK_EQ(0, dvs_send_T(dst_ep, &m, 5000));
    return 0;
  });
  auto uep = ready.recv();
  ASSERT_TRUE(uep);
  const int user_ep = static_cast<int>(*uep);
  auto dst = run_in_child("dst", [&, sock, user_ep] {
    int ep = open_and_bind(sock, 0, kDst);
    CHILD_CHECK_OK(ep);
    std::vector<uint8_t> buf(64, 0);
    dinfo.send(ep);
    dinfo.send(static_cast<int64_t>(reinterpret_cast<uint64_t>(buf.data())));
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(user_ep, &m, 10000));
    for (uint8_t b : buf) CHILD_CHECK_EQ(0, b);
    return 0;
  });
  EXPECT_TRUE(user.wait_ok());
  EXPECT_TRUE(dst.wait_ok());
}

class SmallCopylen : public DvsdTest {
 protected:
  DvsdOptions options() override {
    DvsdOptions o;
    o.dcs = {"0,copylen=4096"};
    return o;
  }
};

TEST_F(SmallCopylen, CopylenFromTheCommandLineIsEnforced) {
  const std::string sock = sock_;
  Pipe ready;
  auto rq = run_in_child("requester", [&, sock] {
    CHILD_CHECK_EQ(kRqtr, open_and_bind(sock, 0, kRqtr));
    dvs_dcinfo_t di{};
    CHILD_CHECK_OK(dvs_getdcinfo(0, &di));
    CHILD_CHECK_EQ(4096, di.max_copylen);
    ready.send(1);
    Req rs[1];
    if (int rc = take_requests(1, rs)) return rc;
    std::vector<uint8_t> own(8192);
    fill(own, 4);
    long r = dvs_vcopy(kRqtr, own.data(), rs[0].ep, reinterpret_cast<void*>(rs[0].addr), 4097);
    CHILD_CHECK(r < 0);
    r = dvs_vcopy(kRqtr, own.data(), rs[0].ep, reinterpret_cast<void*>(rs[0].addr), 4096);
    CHILD_CHECK_EQ(4096, r);
    return reply_verdict(rs[0].ep, 0);
  });
  ASSERT_TRUE(ready.recv());
  auto d = run_in_child("dst-owner", [&, sock] { return buffer_owner(sock, kDst, kRoleDst, 8192, 4096, 4, true); });
  EXPECT_TRUE(rq.wait_ok());
  EXPECT_TRUE(d.wait_ok());
}

TEST_F(VcopyErrors, BadAddressesGiveAnErrorNotACrash) {
  const std::string sock = sock_;
  Pipe ready;
  auto rq = run_in_child("requester", [&, sock] {
    CHILD_CHECK_EQ(kRqtr, open_and_bind(sock, 0, kRqtr));
    ready.send(1);
    Req rs[1];
    if (int rc = take_requests(1, rs)) return rc;
    std::vector<uint8_t> own(4096);
    fill(own, 2);
    // Unmapped destination address in the party's address space.
    long r = dvs_vcopy(kRqtr, own.data(), rs[0].ep, reinterpret_cast<void*>(uintptr_t{16}), 64);
    if (r >= 0) fprintf(stderr, "vcopy to address 16 returned %ld\n", r);
    CHILD_CHECK(r < 0);
    // Unmapped source address of our own.
    r = dvs_vcopy(kRqtr, reinterpret_cast<const void*>(uintptr_t{16}), rs[0].ep,
                  reinterpret_cast<void*>(rs[0].addr), 64);
    CHILD_CHECK(r < 0);
    // Still usable afterwards.
    r = dvs_vcopy(kRqtr, own.data(), rs[0].ep, reinterpret_cast<void*>(rs[0].addr), 64);
    CHILD_CHECK_EQ(64, r);
    return reply_verdict(rs[0].ep, 0);
  });
  ASSERT_TRUE(ready.recv());
  auto d = run_in_child("dst-owner", [&, sock] { return buffer_owner(sock, kDst, kRoleDst, 4096, 64, 2, true); });
  EXPECT_TRUE(rq.wait_ok());
  EXPECT_TRUE(d.wait_ok());
  EXPECT_TRUE(dvsd_->running());
}

TEST_F(VcopyErrors, ZeroBytesAndBadEndpoints) {
  const std::string sock = sock_;
  auto rq = run_in_child("requester", [sock] {
    CHILD_CHECK_EQ(kRqtr, open_and_bind(sock, 0, kRqtr));
    std::vector<uint8_t> a(64), b(64);
    long r = dvs_vcopy(kRqtr, a.data(), DVS_ENDPOINT(2, 45), b.data(), 16);  // nobody there
    CHILD_CHECK(r < 0);
    r = dvs_vcopy(20, a.data(), kRqtr, b.data(), 16);  // unbound system slot
    CHILD_CHECK(r < 0);
    return 0;
  });
  EXPECT_TRUE(rq.wait_ok());
}

TEST_F(VcopyErrors, PartyBlockedSendingIsRefused) {
  const std::string sock = sock_;
  StartGate gate;
  Pipe info, refused;
  // The owner is blocked in a send to an idle process: blocked, but not receiving.
  auto idle = run_in_child("idle", [&, sock] {
    CHILD_CHECK_EQ(11, open_and_bind(sock, 0, 11));
    gate.arrive_and_wait();
    CHILD_CHECK(refused.recv(milliseconds(10000)).has_value());
    dvs_message_t m{};
    CHILD_CHECK_EQ(0, dvs_receive_T(DVS_ANY, &m, 5000));  // release the owner
    return 0;
  });
  auto owner = run_in_child("owner", [&, sock] {
    int ep = open_and_bind(sock, 0, kDst);
    CHILD_CHECK_OK(ep);
    std::vector<uint8_t> buf(64, 0);
    info.send(ep);
    info.send(static_cast<int64_t>(reinterpret_cast<uintptr_t>(buf.data())));
    gate.arrive_and_wait();
    dvs_message_t m = make_msg(1);
    CHILD_CHECK_EQ(0, dvs_send_T(11, &m, 10000));
    for (uint8_t b : buf) CHILD_CHECK_EQ(0, b);
    return 0;
  });
  auto rq = run_in_child("requester", [&, sock] {
    CHILD_CHECK_EQ(kRqtr, open_and_bind(sock, 0, kRqtr));
    gate.arrive_and_wait();
    auto ep = info.recv();
    auto addr = info.recv();
    CHILD_CHECK(ep && addr);
    CHILD_CHECK_EQ(0, wait_sending(0, kDst, 11));
    std::vector<uint8_t> own(64, 0xcd);
    long r = dvs_vcopy(kRqtr, own.data(), static_cast<int>(*ep), reinterpret_cast<void*>(*addr), own.size());
    if (r >= 0) fprintf(stderr, "vcopy into a party blocked SENDING copied %ld bytes\n", r);
    CHILD_CHECK(r < 0);
    refused.send(r);
    return 0;
  });
  ASSERT_TRUE(gate.open(3));
  EXPECT_TRUE(rq.wait_ok());
  EXPECT_TRUE(idle.wait_ok());
  EXPECT_TRUE(owner.wait_ok());
}

}  // namespace
