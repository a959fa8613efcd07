#include "transports/conformance/conformance.hpp"

#include <cstdlib>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "transports/conformance/listen_uris.hpp"
#include "transports/transport_testing.hpp"

namespace dvs::transport::conformance {

std::vector<std::string> registered_schemes() {
  register_builtin_transports();
  std::vector<std::string> out;
  for (Transport* t : all_transports()) out.emplace_back(t->scheme());
  return out;
}

std::string rc_name(long rc) {
  if (rc >= 0) return std::to_string(rc);
  return std::string(dvs_errname(static_cast<int>(rc))) + "(" + std::to_string(rc) + ")";
}

namespace {
uint64_t mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
std::byte pattern_byte(uint64_t m, size_t j) {
  return std::byte(static_cast<uint8_t>((m >> ((j % 8) * 8)) + j * 7 + (j >> 11)));
}
}  // namespace

void fill_pattern(uint64_t seq, std::span<std::byte> out) {
  const uint64_t m = mix(seq);
  for (size_t j = 0; j < out.size(); ++j) out[j] = pattern_byte(m, j);
}

bool check_pattern(uint64_t seq, std::span<const std::byte> in) {
  const uint64_t m = mix(seq);
  for (size_t j = 0; j < in.size(); ++j)
    if (in[j] != pattern_byte(m, j)) return false;
  return true;
}

int send_bytes(Link& l, std::span<const std::byte> bytes) {
  iovec v{const_cast<std::byte*>(bytes.data()), bytes.size()};
  return l.send(std::span<const iovec>(&v, 1));
}

::testing::AssertionResult run_bounded(std::vector<std::function<void()>> fns, Millis limit,
                                       const std::function<void()>& on_timeout) {
  std::mutex mu;
  std::condition_variable cv;
  size_t done = 0;
  std::vector<std::thread> threads;
  threads.reserve(fns.size());
  for (auto& fn : fns)
    threads.emplace_back([&, f = std::move(fn)] {
      f();
      std::lock_guard<std::mutex> g(mu);
      ++done;
      cv.notify_all();
    });
  bool timed_out = false;
  {
    std::unique_lock<std::mutex> g(mu);
    if (!cv.wait_for(g, limit, [&] { return done == threads.size(); })) timed_out = true;
  }
  if (timed_out) {
    on_timeout();
    std::unique_lock<std::mutex> g(mu);
    if (!cv.wait_for(g, Millis(10000), [&] { return done == threads.size(); })) {
      // Threads we cannot stop: joining would hang the suite, detaching would leave them using
      // freed objects. Abort loudly instead.
      fprintf(stderr,
              "run_bounded: threads still blocked 10 s after on_timeout() closed their links: "
              "close() does not wake blocked calls. Aborting.\n");
      std::abort();
    }
  }
  for (auto& th : threads) th.join();
  if (timed_out)
    return ::testing::AssertionFailure()
           << "threads did not finish within " << limit.count() << " ms (links were closed to stop them)";
  return ::testing::AssertionSuccess();
}

char thread_state(pid_t pid, pid_t tid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t p = s.rfind(')');  // the command name may contain spaces and parentheses
  if (p == std::string::npos || p + 2 >= s.size()) return '?';
  return s[p + 2];
}

void ConformanceTest::SetUp() {
  register_builtin_transports();
  t_ = find_transport(GetParam());
  ASSERT_NE(t_, nullptr) << "no transport registered for scheme " << GetParam();
  DVS_SKIP_UNLESS_AVAILABLE(t_);  // DVS_REQUIRE_TRANSPORTS=tipc,... (the lab tests): fail instead
  caps_ = t_->capabilities();
}

::testing::AssertionResult ConformanceTest::listen(std::unique_ptr<Listener>* out) {
  std::string uri = listen_uri_for(GetParam());
  if (uri.empty())
    return ::testing::AssertionFailure()
           << "no listen URI for scheme '" << GetParam()
           << "': add one to transports/conformance/listen_uris.cpp";
  int err = 0;
  *out = t_->listen(uri, &err);
  if (!*out) return ::testing::AssertionFailure() << "listen(" << uri << ") failed: " << rc_name(err);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ConformanceTest::connect(Listener& l, LinkPair* out) {
  const std::string uri = l.uri();
  int derr = 0, aerr = 0;
  std::unique_ptr<Link> dialed;
  std::thread dialer([&] { dialed = t_->dial(uri, 5000, &derr); });
  std::unique_ptr<Link> accepted = l.accept(5000, &aerr);
  dialer.join();
  if (!dialed) return ::testing::AssertionFailure() << "dial(" << uri << ") failed: " << rc_name(derr);
  if (!accepted) return ::testing::AssertionFailure() << "accept on " << uri << " failed: " << rc_name(aerr);
  out->dialer = std::move(dialed);
  out->acceptor = std::move(accepted);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ConformanceTest::make_pair(std::unique_ptr<Listener>* l, LinkPair* out) {
  auto r = listen(l);
  if (!r) return r;
  return connect(**l, out);
}

}  // namespace dvs::transport::conformance
