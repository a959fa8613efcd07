// run_remote_pairs: n concurrent sendrec pairs across two nodes (see remote.hpp), run by
// measure::run_pairs.
#include <cerrno>
#include <cstring>
#include <functional>

#include <fmt/format.h>

#include "workloads/measure/pairs.hpp"
#include "workloads/pingpong/loops.hpp"
#include "workloads/pingpong/session.hpp"
#include "workloads/remote/remote.hpp"
#include "workloads/remote/session.hpp"

namespace dvs::workloads::remote {

measure::TwoProcessOutcome run_remote_pairs(int n, const RemoteConfig& cfg) {
  // The dvs sessions' own hand-shakes (server bound, link probe taken) on a sync page; the
  // release, the bounds and the aggregate are measure::run_pairs's.
  SyncPage* sync = map_sync_page();
  if (sync == nullptr) {
    measure::TwoProcessOutcome out;
    out.result = std::make_unique<measure::LoopResult>();
    out.error = fmt::format("mmap: {}", strerror(errno));
    return out;
  }
  measure::PairsConfig pc = measure::message_pairs_config(n, cfg, DVS_MSG_SIZE);
  auto server = [&](measure::ChildCtx& ctx, int k) -> int {
    const int sp = cfg.server_p_nr + k, cp = cfg.client_p_nr + k;
    if (server_session(ctx, cfg, sp, &sync->server_ready[k]) < 0) {
      sync->abort.store(1);
      return 1;
    }
    int rc = drain_probe(ctx, cfg, cp, &sync->probe_taken[k]);
    if (rc == 0) rc = message_server(ctx, Primitive::SendrecReply, cp);
    close_session();
    if (rc != 0) sync->abort.store(1);
    return rc;
  };
  auto client = [&](measure::ChildCtx& ctx, int k, const std::function<bool()>& release,
                    measure::LoopResult& res) -> int {
    const int sp = cfg.server_p_nr + k, cp = cfg.client_p_nr + k;
    if (client_session(ctx, cfg, cp, sp, &sync->server_ready[k], &sync->probe_taken[k], &sync->abort) < 0) {
      sync->abort.store(1);
      return 1;
    }
    if (!release()) {
      close_session();
      return ctx.fail("client %d: not released (another child failed)", k);
    }
    const int rc = message_client(ctx, Primitive::SendrecReply, sp, cfg.loop, res);
    close_session();
    return rc;
  };
  auto out = measure::run_pairs(pc, server, client);
  unmap_sync_page(sync);
  return out;
}

}  // namespace dvs::workloads::remote
