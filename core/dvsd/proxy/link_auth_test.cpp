// The cluster key file, the link handshake over real TCP links on loopback, and the sealed link.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "core/dvsd/proxy/cluster_key.hpp"
#include "core/dvsd/proxy/link_auth.hpp"
#include "core/dvsd/proxy/link_handshake.hpp"
#include "core/dvsd/proxy/sealed_link.hpp"
#include "core/dvsd/wire/wire.hpp"
#include "dvs/dvs.h"
#include "dvs/errors.h"
#include "transports/registry.hpp"

namespace dvs::linkauth {
namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/dvs-linkauth-XXXXXX";
  const char* d = mkdtemp(tmpl);
  return d ? d : "/tmp";
}

Key key_of(uint8_t fill) {
  Key k{};
  k.fill(fill);
  return k;
}

struct LinkPair {
  std::unique_ptr<transport::Link> dialer, listener;
};

// A connected TCP link pair on loopback; the accepted end is taken by a thread.
LinkPair tcp_pair(std::unique_ptr<transport::Listener>* keep = nullptr) {
  transport::register_builtin_transports();
  transport::Transport* tcp = transport::find_transport("tcp");
  int err = 0;
  auto l = tcp->listen("tcp://127.0.0.1:0", &err);
  EXPECT_TRUE(l) << err;
  LinkPair p;
  auto accepted = std::async(std::launch::async, [&] { return l->accept(5000, &err); });
  p.dialer = tcp->dial(l->uri(), 5000, &err);
  p.listener = accepted.get();
  if (keep) *keep = std::move(l);
  return p;
}

KeyFor fixed_key(const Key& k) {
  return [k](int, std::string_view, std::string*) { return std::optional<Key>(k); };
}

TEST(ClusterKey, GeneratedKeyLoadsAndIsPrivate) {
  const std::string path = temp_dir() + "/cluster.key";
  ASSERT_EQ("", generate_cluster_key(path));
  struct stat st{};
  ASSERT_EQ(0, stat(path.c_str(), &st));
  EXPECT_EQ(0600u, st.st_mode & 0777);
  Key k{};
  ASSERT_EQ("", load_cluster_key(path, &k));
  EXPECT_NE(key_of(0), k);
  EXPECT_NE("", generate_cluster_key(path)) << "an existing key must never be replaced";
  Key again{};
  ASSERT_EQ("", load_cluster_key(path, &again));
  EXPECT_EQ(k, again);
}

TEST(ClusterKey, RefusesOpenModesAndMalformedFiles) {
  const std::string dir = temp_dir();
  Key k{};
  EXPECT_NE("", load_cluster_key(dir + "/missing", &k));
  const std::string path = dir + "/k";
  {
    std::ofstream(path) << std::string(64, 'a') << "\n";
  }
  chmod(path.c_str(), 0644);
  EXPECT_NE(std::string::npos, load_cluster_key(path, &k).find("chmod 600"));
  chmod(path.c_str(), 0600);
  EXPECT_EQ("", load_cluster_key(path, &k));
  EXPECT_EQ(key_of(0xaa), k);
  {
    std::ofstream(path, std::ios::trunc) << std::string(63, 'a') << "g\n";
  }
  EXPECT_NE("", load_cluster_key(path, &k));
  {
    std::ofstream(path, std::ios::trunc) << std::string(62, 'a') << "\n";
  }
  EXPECT_NE("", load_cluster_key(path, &k));
}

TEST(LinkAuth, MacsAreBoundToRoleTranscriptAndKey) {
  Transcript t;
  t.dialer_node = 0;
  t.listener_node = 1;
  t.nd = fresh_nonce();
  t.nl = fresh_nonce();
  t.inner = "claim";
  const Hash h = transcript_hash(t);
  const Key k = key_of(7);
  const Mac m = prove(k, Role::kDialer, h);
  EXPECT_TRUE(verify(k, Role::kDialer, h, m));
  EXPECT_FALSE(verify(k, Role::kListener, h, m)) << "a dialer's MAC must not pass as the listener's";
  EXPECT_FALSE(verify(key_of(8), Role::kDialer, h, m));
  Transcript other = t;
  other.inner = "claim2";
  EXPECT_FALSE(verify(k, Role::kDialer, transcript_hash(other), m));
  other = t;
  other.dialer_node = 2;
  EXPECT_FALSE(verify(k, Role::kDialer, transcript_hash(other), m));
  EXPECT_NE(process_link_key(k, 0, 1), process_link_key(k, 0, 2));
  EXPECT_NE(process_link_key(k, 0, 1), process_link_key(k, 1, 1));
  EXPECT_EQ(process_link_key(k, 3, 4), process_link_key(k, 3, 4));
}

TEST(LinkHandshake, SameKeyAuthenticatesBothWays) {
  auto p = tcp_pair();
  const Key k = key_of(1);
  DialerHello h{0, 1, "dvs direct at tcp://x", &k};
  SessionKeys dk;
  auto dial = std::async(std::launch::async, [&] { return dial_handshake(*p.dialer, h, 3000, &dk); });
  AcceptedHello a;
  EXPECT_EQ("", accept_handshake(*p.listener, 1, fixed_key(k), 3000, &a));
  EXPECT_EQ("", dial.get());
  EXPECT_TRUE(a.authenticated);
  EXPECT_EQ(0, a.dialer_node);
  EXPECT_EQ("dvs direct at tcp://x", a.inner);
  EXPECT_EQ(dk.dialer_to_listener, a.keys.dialer_to_listener);
  EXPECT_NE(a.keys.dialer_to_listener, a.keys.listener_to_dialer);
}

TEST(LinkHandshake, WrongKeyFailsOnBothSides) {
  auto p = tcp_pair();
  const Key mine = key_of(1), theirs = key_of(2);
  DialerHello h{0, 1, "", &theirs};
  auto dial = std::async(std::launch::async, [&] { return dial_handshake(*p.dialer, h, 2000, nullptr); });
  AcceptedHello a;
  const std::string listener_says = accept_handshake(*p.listener, 1, fixed_key(mine), 2000, &a);
  const std::string dialer_says = dial.get();
  EXPECT_NE("", dialer_says) << "the dialer must notice the listener lacks its key";
  EXPECT_NE("", listener_says);
  EXPECT_FALSE(a.authenticated);
}

TEST(LinkHandshake, PlainHelloIsRefusedByAKeyedListenerAndViceVersa) {
  {
    auto p = tcp_pair();
    DialerHello h{0, 1, "", nullptr};
    ASSERT_EQ("", dial_handshake(*p.dialer, h, 1000, nullptr));
    AcceptedHello a;
    EXPECT_NE(std::string::npos, accept_handshake(*p.listener, 1, fixed_key(key_of(1)), 1000, &a).find("did not authenticate"));
  }
  {
    auto p = tcp_pair();
    const Key k = key_of(1);
    DialerHello h{0, 1, "", &k};
    auto dial = std::async(std::launch::async, [&] { return dial_handshake(*p.dialer, h, 1000, nullptr); });
    AcceptedHello a;
    EXPECT_NE("", accept_handshake(*p.listener, 1, KeyFor{}, 1000, &a));
    p.listener->close();
    EXPECT_NE("", dial.get());
  }
}

TEST(LinkHandshake, SilentDialerIsDroppedAtTheDeadline) {
  auto p = tcp_pair();
  AcceptedHello a;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ("no HELLO in time", accept_handshake(*p.listener, 1, fixed_key(key_of(1)), 300, &a));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
}

// Plays a dialer by hand: records the proof of a good handshake and replays it on a new link.
TEST(LinkHandshake, ReplayedProofIsRefused) {
  const Key k = key_of(9);
  std::string recorded_challenge, recorded_proof;
  {
    auto p = tcp_pair();
    Transcript t;
    t.dialer_node = 0;
    t.listener_node = 1;
    t.nd = fresh_nonce();
    recorded_challenge = challenge_payload(t.nd, "");
    auto accepted = std::async(std::launch::async, [&] {
      AcceptedHello a;
      return accept_handshake(*p.listener, 1, fixed_key(k), 3000, &a);
    });
    auto send = [&](const std::string& payload) {
      wire::Command c;
      c.hdr.command = wire::CMD_HELLO;
      c.hdr.src_node = 0;
      c.hdr.dst_node = 1;
      c.hdr.src_ep = c.hdr.dst_ep = DVS_NONE;
      c.payload = std::as_bytes(std::span<const char>(payload.data(), payload.size()));
      std::vector<std::byte> f;
      ASSERT_EQ(wire::WireError::kOk, wire::encode_frame(c, f));
      iovec iov{f.data(), f.size()};
      ASSERT_EQ(0, p.dialer->send(std::span<const iovec>(&iov, 1)));
    };
    send(recorded_challenge);
    std::span<const std::byte> frame;
    ASSERT_GT(p.dialer->recv(&frame, 3000), 0);
    wire::DecodedFrame df;
    ASSERT_EQ(wire::WireError::kOk, wire::decode_frame(frame, &df));
    const std::string_view resp(reinterpret_cast<const char*>(df.commands[0].payload.data()), df.commands[0].payload.size());
    Mac lm{};
    ASSERT_TRUE(parse_response(resp, &t.nl, &lm));
    recorded_proof = proof_payload(prove(k, Role::kDialer, transcript_hash(t)));
    send(recorded_proof);
    ASSERT_EQ("", accepted.get()) << "the hand-played handshake itself must succeed";
    // The replay: same challenge and proof on a new link (the listener picks a fresh Nl).
    auto q = tcp_pair();
    auto replayed = std::async(std::launch::async, [&] {
      AcceptedHello a;
      return accept_handshake(*q.listener, 1, fixed_key(k), 3000, &a);
    });
    p.dialer = std::move(q.dialer);
    send(recorded_challenge);
    ASSERT_GT(p.dialer->recv(&frame, 3000), 0);
    send(recorded_proof);
    EXPECT_NE(std::string::npos, replayed.get().find("does not hold the key"));
  }
}

TEST(SealedLink, CarriesFramesAndRefusesTamperedOnes) {
  auto p = tcp_pair();
  SessionKeys keys;
  keys.dialer_to_listener = key_of(3);
  keys.listener_to_dialer = key_of(4);
  auto d = seal(std::move(p.dialer), keys, Role::kDialer);
  auto l = seal(std::move(p.listener), keys, Role::kListener);
  for (int i = 0; i < 3; ++i) {
    std::string a = "frame " + std::to_string(i), b = " tail";
    iovec iov[2] = {{a.data(), a.size()}, {b.data(), b.size()}};
    ASSERT_EQ(0, d->send(std::span<const iovec>(iov, 2)));
    std::span<const std::byte> f;
    ASSERT_EQ(static_cast<long>(a.size() + b.size()), l->recv(&f, 3000));
    EXPECT_EQ(a + b, std::string(reinterpret_cast<const char*>(f.data()), f.size()));
  }
  std::string back = "answer";
  iovec iov{back.data(), back.size()};
  ASSERT_EQ(0, l->send(std::span<const iovec>(&iov, 1)));
  std::span<const std::byte> f;
  ASSERT_EQ(6, d->recv(&f, 3000));
  // A frame forged on the wire (framed by the transport, sealed by no one) closes the link.
  wire::Command hello;  // a well-formed plain frame, with room for a tag no one made
  hello.hdr.command = wire::CMD_HELLO;
  hello.hdr.src_node = 0;
  hello.hdr.dst_node = 1;
  hello.hdr.src_ep = hello.hdr.dst_ep = DVS_NONE;
  std::vector<std::byte> plain;
  ASSERT_EQ(wire::WireError::kOk, wire::encode_frame(hello, plain));
  plain.resize(plain.size() + kSealOverhead);
  iovec forged{plain.data(), plain.size()};
  std::unique_ptr<transport::Listener> keep;
  auto r = tcp_pair(&keep);
  auto victim = seal(std::move(r.listener), keys, Role::kListener);
  ASSERT_EQ(0, r.dialer->send(std::span<const iovec>(&forged, 1)));
  EXPECT_EQ(EDVSBADVALUE, victim->recv(&f, 3000));
}

TEST(SealedLink, AReplayedFrameFailsToOpen) {
  std::unique_ptr<transport::Listener> keep;
  auto p = tcp_pair(&keep);
  SessionKeys keys;
  keys.dialer_to_listener = key_of(5);
  keys.listener_to_dialer = key_of(6);
  // Seal two frames with a private sealer whose output we capture by sending it over a raw pair.
  auto cap = tcp_pair();
  auto sealer = seal(std::move(cap.dialer), keys, Role::kDialer);
  std::string m = "once";
  iovec iov{m.data(), m.size()};
  ASSERT_EQ(0, sealer->send(std::span<const iovec>(&iov, 1)));
  std::span<const std::byte> sealed;
  ASSERT_GT(cap.listener->recv(&sealed, 3000), 0);
  std::vector<std::byte> copy(sealed.begin(), sealed.end());
  auto victim = seal(std::move(p.listener), keys, Role::kListener);
  iovec c{copy.data(), copy.size()};
  ASSERT_EQ(0, p.dialer->send(std::span<const iovec>(&c, 1)));
  std::span<const std::byte> f;
  ASSERT_EQ(4, victim->recv(&f, 3000));
  ASSERT_EQ(0, p.dialer->send(std::span<const iovec>(&c, 1)));  // the same sealed frame again
  EXPECT_EQ(EDVSBADVALUE, victim->recv(&f, 3000));
}

}  // namespace
}  // namespace dvs::linkauth
