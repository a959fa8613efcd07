// curl (Debian's binary) as a child process: one download of a URL to /dev/null, its size and
// time as curl reports them. The client of `dvs web bench --large` (docs/WEB.md).
#ifndef DVS_WORKLOADS_WEB_CURL_DOWNLOAD_HPP
#define DVS_WORKLOADS_WEB_CURL_DOWNLOAD_HPP

#include <cstdint>
#include <string>

namespace dvs::workloads::web {

struct CurlResult {
  bool ok = false;      // status 200 and exactly the bytes wanted
  double seconds = 0;   // curl's time_total
  uint64_t bytes = 0;
  std::string error;    // why not ok: curl's output and exit status
};

// Blocks until curl ends (at most 300 s).
CurlResult run_curl(const std::string& url, uint64_t want_bytes);

}  // namespace dvs::workloads::web

#endif
