// For the harness's end-to-end tests: run a shell command, capture its stdout (add 2>&1 for
// stderr) and exit status.
#ifndef DVS_HARNESS_CLI_TEST_SHELL_HPP
#define DVS_HARNESS_CLI_TEST_SHELL_HPP

#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace dvs::testing {

struct Ran {
  int status = -1;  // exit status, -1 if it did not exit normally or did not start
  std::string out;
};

inline Ran run_shell(const std::string& cmd) {
  Ran r;
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
  const int st = pclose(f);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace dvs::testing

#endif
