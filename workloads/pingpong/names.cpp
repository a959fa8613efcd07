// Names and parsers of primitives and wait strategies (used in tables, JSON and flags).
#include "workloads/pingpong/pingpong.hpp"

namespace dvs::workloads {

const char* primitive_id(Primitive p) {
  switch (p) {
    case Primitive::SendReceive: return "send_receive";
    case Primitive::SendrecReply: return "sendrec_reply";
    case Primitive::NotifyReceive: return "notify_receive";
    case Primitive::RcvrqstReply: return "rcvrqst_reply";
    case Primitive::Vcopy: return "vcopy";
  }
  return "?";
}

const char* primitive_label(Primitive p) {
  switch (p) {
    case Primitive::SendReceive: return "send/receive <-> receive/send";
    case Primitive::SendrecReply: return "sendrec <-> receive/reply";
    case Primitive::NotifyReceive: return "notify/receive <-> receive/notify";
    case Primitive::RcvrqstReply: return "sendrec <-> rcvrqst/reply";
    case Primitive::Vcopy: return "vcopy (requester = dst)";
  }
  return "?";
}

std::optional<Primitive> parse_primitive(const std::string& id) {
  for (Primitive p : kAllPrimitives)
    if (id == primitive_id(p)) return p;
  return std::nullopt;
}

const char* wait_name(dvs_wait_mode_t w) {
  switch (w) {
    case DVS_WAIT_SPIN: return "spin";
    case DVS_WAIT_SPIN_THEN_BLOCK: return "spin-then-block";
    case DVS_WAIT_BLOCK: return "block";
  }
  return "?";
}

std::optional<dvs_wait_mode_t> parse_wait(const std::string& s) {
  if (s == "spin") return DVS_WAIT_SPIN;
  if (s == "spin-then-block" || s == "stb") return DVS_WAIT_SPIN_THEN_BLOCK;
  if (s == "block") return DVS_WAIT_BLOCK;
  return std::nullopt;
}

}  // namespace dvs::workloads
