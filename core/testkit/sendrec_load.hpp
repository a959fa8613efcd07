// Test helpers for fault runs: a server and numbered clients doing sendrec in forked processes
// until told to stop, re-opening and binding again whenever their dvsd is gone (EDVSDVSINIT),
// and counting in shared memory what every call did, so a test can kill and restart dvsd
// underneath and then check that no call got a reply to another request, no request was served
// twice, and no failing call outlived its bound.
#ifndef DVS_TESTING_SENDREC_LOAD_HPP
#define DVS_TESTING_SENDREC_LOAD_HPP

#include <atomic>
#include <chrono>
#include <string>

namespace dvs::testing {

struct SendrecLoad {
  static constexpr int kMaxClients = 8;
  std::atomic<int> stop{0};
  std::atomic<long> ok{0};
  std::atomic<long> ok_by[kMaxClients] = {};
  std::atomic<long> errors{0};
  std::atomic<long> wrong_reply{0};     // a reply that does not answer this call's request
  std::atomic<long> late_error{0};      // a failing call that took longer than its bound
  std::atomic<long> duplicates{0};      // a request the server saw twice or out of order
  std::atomic<long> dvsd_gone{0};       // EDVSDVSINIT seen by clients
  std::atomic<long> client_reopens{0};  // clients' re-open + bind after EDVSDVSINIT
  std::atomic<long> server_reopens{0};
  std::atomic<long> max_error_ms{0};
  // Failed calls by error code: errors_by_code[-rc] (codes are -1 .. -kMaxErrorCode; anything
  // else counts in errors_by_code[0]).
  static constexpr int kMaxErrorCode = 512;
  std::atomic<long> errors_by_code[kMaxErrorCode + 1] = {};
};

// The failed calls by code, most frequent first: "EDVSNOTCONN 12, EDVSDVSINIT 3" ("none" if none).
std::string error_counts(const SendrecLoad& load);

// A SendrecLoad in a MAP_SHARED anonymous mapping (seen by children forked afterwards; never freed).
SendrecLoad* shared_sendrec_load();

// Where the load runs. A client binds DVS_ANY on client_socket; if server_node >= 0 the server
// lives on that node and the client declares it there (dvs_rmtbind) after every bind.
struct SendrecLoadConfig {
  std::string server_socket, client_socket;
  int server_p_nr = 5;     // a system slot: its endpoint is its p_nr
  int server_node = -1;    // -1: the server is local to the clients
  long call_ms = 1000;     // each sendrec's timeout
  double error_slack_ms = 1500;  // a failing call may take this much longer than call_ms
  int reopen_bound_ms = 15000;   // how long a process retries re-opening its dvsd
};

// Child bodies (their return value is the child's exit status): serve until load->stop, replying
// to each request with its sequence number + 1; or call until load->stop as client `k`.
int serve_sendrec_load(SendrecLoad* load, const SendrecLoadConfig& cfg, int clients);
int call_sendrec_load(SendrecLoad* load, const SendrecLoadConfig& cfg, int k);

// True once each of the first `clients` clients has succeeded `more` more times than now
// (bounded by timeout).
bool every_client_served(SendrecLoad* load, int clients, long more, std::chrono::milliseconds timeout);

}  // namespace dvs::testing

#endif
