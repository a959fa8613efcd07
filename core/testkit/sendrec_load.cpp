// Fault-run helpers: see sendrec_load.hpp.
#include "core/testkit/sendrec_load.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <new>
#include <thread>
#include <utility>
#include <vector>

#include "core/testkit/forked_child.hpp"
#include "core/testkit/poll_until.hpp"
#include "dvs/dvs.h"

namespace dvs::testing {

namespace {

// dvs_close + dvs_open + bind (+ rmtbind of a remote server), retried until the dvsd answers
// again or bound_ms passes. The endpoint, or the last error.
int reopen(const SendrecLoadConfig& cfg, const std::string& sock, int p_nr, bool client) {
  const auto t0 = Clock::now();
  int rc = EDVSDVSINIT;
  for (;;) {
    dvs_close();
    if ((rc = dvs_open(sock.c_str())) == 0) {
      rc = dvs_bind(0, p_nr);
      if (rc >= 0 && client && cfg.server_node >= 0) {
        const int rb = dvs_rmtbind(0, cfg.server_p_nr, cfg.server_node);
        if (rb < 0) rc = rb;
      }
      if (rc >= 0) return rc;
    }
    if (ms_since(t0) > cfg.reopen_bound_ms) return rc;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void note_max(std::atomic<long>& m, long v) {
  long cur = m.load();
  while (v > cur && !m.compare_exchange_weak(cur, v)) {
  }
}

void count_error(SendrecLoad* load, int rc) {
  const int code = rc < 0 && rc >= -SendrecLoad::kMaxErrorCode ? -rc : 0;
  load->errors_by_code[code].fetch_add(1);
}

}  // namespace

std::string error_counts(const SendrecLoad& load) {
  std::vector<std::pair<long, int>> seen;  // (count, code)
  for (int i = 0; i <= SendrecLoad::kMaxErrorCode; ++i)
    if (const long n = load.errors_by_code[i].load(); n > 0) seen.emplace_back(n, i == 0 ? 0 : -i);
  std::sort(seen.begin(), seen.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::string out;
  for (const auto& [n, code] : seen)
    out += (out.empty() ? "" : ", ") + std::string(code == 0 ? "other" : dvs_errname(code)) + " " + std::to_string(n);
  return out.empty() ? "none" : out;
}

SendrecLoad* shared_sendrec_load() {
  void* p = mmap(nullptr, sizeof(SendrecLoad), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : new (p) SendrecLoad{};
}

int serve_sendrec_load(SendrecLoad* load, const SendrecLoadConfig& cfg, int clients) {
  CHILD_CHECK(clients <= SendrecLoad::kMaxClients);
  CHILD_CHECK_EQ(cfg.server_p_nr, reopen(cfg, cfg.server_socket, cfg.server_p_nr, false));
  long last_seq[SendrecLoad::kMaxClients] = {};
  while (!load->stop.load()) {
    dvs_message_t m{};
    const int rc = dvs_receive_T(DVS_ANY, &m, 200);
    if (rc == EDVSDVSINIT) {
      CHILD_CHECK_EQ(cfg.server_p_nr, reopen(cfg, cfg.server_socket, cfg.server_p_nr, false));
      load->server_reopens.fetch_add(1);
      continue;
    }
    if (rc != 0 || DVS_IS_NOTIFY(m.m_type)) continue;
    const int client = m.m_u.m1.m1i1;
    const long seq = m.m_u.m1.m1i2;
    if (client < 0 || client >= clients || seq <= last_seq[client]) {
      load->duplicates.fetch_add(1);
      continue;
    }
    last_seq[client] = seq;
    m.m_type = static_cast<int>(seq) + 1;
    (void)dvs_reply_T(m.m_source, &m, cfg.call_ms);  // the client may have given up, the link gone
  }
  return 0;
}

int call_sendrec_load(SendrecLoad* load, const SendrecLoadConfig& cfg, int k) {
  CHILD_CHECK(k >= 0 && k < SendrecLoad::kMaxClients);
  CHILD_CHECK_OK(reopen(cfg, cfg.client_socket, DVS_ANY, true));
  long seq = 0;
  while (!load->stop.load()) {
    dvs_message_t m{};
    m.m_type = 1;
    m.m_u.m1.m1i1 = k;
    m.m_u.m1.m1i2 = static_cast<int>(++seq);
    const auto t0 = Clock::now();
    const int rc = dvs_sendrec_T(cfg.server_p_nr, &m, cfg.call_ms);
    const double took = ms_since(t0);
    if (rc == 0) {
      if (m.m_type != seq + 1 || m.m_source != cfg.server_p_nr) load->wrong_reply.fetch_add(1);
      load->ok.fetch_add(1);
      load->ok_by[k].fetch_add(1);
      continue;
    }
    load->errors.fetch_add(1);
    count_error(load, rc);
    note_max(load->max_error_ms, static_cast<long>(took));
    if (took > static_cast<double>(cfg.call_ms) + cfg.error_slack_ms) load->late_error.fetch_add(1);
    if (rc == EDVSDVSINIT) {  // our node's dvsd is gone: wait for the new one
      load->dvsd_gone.fetch_add(1);
      CHILD_CHECK_OK(reopen(cfg, cfg.client_socket, DVS_ANY, true));
      load->client_reopens.fetch_add(1);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // link down, or the server re-binding
    }
  }
  return 0;
}

bool every_client_served(SendrecLoad* load, int clients, long more, std::chrono::milliseconds timeout) {
  long from[SendrecLoad::kMaxClients] = {};
  for (int k = 0; k < clients; ++k) from[k] = load->ok_by[k].load();
  return poll_until(
      [&] {
        for (int k = 0; k < clients; ++k)
          if (load->ok_by[k].load() < from[k] + more) return false;
        return true;
      },
      timeout);
}

}  // namespace dvs::testing
