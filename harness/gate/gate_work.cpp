// dvs_gate_work: the hot-path cells of `dvs gate`, each a fixed number of iterations of one
// function, single-threaded and deterministic, so that callgrind's instruction count of a run is
// the same every time (harness/README.md, "dvs gate").
//
//   dvs_gate_work --list                      name, default iterations, what it does (one a line)
//   dvs_gate_work --build-info                one JSON line: compiler, build type, flags, ...
//   dvs_gate_work --cell NAME [--iterations N] [--inject CELL=F]
//
// A run sets the cell up, runs it `warmup` times inside dvs_gate_warmup() and then N times
// inside dvs_gate_measured(): `valgrind --tool=callgrind --toggle-collect=dvs_gate_measured`
// counts only the measured loop. The cell "empty" (an empty body) is the loop's own cost.
//
// --inject CELL=F (tests of the gate only): CELL runs its body F times more often (F = 0.10:
// one extra body every 10 iterations), i.e. ~F x more instructions: a cell that "really got
// slower". Other cells run exactly as without it.
//
// Exit: 0 ok, 2 usage, 3 a cell's call returned something unexpected (nothing worth counting).
#include <gnu/libc-version.h>
#include <sys/types.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/dvsd/table_admin.hpp"
#include "core/dvsd/wire/wire.hpp"
#include "core/dvsd/wire/wire_samples.hpp"
#include "core/ipc/primitives.hpp"
#include "core/ipc/shm_table.hpp"
#include "dvs/dvs.h"
#include "gate_build_info.hpp"
#include "workloads/measure/histogram.hpp"

namespace {

using dvs::core::Caller;
using dvs::core::DcTable;

[[noreturn]] void fail(const char* cell, const char* what, long got) {
  std::fprintf(stderr, "dvs_gate_work: cell %s: %s (got %ld)\n", cell, what, got);
  std::exit(3);
}

// ---- the IPC cells: one in-process DC table; one thread acts as every endpoint ----
struct Ipc {
  DcTable t;
  Caller a, b;            // user slots: notify/send from a to b
  Caller server, client;  // a system slot replying to a user slot that does not wait
  dvs_message_t m{};

  Caller bind(int index) {
    int ep = DVS_NONE;
    if (int rc = dvs::core::admin_bind(t, index, getpid(), gettid(), false, &ep); rc != 0)
      fail("setup", "admin_bind", rc);
    Caller c;
    c.table = &t;
    c.index = index;
    c.endpoint = ep;
    c.wait_mode = DVS_WAIT_SPIN;
    return c;
  }
  Ipc() {
    dvs::core::DcGeometry g;
    g.nr_procs = 8;
    g.nr_tasks = 2;
    g.nr_sysprocs = 6;  // slot indices 0..5 are system slots
    if (int rc = t.create(g); rc != 0) fail("setup", "DcTable::create", rc);
    server = bind(4);
    client = bind(7);
    a = bind(8);
    b = bind(9);
  }
};
Ipc* g_ipc = nullptr;

void cell_empty() {}

void cell_notify_receive() {
  Ipc& x = *g_ipc;
  if (int rc = dvs::core::ipc_notify(x.a, x.b.endpoint); rc != 0) fail("notify_receive", "notify", rc);
  if (int rc = dvs::core::ipc_receive(x.b, DVS_ANY, &x.m, DVS_TIMEOUT_NOWAIT); rc != 0)
    fail("notify_receive", "receive", rc);
}

void cell_reply_fail() {
  Ipc& x = *g_ipc;
  if (int rc = dvs::core::ipc_reply(x.server, x.client.endpoint, &x.m, DVS_TIMEOUT_NOWAIT); rc != EDVSPROCSTS)
    fail("reply_fail", "reply to a process not waiting should be EDVSPROCSTS", rc);
}

void cell_receive_nowait() {
  Ipc& x = *g_ipc;
  if (int rc = dvs::core::ipc_receive(x.b, DVS_ANY, &x.m, DVS_TIMEOUT_NOWAIT); rc != EDVSTIMEDOUT)
    fail("receive_nowait", "receive with nothing pending should be EDVSTIMEDOUT", rc);
}

void cell_send_nowait() {
  Ipc& x = *g_ipc;
  x.m.m_type = 7;
  if (int rc = dvs::core::ipc_send(x.a, x.b.endpoint, &x.m, DVS_TIMEOUT_NOWAIT); rc != EDVSTIMEDOUT)
    fail("send_nowait", "send to a process not receiving should be EDVSTIMEDOUT", rc);
}

// ---- the wire codec ----
struct Wire {
  dvs::wire::Command one;
  std::vector<dvs::wire::Command> batch;
  std::vector<std::byte> frame;
  dvs::wire::DecodedFrame decoded;

  Wire() {
    one = dvs::wire::message_command(dvs::wire::CMD_SEND_MSG, 1);
    for (uint64_t i = 0; i < 32; ++i)
      batch.push_back(dvs::wire::message_command(i % 2 ? dvs::wire::CMD_NTFY_MSG : dvs::wire::CMD_SEND_MSG, i + 1));
    frame.reserve(64 * 1024);
  }
};
Wire* g_wire = nullptr;

void cell_wire_codec() {
  Wire& w = *g_wire;
  if (auto e = dvs::wire::encode_frame(w.one, w.frame); e != dvs::wire::WireError::kOk)
    fail("wire_codec", "encode_frame", long(e));
  if (auto e = dvs::wire::decode_frame(w.frame, &w.decoded); e != dvs::wire::WireError::kOk)
    fail("wire_codec", "decode_frame", long(e));
}

void cell_wire_batch32() {
  Wire& w = *g_wire;
  if (auto e = dvs::wire::encode_batch(w.batch, w.frame); e != dvs::wire::WireError::kOk)
    fail("wire_batch32", "encode_batch", long(e));
  if (auto e = dvs::wire::decode_frame(w.frame, &w.decoded); e != dvs::wire::WireError::kOk)
    fail("wire_batch32", "decode_frame", long(e));
  if (w.decoded.commands.size() != 32) fail("wire_batch32", "decoded commands", long(w.decoded.commands.size()));
}

// ---- the histogram: 16 records of values spanning the exact and the log-linear ranges ----
struct Hist {
  dvs::stats::Histogram h;
  std::array<uint64_t, 256> values{};
  unsigned next = 0;
  Hist() {
    uint64_t x = 88172645463325252ull;  // xorshift64, fixed seed
    for (auto& v : values) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      v = x >> (x % 56);  // magnitudes from 2^8 to 2^64
    }
  }
};
Hist* g_hist = nullptr;

void cell_hist_record() {
  Hist& s = *g_hist;
  for (int k = 0; k < 16; ++k) s.h.record(s.values[(s.next++) & 255]);
}

struct Cell {
  const char* name;
  void (*body)();
  uint64_t iterations;  // default: enough that one-time costs vanish, small enough for callgrind
  const char* what;
};

constexpr Cell kCells[] = {
    {"empty", cell_empty, 20000, "the loop alone (subtracted from every other cell)"},
    {"notify_receive", cell_notify_receive, 5000, "ipc_notify A->B, then ipc_receive(ANY, NOWAIT) as B"},
    {"reply_fail", cell_reply_fail, 5000, "ipc_reply to a process not waiting: EDVSPROCSTS"},
    {"receive_nowait", cell_receive_nowait, 5000, "ipc_receive(ANY, NOWAIT), nothing pending: EDVSTIMEDOUT"},
    {"send_nowait", cell_send_nowait, 5000, "ipc_send(NOWAIT) to a process not receiving: EDVSTIMEDOUT"},
    {"wire_codec", cell_wire_codec, 5000, "encode_frame + decode_frame of a SEND_MSG frame (64 B message)"},
    {"wire_batch32", cell_wire_batch32, 1000, "encode_batch + decode_frame of 32 message commands"},
    {"hist_record", cell_hist_record, 5000, "16 Histogram::record of values from 2^8 to 2^64"},
};

const Cell* find_cell(std::string_view name) {
  for (const Cell& c : kCells)
    if (name == c.name) return &c;
  return nullptr;
}

// Extra bodies per iteration, in thousandths (0 = the plain loop).
struct Inject {
  uint64_t per_mille = 0;
};

__attribute__((noinline)) void run_loop(void (*body)(), uint64_t n, Inject inj) {
  if (inj.per_mille == 0) {
    for (uint64_t i = 0; i < n; ++i) body();
    return;
  }
  uint64_t acc = 0;
  for (uint64_t i = 0; i < n; ++i) {
    body();
    for (acc += inj.per_mille; acc >= 1000; acc -= 1000) body();
  }
}

// The only functions callgrind collects in (noipa: never folded into one another or cloned).
extern "C" __attribute__((noinline, noipa)) void dvs_gate_measured(void (*body)(), uint64_t n, Inject inj) {
  run_loop(body, n, inj);
}
extern "C" __attribute__((noinline, noipa)) void dvs_gate_warmup(void (*body)(), uint64_t n, Inject inj) {
  run_loop(body, n, inj);
}

std::string json_escape(const std::string& s) {
  std::string o;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') o += '\\';
    if (static_cast<unsigned char>(ch) < 0x20) continue;
    o += ch;
  }
  return o;
}

int usage(const char* msg) {
  std::fprintf(stderr, "dvs_gate_work: %s (usage: --list | --build-info | --cell NAME [--iterations N] "
                       "[--inject CELL=F])\n", msg);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cell_name, inject_arg;
  uint64_t iterations = 0;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "--list") {
      for (const Cell& c : kCells) std::printf("%s %llu %s\n", c.name, (unsigned long long)c.iterations, c.what);
      return 0;
    } else if (a == "--build-info") {
      std::printf("{\"compiler\":\"%s\",\"build_type\":\"%s\",\"cxx_flags\":\"%s\",\"sanitize\":\"%s\","
                  "\"glibc\":\"%s\"}\n",
                  json_escape(DVS_GATE_COMPILER).c_str(), json_escape(DVS_GATE_BUILD_TYPE).c_str(),
                  json_escape(DVS_GATE_CXX_FLAGS).c_str(), json_escape(DVS_GATE_SANITIZE).c_str(),
                  json_escape(gnu_get_libc_version()).c_str());
      return 0;
    } else if (a == "--cell") {
      const char* v = value();
      if (!v) return usage("--cell needs a name");
      cell_name = v;
    } else if (a == "--iterations") {
      const char* v = value();
      char* end = nullptr;
      if (!v || (iterations = std::strtoull(v, &end, 10)) == 0 || *end != '\0')
        return usage("--iterations needs a positive integer");
    } else if (a == "--inject") {
      const char* v = value();
      if (!v) return usage("--inject needs CELL=F");
      inject_arg = v;
    } else {
      return usage(("unknown argument '" + std::string(a) + "'").c_str());
    }
  }
  const Cell* cell = find_cell(cell_name);
  if (!cell) return usage(cell_name.empty() ? "no --cell given" : ("no cell '" + cell_name + "'").c_str());
  if (iterations == 0) iterations = cell->iterations;

  Inject inj;
  if (!inject_arg.empty()) {
    const size_t eq = inject_arg.find('=');
    if (eq == std::string::npos) return usage("--inject needs CELL=F");
    const std::string target = inject_arg.substr(0, eq);
    char* end = nullptr;
    const double f = std::strtod(inject_arg.c_str() + eq + 1, &end);
    if (!find_cell(target)) return usage(("--inject: no cell '" + target + "'").c_str());
    if (*end != '\0' || !(f > 0) || f > 100) return usage("--inject: F must be a number in (0, 100]");
    if (target == cell->name) inj.per_mille = static_cast<uint64_t>(f * 1000 + 0.5);
  }

  Ipc ipc;
  Wire wire;
  Hist hist;
  g_ipc = &ipc;
  g_wire = &wire;
  g_hist = &hist;
  dvs_gate_warmup(cell->body, 100, inj);
  dvs_gate_measured(cell->body, iterations, inj);
  return 0;
}
