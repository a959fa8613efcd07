// The per-DC process table in shared memory (a memfd created by dvsd, mapped by dvsd and by every
// process bound in that DC — never by a process of another DC).
//
// Contract:
// - Layout: one TableHeader, then nr_slots Slot records; slot index = p_nr + nr_tasks.
// - Locking (the original took per-process locks in ascending p_nr order; so do we): a process
//   changes ANOTHER slot only while holding that slot's lock (a robust, process-shared mutex),
//   and only after seeing it blocked. It changes its OWN blocking state (flags, getfrom, sendto,
//   wake, msg) only while it runs, i.e. before it blocks, writing getfrom/sendto/wake/msg first
//   and flags last (release), so a lock holder that reads flags (acquire) sees a consistent
//   state; nobody else writes those fields of a running slot. Two-slot operations take both
//   locks in ascending index order, or trylock out of order and back off. Fields are atomics so
//   lock-free peeks (deadlock walk, dvsd introspection) are well defined.
// - Nothing read from this memory is trusted: every index is bounds-checked by the reader, and a
//   value that fails a check makes that call fail with EDVSBADSRCDST, never crashes the reader.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/ipc/slot_stats.hpp"
#include "dvs/dvs.h"

namespace dvs::core {

constexpr uint32_t kTableMagic = 0x54535644;  // "DVST"
constexpr uint32_t kTableVersion = 6;
constexpr int kMaxSlots = DVS_MAX_SLOTS;
constexpr int kNoSlot = -1;
// The lock word of a robust mutex (glibc keeps the futex word first): the owner's tid, and the
// kernel's owner-died bit (linux/futex.h FUTEX_TID_MASK, FUTEX_OWNER_DIED).
constexpr int kLifeOwnerTidMask = 0x3fffffff;
constexpr int kLifeOwnerDied = 0x40000000;

// misc flags (p_misc_flags of the original, the ones dvs uses)
constexpr uint32_t kMiscWokenUp = 0x1;  // a wakeup arrived while not blocked: next receive(ANY) fails
constexpr uint32_t kMiscThread = 0x2;   // bound with tbind
constexpr uint32_t kMiscProxy = 0x4;    // a proxy slot (the queue of one node's proxy)
constexpr uint32_t kMiscProxyUp = 0x8;  // ... whose link is up
constexpr uint32_t kMiscAutoBound = 0x10;  // a REMOTE descriptor made by a peer's frame (not rmtbind): capped, released with its link

struct alignas(128) Slot {
  // ---- line 0: lock and waiting (touched on every blocking call). Lines 0 and 1 form one
  // 128-byte aligned pair so the adjacent-line prefetcher brings the message with the doorbell.
  pthread_mutex_t lock;             // robust, process-shared
  std::atomic<uint32_t> wake;       // futex word of the blocked caller: 0 waiting, 1 woken
  std::atomic<uint32_t> sleeping;   // kSleepFutex / kSleepDoor while the owner is (about to be) asleep (waiter.hpp)
  std::atomic<int32_t> result;      // return value handed to the woken caller
  std::atomic<uint32_t> flags;      // p_rts_flags: DVS_SLOT_FREE, DVS_SENDING, DVS_RECEIVING, DVS_ONCOPY
  std::atomic<int32_t> getfrom;     // endpoint awaited while RECEIVING (DVS_ANY or one endpoint)
  std::atomic<int32_t> sendto;      // slot index of the destination while SENDING
  // ---- line 1: the message buffer: outgoing while SENDING, incoming when delivered ----
  alignas(64) dvs_message_t msg;
  // ---- line 2: identity and sender queue (read-mostly) ----
  alignas(64) std::atomic<int32_t> endpoint;  // kept after unbind so the stale endpoint is known
  std::atomic<int32_t> lpid;                  // Linux pid (tgid) of the bound process
  std::atomic<int32_t> tid;                   // Linux tid for tbind, else == lpid
  std::atomic<uint32_t> misc;
  std::atomic<int32_t> q_head;                // first slot index queued to send to this slot
  std::atomic<int32_t> q_tail;
  std::atomic<int32_t> q_next;                // link while this slot sits in another's queue
  std::atomic<int32_t> wait_mode;             // dvs_wait_mode_t, informational
  std::atomic<int32_t> priv_level;            // dvs_priv_level_t
  char name[16];
  std::atomic<int32_t> node;                  // node of a REMOTE descriptor (p_nodeid)
  std::atomic<int32_t> rmt_cmd;               // remote command this slot waits in (core/ipc/remote.hpp)
  std::atomic<int32_t> rmt_dst;               // its destination endpoint
  std::atomic<uint64_t> door;                 // the owner's door (waiter.hpp) while it sleeps on kSleepDoor; set by the owner
  // ---- line 3: counters, written only by the slot's owner ----
  alignas(64) std::atomic<uint64_t> lclsent;  // messages this slot sent (delivered)
  std::atomic<uint64_t> lclcopy;              // bytes vcopied by this slot as requester
  std::atomic<uint32_t> op_seq;               // sequence of its current remote operation
  // ---- line 4: pending notifications: bit i = slot index i notified us ----
  alignas(64) std::atomic<uint64_t> notify_pending[kMaxSlots / 64];
  // ---- line 5: privileges, written by dvsd only ----
  alignas(64) std::atomic<uint64_t> ipc_to[kMaxSlots / 64];
};

struct alignas(128) TableHeader {
  uint32_t magic;
  uint32_t version;
  int32_t dcid;
  int32_t node_id;
  int32_t nr_procs;
  int32_t nr_tasks;
  int32_t nr_sysprocs;
  int32_t nr_slots;
  int64_t max_copylen;
  // Bitmap of the nodes the DC spans now: set at creation, changed by dvsd only (add_node /
  // del_node); read by every process deciding whether a remote endpoint is reachable.
  std::atomic<uint32_t> nodes;
  char name[16];
  uint64_t slot_size;  // sizeof(Slot) of the writer, checked by every mapper
  // Metrics recording (core/ipc/slot_stats.hpp): 0 off, else on + latency sample shift.
  // Written by dvsd only; read by libdvs on every IPC call (read-mostly line).
  std::atomic<uint32_t> metrics;
  // dvsd's life (robust, process-shared): locked by the dvsd thread that created the table for as
  // long as dvsd serves it, never by anyone else. When that dvsd dies (kill -9 included) the kernel
  // marks it owner-died; when it exits it is released: either way a plain load of its lock word
  // (DcTable::dvsd_alive) tells every process that the table is dead. Read on every IPC call.
  pthread_mutex_t dvsd_life;
  // Random per dvsd start, the same in all of its tables: tells a table of a restarted dvsd from
  // the one a process mapped before.
  uint64_t boot_id;
  // dvsd's doorbell for this DC: bumped (and futex-woken when dvsd sleeps) whenever a process
  // queues work for a proxy slot. Written by anyone, trusted by nobody.
  alignas(64) std::atomic<uint32_t> doorbell;
  std::atomic<uint32_t> dvsd_sleeping;
  // Serialises deadlock verdicts (robust, process-shared): a caller that found a wait-for cycle
  // re-checks it and, if it refuses its call, withdraws its own published wait under this lock,
  // so of callers closing the same cycle at once exactly one is refused. Taken only when a
  // lock-free walk already saw a cycle; only trylocks of slots are made while holding it.
  alignas(64) pthread_mutex_t cycle_lock;
  // The direct remote path (docs/REMOTE_PATHS.md), written by dvsd before any process maps the
  // table: bit n set = a call to an endpoint on node n goes on the caller's own link to that
  // node, dialed at direct_uri[n] (a transport URI, NUL-terminated), instead of through this
  // node's dispatcher. Trusted by nobody: a bad URI only fails that caller's dial.
  std::atomic<uint32_t> direct_nodes;
  char direct_uri[DVS_NR_NODES][128];
  // 1: this node's dvsd runs the direct path (set before it serves anyone): a process binding here
  // opens a link inbox, so that peers' processes' links to its endpoints reach it.
  std::atomic<uint32_t> direct_path;
  // Link security of this node's links (docs/SECURITY.md), written by dvsd before it serves:
  // kLinksOpen, kLinksAuthenticated or kLinksSealed. With either of the latter, a process dialing
  // a process link proves process_link_key (the key of this node and this DC, derived from the
  // cluster key) in the link handshake (core/dvsd/proxy/link_auth.hpp), and seals the link if sealed.
  std::atomic<uint32_t> link_security;
  uint8_t process_link_key[32];
  // REMOTE descriptors one peer node's frames may auto-bind in this DC (kMiscAutoBound); 0 = no
  // limit. Written by dvsd before it serves; read by whoever delivers a peer's frame.
  std::atomic<int32_t> max_autobound;
};
constexpr uint32_t kLinksOpen = 0;
constexpr uint32_t kLinksAuthenticated = 1;
constexpr uint32_t kLinksSealed = 2;

// Geometry of one DC as dvsd configured it (the trusted copy; never re-read from shared memory).
struct DcGeometry {
  int dcid = 0;
  int nr_procs = 221;
  int nr_tasks = 35;
  int nr_sysprocs = 64;
  int64_t max_copylen = 1 << 20;
  uint32_t nodes = 1;           // bitmap of the nodes the DC spans at creation (DcTable::spans: now)
  bool explicit_nodes = false;  // nodes given by the configuration (else: this node and its peers)
  int node_id = 0;
  char name[16] = "dc0";

  int nr_slots() const { return nr_tasks + nr_procs; }
  // After the endpoint slots, one proxy slot per node: the queue of work for that node's proxy.
  int total_slots() const { return nr_slots() + DVS_NR_NODES; }
  int proxy_index(int node) const { return nr_slots() + node; }
  bool is_proxy_index(int index) const { return index >= nr_slots() && index < total_slots(); }
  bool valid_pnr(int p_nr) const { return p_nr >= -nr_tasks && p_nr < nr_procs; }
  int index_of(int p_nr) const { return p_nr + nr_tasks; }
  int pnr_of(int index) const { return index - nr_tasks; }
  bool is_system_index(int index) const { return index < nr_sysprocs; }
  // Empty string if sane, else what is wrong.
  const char* check() const;
};

size_t table_bytes(const DcGeometry& g);
// Bytes before the first slot (the header, padded to a 128-byte line pair).
size_t table_header_bytes();
// Offset of the stats area (metrics::StatsArea, then one metrics::SlotStats per slot).
size_t table_stats_offset(const DcGeometry& g);

// A mapped table. Does not own the mapping unless created by create()/map_fd().
class DcTable {
 public:
  DcTable() = default;
  DcTable(const DcTable&) = delete;
  DcTable& operator=(const DcTable&) = delete;
  DcTable(DcTable&& o) noexcept;
  DcTable& operator=(DcTable&& o) noexcept;
  ~DcTable();

  // dvsd: create the memfd, size it, initialise header, slots (all FREE) and their mutexes, and
  // take dvsd_life with a random boot_id. Returns 0 or an EDVS code; on success fd() is the memfd
  // (owned). The calling thread holds dvsd_life until the table is destroyed, which must happen
  // on the same thread (if that thread ends first, the table reads as dead).
  int create(const DcGeometry& g);
  // libdvs: map a table received from dvsd (takes ownership of fd). Validates header against
  // the mapping size; EDVSBADVALUE if it does not describe a table this build understands. The
  // mapping is not inherited by fork() (MADV_DONTFORK).
  int map_fd(int fd);
  // In a forked child of a process that mapped this table: the mapping is not there (map_fd);
  // close the inherited descriptor and forget the mapping without unmapping anything.
  void forget_after_fork();

  const DcGeometry& geometry() const { return geo_; }
  // Whether the DC spans node now. dvsd (the creator) answers from its own trusted copy; a
  // process that mapped the table reads the header, which only dvsd writes.
  bool spans(int node) const {
    if (node < 0 || node >= 32) return false;
    return ((nodes() >> node) & 1u) != 0;
  }
  uint32_t nodes() const {
    return created_ ? nodes_.load(std::memory_order_acquire)
                    : static_cast<const TableHeader*>(base_)->nodes.load(std::memory_order_acquire);
  }
  // dvsd: the DC spans `bits` from now on (its trusted copy and the header).
  void set_nodes(uint32_t bits) {
    nodes_.store(bits, std::memory_order_release);
    header().nodes.store(bits, std::memory_order_release);
  }
  int fd() const { return fd_; }
  // False once the dvsd that created the table died or exited (TableHeader::dvsd_life): every call
  // on the table then fails with EDVSDVSINIT. A plain load: the lock word holds the owner's tid
  // (bits 0..29) while dvsd lives; the kernel clears it and sets the owner-died bit when dvsd dies,
  // dvsd clears it when it exits (the waiters bit, 31, does not matter).
  bool dvsd_alive() const {
    const unsigned word = static_cast<unsigned>(life_->load(std::memory_order_relaxed)) & 0x7fffffffu;
    return word - 1u < static_cast<unsigned>(kLifeOwnerTidMask);
  }
  uint64_t boot_id() const { return static_cast<const TableHeader*>(base_)->boot_id; }
  // The direct remote path to node (TableHeader::direct_nodes): whether calls to it take it, and
  // where to dial (copied out of shared memory, NUL-terminated within its field).
  bool direct_to(int node) const {
    if (node < 0 || node >= DVS_NR_NODES) return false;
    return (static_cast<const TableHeader*>(base_)->direct_nodes.load(std::memory_order_acquire) >> node) & 1u;
  }
  std::string direct_uri(int node) const;
  // dvsd, before it serves: calls to node take the direct path, dialing uri.
  void set_direct(int node, const std::string& uri);
  // dvsd, before it serves: TableHeader::link_security and the process-link key (32 bytes).
  void set_link_security(uint32_t mode, const uint8_t* process_link_key);
  // libdvs: the mode, and the key into out[32] unless the mode is kLinksOpen.
  uint32_t link_security(uint8_t* out) const;
  // dvsd, before it serves: TableHeader::max_autobound.
  void set_max_autobound(int n) { header().max_autobound.store(n, std::memory_order_release); }
  int max_autobound() const {
    return static_cast<const TableHeader*>(base_)->max_autobound.load(std::memory_order_acquire);
  }
  Slot& slot(int index) { return slots_[index]; }
  bool valid_index(int index) const { return index >= 0 && index < geo_.total_slots(); }
  TableHeader& header() { return *static_cast<TableHeader*>(base_); }
  // The stats area (after the slots, core/ipc/slot_stats.hpp) and a slot's record in it.
  metrics::StatsArea& stats_area() { return *stats_; }
  metrics::SlotStats& slot_stats(int index) { return reinterpret_cast<metrics::SlotStats*>(stats_ + 1)[index]; }
  bool mapped() const { return slots_ != nullptr; }

 private:
  void release();
  void forget();  // the fields, after the mapping and descriptor were dealt with
  DcGeometry geo_{};
  bool created_ = false;  // by create() (dvsd), not map_fd()
  std::atomic<uint32_t> nodes_{0};  // dvsd's trusted span (created_ only; proxies read it)
  int fd_ = -1;
  void* base_ = nullptr;
  size_t bytes_ = 0;
  Slot* slots_ = nullptr;
  metrics::StatsArea* stats_ = nullptr;
  const std::atomic<int>* life_ = nullptr;  // the lock word of the header's dvsd_life
};

// ---- slot locks (bounded: a lock that cannot be taken within the bound is reported, not waited
// for forever; a lock whose holder died is recovered) ----
// 0 on success, EDVSBUSY after the bound, EDVSBADSRCDST if the mutex is unusable (corrupt).
int lock_slot(Slot& s);
// 0 if taken, EDVSAGAIN if held by someone else, other EDVS code if unusable.
int trylock_slot(Slot& s);
void unlock_slot(Slot& s);

// Locks slots a and b (a != b) in ascending index order.
int lock_pair(DcTable& t, int a, int b);
// The table's cycle_lock (bounded like a slot lock; EDVSBUSY if not taken within the bound).
int lock_cycle(DcTable& t);
void unlock_cycle(DcTable& t);
void unlock_pair(DcTable& t, int a, int b);

// Lock bound in nanoseconds (default 2 s). Tests shorten it.
void set_lock_bound_ns(int64_t ns);

}  // namespace dvs::core

static_assert(sizeof(dvs::core::Slot) % 128 == 0, "slots are whole 128-byte line pairs");
