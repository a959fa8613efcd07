// The control protocol between libdvs and dvsd: fixed-size request/reply records over a UNIX
// SOCK_SEQPACKET socket; a reply may carry one file descriptor (the DC table memfd) with
// SCM_RIGHTS. Only the control plane uses it (bind, unbind, introspection, privileges); the IPC
// data path never touches dvsd.
//
// dvsd trusts nothing in a request: who sent it comes from the kernel (SO_PEERCRED for the
// connection, SCM_CREDENTIALS for each record), every field is range-checked, a record of the
// wrong size, magic or version closes that connection.
#pragma once

#include <sys/socket.h>

#include <cstdint>

#include "dvs/dvs.h"

namespace dvs::core {

constexpr uint32_t kControlMagic = 0x43535644;  // "DVSC"
constexpr uint32_t kControlVersion = 2;

enum class Op : uint32_t {
  Hello = 1,       // -> node_id
  Bind = 2,        // dcid, p_nr, tid, is_thread -> ep, index, fd
  Unbind = 3,      // dcid, ep
  LclBind = 4,     // dcid, pid, p_nr -> ep (the bound pid later calls Wait4Bind)
  Wait4Bind = 5,   // timeout_ms -> ep, index, fd  (blocks in dvsd, not in its loop)
  Wait4BindEp = 6, // dcid, ep, timeout_ms
  GetEp = 7,       // pid -> ep
  GetDcInfo = 8,   // dcid -> dcinfo
  GetProcInfo = 9, // dcid, p_nr -> procinfo
  GetPriv = 10,    // dcid, ep -> priv
  SetPriv = 11,    // dcid, ep, priv
  RmtBind = 12,    // dcid, ep, node: ep lives on that node
  AddNode = 13,    // dcid, node: the DC spans that node from now on
  DelNode = 14,    // dcid, node: it no longer does (pending communications with it are aborted)
  LinkInbox = 15,  // -> rc: this connection becomes the process's link inbox (LinkHandover below)
};

struct Request {
  uint32_t magic = kControlMagic;
  uint32_t version = kControlVersion;
  uint32_t op = 0;
  int32_t dcid = 0;
  int32_t p_nr = 0;
  int32_t ep = 0;
  int32_t pid = 0;
  int32_t tid = 0;
  int32_t is_thread = 0;
  int32_t node = -1;
  int64_t timeout_ms = 0;
  dvs_priv_t priv{};
};

struct Reply {
  uint32_t magic = kControlMagic;
  int32_t rc = 0;
  int32_t ep = DVS_NONE;
  int32_t index = -1;
  int32_t dcid = -1;
  int32_t node_id = -1;
  dvs_dcinfo_t dcinfo{};
  dvs_procinfo_t procinfo{};
  dvs_priv_t priv{};
};

// The direct remote path (docs/REMOTE_PATHS.md): a process that reads its endpoints' remote
// traffic itself opens a second control connection and sends LinkInbox on it; after the reply
// (rc 0) dvsd sends on it only these records, each with one descriptor: a link a process of peer
// `node` dialed to endpoint `ep` of DC `dcid` here, to be adopted with the transport of `scheme`
// (Transport::adopt) and only read, never written. The process owns the descriptor from then on;
// dvsd keeps a copy and serves the link itself once ep is unbound or the process is gone.
struct LinkHandover {
  uint32_t magic = kControlMagic;
  int32_t dcid = -1;
  int32_t ep = DVS_NONE;
  int32_t node = -1;
  char scheme[16] = {};
};

// Sends one record (and fd if >= 0). Returns 0 or -errno.
int send_record(int sock, const void* rec, size_t len, int fd);
// Receives one record of exactly len bytes (and at most one fd, else *fd = -1). sender, if not
// null, receives the kernel's credentials of the process that sent it (the socket must have
// SO_PASSCRED), or pid 0 and uid/gid -1 when the record came without.
// Returns len, 0 on orderly close, -EBADMSG for a record of another size, or -errno.
long recv_record(int sock, void* rec, size_t len, int* fd, ucred* sender = nullptr);

}  // namespace dvs::core
