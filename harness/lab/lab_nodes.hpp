// Test helpers shared by the lab's multi-node tests (tipc_remote_test.cpp, rdma_remote_test.cpp):
// two dvsd nodes, node 1 listening and node 0 dialing it over the transport under test, a server
// on node 1 and a client on node 0 talking through the proxies.
//
// dvsd's own dead-link timer is set long (kTiming: 30 s) so that every failure detected within
// kDetectMs is the transport's doing.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/testkit/dvsd_process.hpp"
#include "core/testkit/pipe.hpp"

namespace dvs::lab::testing {

inline constexpr int kServer = 5;  // a system slot: endpoint 5 on every node
inline constexpr double kDetectMs = 10000;
// dvsd arguments: heartbeats every 200 ms, a link declared dead only after 30 s of silence.
inline const std::vector<std::string> kTiming = {"--heartbeat-ms", "200", "--dead-ms", "30000"};

// Starts dvsd in network namespace `ns` (/run/netns/NAME; "" = this one): the calling thread
// enters it for the start only.
::testing::AssertionResult start_in(const std::string& ns, dvs::testing::DvsdProcess* d);

// Starts node 1 (in namespace ns1) with --listen listen_uri, then node 0 (in ns0) dialing the URI
// node 1 reports, followed by dial_suffix (e.g. "?wait_ms=5000"); both with kTiming.
// extra0 / extra1: more dvsd arguments of node 0 / node 1 (e.g. --cpus to pin a node).
::testing::AssertionResult start_nodes(const std::string& listen_uri, const std::string& dial_suffix,
                                       const std::string& ns0, const std::string& ns1,
                                       std::unique_ptr<dvs::testing::DvsdProcess>* n0,
                                       std::unique_ptr<dvs::testing::DvsdProcess>* n1,
                                       const std::vector<std::string>& extra0 = {},
                                       const std::vector<std::string>& extra1 = {});

// A client on node 0: bound, server rmtbound, then notifies until the link carries them.
// The client's endpoint, or a negative code.
int client_ready(const std::string& sock);

// The server on node 1: reports on `bound` once its endpoint is bound (the client's probe is a
// remote notify, released when node 0's proxy takes it: one sent before the bind would be lost),
// takes the probe, then answers `answers` requests (m_type + 1), then, if `took` is given, takes
// one more request, never answers it and reports it on `took`.
int serve(const std::string& sock, int answers, dvs::testing::Pipe* bound, dvs::testing::Pipe* took);

// `rounds` sendrecs from a client on node 0 (socket s0) to the server on node 1 (socket s1),
// each checked; gtest expectations.
void sendrec_rounds(const std::string& s0, const std::string& s1, int rounds);

// A caller on node 0 blocked in a sendrec that the server on node 1 took; then `cut` runs. The
// caller must fail with EDVSNOTCONN within kDetectMs, i.e. through the transport, not dvsd's 30 s
// timer. gtest expectations.
void blocked_caller_fails_when(const std::string& s0, const std::string& s1, const std::function<void()>& cut);

}  // namespace dvs::lab::testing
