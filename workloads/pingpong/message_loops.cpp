// The four message ping-pongs (send/receive, sendrec, notify, rcvrqst). See pingpong.hpp.
#include <cstring>

#include "workloads/pingpong/loops.hpp"
#include "workloads/pingpong/session.hpp"

namespace dvs::workloads {

int message_server(measure::ChildCtx& ctx, Primitive p, int client_ep) {
  dvs_message_t m;
  std::memset(&m, 0, sizeof m);
  for (;;) {
    int rc;
    switch (p) {
      case Primitive::SendReceive:
        if ((rc = dvs_receive(client_ep, &m)) < 0) return ctx.fail("server receive: %s", dvs_err(rc));
        if ((rc = dvs_send(client_ep, &m)) < 0) return ctx.fail("server send: %s", dvs_err(rc));
        if (m.m_type == kStop) return 0;
        break;
      case Primitive::SendrecReply:
      case Primitive::RcvrqstReply: {
        rc = p == Primitive::SendrecReply ? dvs_receive(DVS_ANY, &m) : dvs_rcvrqst(&m);
        if (rc < 0) return ctx.fail("server %s: %s", p == Primitive::SendrecReply ? "receive" : "rcvrqst", dvs_err(rc));
        if (m.m_source != client_ep)
          return ctx.fail("server: request from endpoint %d, expected %d", m.m_source, client_ep);
        const bool stop = m.m_type == kStop;
        if ((rc = dvs_reply(m.m_source, &m)) < 0) return ctx.fail("server reply: %s", dvs_err(rc));
        if (stop) return 0;
        break;
      }
      case Primitive::NotifyReceive:
        if ((rc = dvs_receive(client_ep, &m)) < 0) return ctx.fail("server receive: %s", dvs_err(rc));
        if (m.m_type == kStop) return 0;  // the stop comes as a plain send
        if (!DVS_IS_NOTIFY(m.m_type))
          return ctx.fail("server: expected a notification, got m_type %#x", unsigned(m.m_type));
        if ((rc = dvs_notify(client_ep)) < 0) return ctx.fail("server notify: %s", dvs_err(rc));
        break;
      case Primitive::Vcopy:
        return ctx.fail("message_server: vcopy is not a message loop");
    }
  }
}

int message_client(measure::ChildCtx& ctx, Primitive p, int server_ep,
                   const measure::LoopConfig& loop, measure::LoopResult& res) {
  dvs_message_t m;
  std::memset(&m, 0, sizeof m);
  res.bytes_per_op = DVS_MSG_SIZE;
  int rc = 0;
  switch (p) {
    case Primitive::SendReceive:
      measure::run_timed_loop(
          [&]() -> int {
            m.m_type = kPing;
            int r = dvs_send(server_ep, &m);
            return r < 0 ? r : dvs_receive(server_ep, &m);
          },
          loop, res);
      if (res.error < 0) return ctx.fail("client send/receive: %s", dvs_err(res.error));
      m.m_type = kStop;
      if ((rc = dvs_send(server_ep, &m)) < 0 || (rc = dvs_receive(server_ep, &m)) < 0)
        return ctx.fail("client stop: %s", dvs_err(rc));
      return 0;
    case Primitive::SendrecReply:
    case Primitive::RcvrqstReply:
      measure::run_timed_loop(
          [&]() -> int {
            m.m_type = kPing;
            return dvs_sendrec(server_ep, &m);
          },
          loop, res);
      if (res.error < 0) return ctx.fail("client sendrec: %s", dvs_err(res.error));
      m.m_type = kStop;
      if ((rc = dvs_sendrec(server_ep, &m)) < 0) return ctx.fail("client stop: %s", dvs_err(rc));
      return 0;
    case Primitive::NotifyReceive:
      measure::run_timed_loop(
          [&]() -> int {
            int r = dvs_notify(server_ep);
            return r < 0 ? r : dvs_receive(server_ep, &m);
          },
          loop, res);
      if (res.error < 0) return ctx.fail("client notify/receive: %s", dvs_err(res.error));
      if (!DVS_IS_NOTIFY(m.m_type))
        return ctx.fail("client: expected a notification, got m_type %#x", unsigned(m.m_type));
      m.m_type = kStop;
      if ((rc = dvs_send(server_ep, &m)) < 0) return ctx.fail("client stop: %s", dvs_err(rc));
      return 0;
    case Primitive::Vcopy:
      break;
  }
  return ctx.fail("message_client: vcopy is not a message loop");
}

}  // namespace dvs::workloads
