// Server and client bodies of each loop (run inside the children of run_pingpong).
// Contract: server_* returns the child's exit status; client_* fills `res` and returns the exit
// status. Both assume open_session already succeeded; neither closes the session.
#ifndef DVS_WORKLOADS_PINGPONG_LOOPS_HPP
#define DVS_WORKLOADS_PINGPONG_LOOPS_HPP

#include "workloads/pingpong/pingpong.hpp"

namespace dvs::workloads {

int message_server(measure::ChildCtx& ctx, Primitive p, int client_ep);
int message_client(measure::ChildCtx& ctx, Primitive p, int server_ep,
                   const measure::LoopConfig& loop, measure::LoopResult& res);

// Vcopy: src_buf is a buffer mapped at the same address in both children (allocated before
// fork); the server fills it with a pattern and blocks in receive until the client's stop.
int vcopy_server(measure::ChildCtx& ctx, unsigned char* src_buf, size_t bytes);
int vcopy_client(measure::ChildCtx& ctx, int server_ep, int self_ep, const unsigned char* src_buf,
                 unsigned char* dst_buf, size_t bytes, const measure::LoopConfig& loop,
                 int setup_timeout_ms, measure::LoopResult& res);

}  // namespace dvs::workloads

#endif
