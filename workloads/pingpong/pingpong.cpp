// run_pingpong: two children, one session each, then the primitive's loop. See pingpong.hpp.
#include "workloads/pingpong/pingpong.hpp"

#include <cerrno>
#include <cstring>
#include <sys/mman.h>

#include <fmt/format.h>

#include "workloads/pingpong/loops.hpp"
#include "workloads/pingpong/session.hpp"

namespace dvs::workloads {

measure::TwoProcessOutcome run_pingpong(Primitive p, const PingpongConfig& cfg) {
  // vcopy buffers: mapped before fork so both children have them at the same address
  // (each child's pages are its own after fork: MAP_PRIVATE).
  const size_t buf_len = p == Primitive::Vcopy ? cfg.vcopy_bytes : 0;
  unsigned char* src = nullptr;
  unsigned char* dst = nullptr;
  if (buf_len > 0) {
    void* mem = mmap(nullptr, 2 * buf_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (mem == MAP_FAILED) {
      measure::TwoProcessOutcome o;
      o.result = std::make_unique<measure::LoopResult>();
      o.error = fmt::format("mmap {} bytes: {}", 2 * buf_len, strerror(errno));
      return o;
    }
    src = static_cast<unsigned char*>(mem);
    dst = src + buf_len;
  }

  auto server = [&](measure::ChildCtx& ctx) -> int {
    const int ep = open_session(ctx, cfg, cfg.server_p_nr, cfg.client_p_nr, "server");
    if (ep < 0) return 1;
    const int rc = p == Primitive::Vcopy ? vcopy_server(ctx, src, buf_len)
                                         : message_server(ctx, p, cfg.client_p_nr);
    close_session();
    return rc;
  };
  auto client = [&](measure::ChildCtx& ctx, measure::LoopResult& res) -> int {
    const int ep = open_session(ctx, cfg, cfg.client_p_nr, cfg.server_p_nr, "client");
    if (ep < 0) return 1;
    const int rc = p == Primitive::Vcopy
                       ? vcopy_client(ctx, cfg.server_p_nr, ep, src, dst, buf_len, cfg.loop,
                                      cfg.setup_timeout_ms, res)
                       : message_client(ctx, p, cfg.server_p_nr, cfg.loop, res);
    close_session();
    return rc;
  };
  auto out = measure::run_two_process(cfg.cpus, server, client, cfg.timeout_ms);
  if (src != nullptr) munmap(src, 2 * buf_len);
  return out;
}

}  // namespace dvs::workloads
