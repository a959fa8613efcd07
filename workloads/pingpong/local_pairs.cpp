// run_local_pairs: see local_pairs.hpp.
#include "workloads/pingpong/local_pairs.hpp"

#include "workloads/pingpong/loops.hpp"
#include "workloads/pingpong/session.hpp"

namespace dvs::workloads {

measure::TwoProcessOutcome run_local_pairs(int n, const PingpongConfig& base) {
  const measure::PairsConfig pc = measure::message_pairs_config(n, base, DVS_MSG_SIZE);
  auto pair_cfg = [&](int k) {
    PingpongConfig cfg = base;
    cfg.server_p_nr = 10 + k;
    cfg.client_p_nr = 20 + k;
    return cfg;
  };
  auto server = [&](measure::ChildCtx& ctx, int k) -> int {
    const auto cfg = pair_cfg(k);
    if (open_session(ctx, cfg, cfg.server_p_nr, cfg.client_p_nr, "server") < 0) return 1;
    const int rc = message_server(ctx, Primitive::SendrecReply, cfg.client_p_nr);
    close_session();
    return rc;
  };
  auto client = [&](measure::ChildCtx& ctx, int k, const std::function<bool()>& release,
                    measure::LoopResult& res) -> int {
    const auto cfg = pair_cfg(k);
    if (open_session(ctx, cfg, cfg.client_p_nr, cfg.server_p_nr, "client") < 0) return 1;
    if (!release()) {
      close_session();
      return ctx.fail("client %d: not released (another child failed)", k);
    }
    const int rc = message_client(ctx, Primitive::SendrecReply, cfg.server_p_nr, cfg.loop, res);
    close_session();
    return rc;
  };
  return measure::run_pairs(pc, server, client);
}

}  // namespace dvs::workloads
