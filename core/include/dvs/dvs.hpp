// libdvs for C++: a thin RAII layer over the C API in dvs.h (same semantics, same costs: every
// member is an inline call of the C function). Errors are std::error_code values of the
// dvs_category() (value = the negative EDVS code), so `if (auto ec = ep.send(dst, m))` reads
// naturally; nothing throws except the constructors noted below.
#pragma once

#include <string>
#include <system_error>
#include <utility>

#include "dvs/dvs.h"

namespace dvs {

const std::error_category& dvs_category();

inline std::error_code make_error(int rc) { return rc < 0 ? std::error_code(rc, dvs_category()) : std::error_code(); }

// Thrown only by Endpoint's binding constructors.
struct Error : std::system_error {
  explicit Error(int rc, const std::string& what) : std::system_error(make_error(rc), what) {}
};

using Message = dvs_message_t;

enum class Wait { spin = DVS_WAIT_SPIN, spin_then_block = DVS_WAIT_SPIN_THEN_BLOCK, block = DVS_WAIT_BLOCK };

// A bound endpoint of this process (Endpoint::process) or of the calling thread
// (Endpoint::thread). Unbinds on destruction. IPC calls act as the calling thread's effective
// endpoint (see dvs.h), so use a thread endpoint from the thread that bound it.
class Endpoint {
 public:
  // Connect to dvsd (socket_path may be empty: $DVS_SOCKET or the default) and bind.
  // Throws dvs::Error if either fails.
  static Endpoint process(int dcid, int p_nr, const std::string& socket_path = "") { return Endpoint(dcid, p_nr, false, socket_path); }
  static Endpoint thread(int dcid, int p_nr, const std::string& socket_path = "") { return Endpoint(dcid, p_nr, true, socket_path); }

  Endpoint(Endpoint&& o) noexcept : dcid_(o.dcid_), ep_(std::exchange(o.ep_, DVS_NONE)) {}
  Endpoint& operator=(Endpoint&& o) noexcept {
    if (this != &o) {
      release();
      dcid_ = o.dcid_;
      ep_ = std::exchange(o.ep_, DVS_NONE);
    }
    return *this;
  }
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;
  ~Endpoint() { release(); }

  int endpoint() const { return ep_; }
  int dcid() const { return dcid_; }
  int p_nr() const { return DVS_ENDPOINT_P(ep_); }

  std::error_code set_wait(Wait w, uint32_t spin_ns = DVS_DEFAULT_SPIN_NS) { return make_error(dvs_set_wait(static_cast<dvs_wait_mode_t>(w), spin_ns)); }
  std::error_code send(int dst, Message& m, long timeout_ms = DVS_TIMEOUT_FOREVER) { return make_error(dvs_send_T(dst, &m, timeout_ms)); }
  std::error_code receive(int src, Message& m, long timeout_ms = DVS_TIMEOUT_FOREVER) { return make_error(dvs_receive_T(src, &m, timeout_ms)); }
  std::error_code sendrec(int dst, Message& m, long timeout_ms = DVS_TIMEOUT_FOREVER) { return make_error(dvs_sendrec_T(dst, &m, timeout_ms)); }
  std::error_code notify(int dst) { return make_error(dvs_notify(dst)); }
  std::error_code rcvrqst(Message& m, long timeout_ms = DVS_TIMEOUT_FOREVER) { return make_error(dvs_rcvrqst_T(&m, timeout_ms)); }
  std::error_code reply(int dst, Message& m, long timeout_ms = DVS_TIMEOUT_FOREVER) { return make_error(dvs_reply_T(dst, &m, timeout_ms)); }
  // Bytes copied, or a negative EDVS code.
  long vcopy(int src, const void* src_addr, int dst, void* dst_addr, size_t bytes) { return dvs_vcopy(src, src_addr, dst, dst_addr, bytes); }

  // Give up the binding now (the destructor does it otherwise).
  std::error_code unbind() {
    if (ep_ == DVS_NONE) return {};
    int rc = dvs_unbind(dcid_, ep_);
    ep_ = DVS_NONE;
    return make_error(rc);
  }

 private:
  Endpoint(int dcid, int p_nr, bool per_thread, const std::string& socket_path) : dcid_(dcid) {
    int rc = dvs_open(socket_path.empty() ? nullptr : socket_path.c_str());
    if (rc < 0) throw Error(rc, "dvs_open");
    int ep = per_thread ? dvs_tbind(dcid, p_nr) : dvs_bind(dcid, p_nr);
    // A task's endpoint is its negative p_nr; anything else negative is an error.
    if (ep < 0 && !(p_nr < 0 && ep == p_nr)) throw Error(ep, per_thread ? "dvs_tbind" : "dvs_bind");
    ep_ = ep;
  }
  void release() {
    if (ep_ != DVS_NONE) dvs_unbind(dcid_, ep_);
    ep_ = DVS_NONE;
  }
  int dcid_ = -1;
  int ep_ = DVS_NONE;
};

inline const std::error_category& dvs_category() {
  struct Category : std::error_category {
    const char* name() const noexcept override { return "dvs"; }
    std::string message(int code) const override { return std::string(dvs_errname(code)) + ": " + dvs_strerror(code); }
  };
  static const Category category;
  return category;
}

}  // namespace dvs
