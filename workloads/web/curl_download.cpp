// curl as a child process: see curl_download.hpp.
#include "workloads/web/curl_download.hpp"

#include <cstdio>
#include <sys/wait.h>

#include <fmt/format.h>

namespace dvs::workloads::web {

CurlResult run_curl(const std::string& url, uint64_t want_bytes) {
  CurlResult r;
  const std::string cmd =
      fmt::format("curl -s --max-time 300 -o /dev/null -w '%{{http_code}} %{{size_download}} %{{time_total}}' '{}' 2>&1", url);
  std::fflush(nullptr);
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    r.error = "popen curl failed";
    return r;
  }
  char line[512] = {0};
  std::string out;
  while (fgets(line, sizeof line, p) != nullptr) out += line;
  const int st = pclose(p);
  int code = 0;
  unsigned long long size = 0;
  double t = 0;
  if (std::sscanf(out.c_str(), "%d %llu %lf", &code, &size, &t) != 3 || code != 200 || size != want_bytes ||
      WEXITSTATUS(st) != 0) {
    r.error = fmt::format("curl: '{}' (exit {}; want 200 and {} bytes)", out, WEXITSTATUS(st), want_bytes);
    return r;
  }
  r.ok = true;
  r.bytes = size;
  r.seconds = t;
  return r;
}

}  // namespace dvs::workloads::web
