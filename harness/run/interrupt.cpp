// InterruptWatch: see interrupt.hpp.
#include "harness/run/interrupt.hpp"

#include <cerrno>
#include <ctime>
#include <pthread.h>
#include <unistd.h>

namespace dvs::bench {

namespace {

void say(const char* s) {
  size_t n = 0;
  while (s[n] != '\0') ++n;
  const ssize_t w = write(STDERR_FILENO, s, n);
  (void)w;
}

}  // namespace

InterruptWatch::InterruptWatch() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, &old_mask_);
  thread_ = std::thread([this] { watch(); });
}

InterruptWatch::~InterruptWatch() {
  stop_.store(true);
  thread_.join();
  // A SIGINT taken by the watcher is consumed; one that arrives now stays pending and acts
  // (default: terminate) once the mask is restored, as it would have without the watch.
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

void InterruptWatch::watch() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  const timespec tick{0, 100'000'000};
  while (!stop_.load()) {
    const int sig = sigtimedwait(&set, nullptr, &tick);
    if (sig != SIGINT) continue;  // timeout or EINTR
    if (count_.fetch_add(1, std::memory_order_acq_rel) == 0) {
      say("\ninterrupt: stopping after the loop in progress, then writing the results "
          "(Ctrl-C again to abandon that loop)\n");
    } else {
      say("\ninterrupt: abandoning the loop in progress; rows written so far are kept\n");
      _exit(130);
    }
  }
}

}  // namespace dvs::bench
