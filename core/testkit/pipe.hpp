// Parent/child hand-shakes over a pipe: 64-bit values, and a start line for several children.
#ifndef DVS_TESTING_PIPE_HPP
#define DVS_TESTING_PIPE_HPP

#include <cstdint>
#include <optional>

#include "core/testkit/test_time.hpp"

namespace dvs::testing {

// A pipe carrying 64-bit values (atomic writes, several writers allowed). Create it before
// forking; both sides keep both ends.
class Pipe {
 public:
  Pipe();
  ~Pipe();
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  bool send(int64_t v);
  // Next value, or nullopt after timeout.
  std::optional<int64_t> recv(Millis timeout = Millis(10000));
  // Is a value available right now (non-consuming)?
  bool readable();

 private:
  int fd_[2] = {-1, -1};
};

// A start line for several children: each binds, then arrive_and_wait(); the parent's
// open(n) waits until n children arrived and lets them all go.
class StartGate {
 public:
  void arrive_and_wait(Millis timeout = Millis(10000)) {
    arrived_.send(1);
    (void)go_.recv(timeout);
  }
  bool open(int n, Millis timeout = Millis(10000)) {
    for (int i = 0; i < n; ++i)
      if (!arrived_.recv(timeout)) return false;
    for (int i = 0; i < n; ++i) go_.send(1);
    return true;
  }

 private:
  Pipe arrived_, go_;
};

}  // namespace dvs::testing

#endif
