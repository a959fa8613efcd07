#include "core/ipc/shm_table.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <utility>

static_assert(offsetof(pthread_mutex_t, __data.__lock) == 0, "glibc keeps the mutex lock word first");

namespace dvs::core {

namespace {
std::atomic<int64_t> g_lock_bound_ns{2'000'000'000};

size_t header_bytes() { return (sizeof(TableHeader) + 127) & ~size_t{127}; }
}  // namespace

void set_lock_bound_ns(int64_t ns) { g_lock_bound_ns.store(ns, std::memory_order_relaxed); }

const char* DcGeometry::check() const {
  if (dcid < 0 || dcid >= DVS_NR_DCS) return "dcid out of range 0..31";
  if (nr_tasks < 0 || nr_tasks > DVS_NR_TASKS_MAX) return "nr_tasks out of range 0..35";
  if (nr_procs < 1) return "nr_procs must be at least 1";
  if (nr_slots() > kMaxSlots) return "nr_tasks + nr_procs exceeds 512 slots";
  if (nr_sysprocs < 0 || nr_sysprocs > nr_slots()) return "nr_sysprocs out of range 0..nr_tasks+nr_procs";
  if (max_copylen < 1) return "max_copylen must be positive";
  if (node_id < 0 || node_id >= DVS_NR_NODES) return "node id out of range 0..31";
  return "";
}

size_t table_header_bytes() { return header_bytes(); }

size_t table_stats_offset(const DcGeometry& g) {
  return (header_bytes() + sizeof(Slot) * static_cast<size_t>(g.total_slots()) + 4095) & ~size_t{4095};
}

size_t table_bytes(const DcGeometry& g) {
  size_t raw = table_stats_offset(g) + sizeof(metrics::StatsArea) +
               sizeof(metrics::SlotStats) * static_cast<size_t>(g.total_slots());
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return (raw + page - 1) / page * page;
}

DcTable::DcTable(DcTable&& o) noexcept { *this = std::move(o); }

DcTable& DcTable::operator=(DcTable&& o) noexcept {
  if (this != &o) {
    release();
    geo_ = o.geo_;
    created_ = o.created_;
    nodes_.store(o.nodes_.load());
    fd_ = std::exchange(o.fd_, -1);
    base_ = std::exchange(o.base_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
    slots_ = std::exchange(o.slots_, nullptr);
    stats_ = std::exchange(o.stats_, nullptr);
    life_ = std::exchange(o.life_, nullptr);
  }
  return *this;
}

DcTable::~DcTable() { release(); }

std::string DcTable::direct_uri(int node) const {
  if (node < 0 || node >= DVS_NR_NODES) return "";
  const char* f = static_cast<const TableHeader*>(base_)->direct_uri[node];
  return std::string(f, strnlen(f, sizeof(TableHeader::direct_uri[0])));
}

void DcTable::set_direct(int node, const std::string& uri) {
  if (node < 0 || node >= DVS_NR_NODES) return;
  char* f = header().direct_uri[node];
  snprintf(f, sizeof(TableHeader::direct_uri[0]), "%s", uri.c_str());
  header().direct_nodes.fetch_or(1u << node, std::memory_order_release);
}

void DcTable::set_link_security(uint32_t mode, const uint8_t* process_link_key) {
  std::memcpy(header().process_link_key, process_link_key, sizeof header().process_link_key);
  header().link_security.store(mode, std::memory_order_release);
}

uint32_t DcTable::link_security(uint8_t* out) const {
  const auto& h = *static_cast<const TableHeader*>(base_);
  const uint32_t mode = h.link_security.load(std::memory_order_acquire);
  if (mode != kLinksOpen) std::memcpy(out, h.process_link_key, sizeof h.process_link_key);
  return mode;
}

void DcTable::forget_after_fork() {
  if (fd_ >= 0) close(fd_);
  forget();
}

void DcTable::release() {
  if (base_ && created_) pthread_mutex_unlock(&header().dvsd_life);  // before it leaves the robust list
  if (base_) munmap(base_, bytes_);
  if (fd_ >= 0) close(fd_);
  forget();
}

void DcTable::forget() {
  life_ = nullptr;
  base_ = nullptr;
  slots_ = nullptr;
  stats_ = nullptr;
  fd_ = -1;
  bytes_ = 0;
}

namespace {
// One per process (dvsd creates all of its tables with it); never 0.
uint64_t random_boot_id() {
  static const uint64_t id = [] {
    uint64_t v = 0;
    while (v == 0)
      if (getrandom(&v, sizeof v, 0) != static_cast<ssize_t>(sizeof v)) v = static_cast<uint64_t>(getpid()) << 32 | static_cast<uint64_t>(time(nullptr));
    return v;
  }();
  return id;
}
}  // namespace

int DcTable::create(const DcGeometry& g) {
  if (*g.check()) return EDVSINVAL;
  release();
  char fdname[32];
  snprintf(fdname, sizeof fdname, "dvs-dc%d", g.dcid);
  int fd = memfd_create(fdname, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return EDVSNOMEM;
  size_t bytes = table_bytes(g);
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    close(fd);
    return EDVSNOMEM;
  }
  // The size never changes: a mapper can trust st_size.
  fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
  void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    close(fd);
    return EDVSNOMEM;
  }
  auto* h = new (base) TableHeader{};
  h->magic = kTableMagic;
  h->version = kTableVersion;
  h->dcid = g.dcid;
  h->node_id = g.node_id;
  h->nr_procs = g.nr_procs;
  h->nr_tasks = g.nr_tasks;
  h->nr_sysprocs = g.nr_sysprocs;
  h->nr_slots = g.nr_slots();
  h->max_copylen = g.max_copylen;
  h->nodes.store(g.nodes, std::memory_order_relaxed);
  memcpy(h->name, g.name, sizeof h->name);
  h->slot_size = sizeof(Slot);
  auto* slots = reinterpret_cast<Slot*>(static_cast<char*>(base) + header_bytes());
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&h->cycle_lock, &attr);
  pthread_mutex_init(&h->dvsd_life, &attr);
  pthread_mutex_lock(&h->dvsd_life);
  h->boot_id = random_boot_id();
  for (int i = 0; i < g.total_slots(); ++i) {
    Slot* s = new (&slots[i]) Slot{};
    pthread_mutex_init(&s->lock, &attr);
    s->flags.store(DVS_SLOT_FREE, std::memory_order_relaxed);
    s->getfrom.store(DVS_NONE, std::memory_order_relaxed);
    s->sendto.store(kNoSlot, std::memory_order_relaxed);
    s->endpoint.store(DVS_NONE, std::memory_order_relaxed);
    s->q_head.store(kNoSlot, std::memory_order_relaxed);
    s->q_tail.store(kNoSlot, std::memory_order_relaxed);
    s->q_next.store(kNoSlot, std::memory_order_relaxed);
    s->lpid.store(0, std::memory_order_relaxed);
    s->wake.store(1, std::memory_order_relaxed);
    s->node.store(g.node_id, std::memory_order_relaxed);
    if (i >= g.nr_slots()) {  // proxy slot of node i - nr_slots: never bound, never receptive
      s->flags.store(0, std::memory_order_relaxed);
      s->misc.store(kMiscProxy, std::memory_order_relaxed);
      s->node.store(i - g.nr_slots(), std::memory_order_relaxed);
    }
  }
  pthread_mutexattr_destroy(&attr);
  geo_ = g;
  created_ = true;
  nodes_.store(g.nodes);
  fd_ = fd;
  base_ = base;
  bytes_ = bytes;
  slots_ = slots;
  stats_ = reinterpret_cast<metrics::StatsArea*>(static_cast<char*>(base) + table_stats_offset(g));
  life_ = reinterpret_cast<const std::atomic<int>*>(&static_cast<TableHeader*>(base)->dvsd_life);
  return 0;
}

int DcTable::map_fd(int fd) {
  release();
  struct stat st {};
  if (fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(header_bytes())) {
    close(fd);
    return EDVSBADVALUE;
  }
  size_t bytes = static_cast<size_t>(st.st_size);
  void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    close(fd);
    return EDVSNOMEM;
  }
  const auto* h = static_cast<const TableHeader*>(base);
  DcGeometry g;
  g.dcid = h->dcid;
  g.node_id = h->node_id;
  g.nr_procs = h->nr_procs;
  g.nr_tasks = h->nr_tasks;
  g.nr_sysprocs = h->nr_sysprocs;
  g.max_copylen = h->max_copylen;
  g.nodes = h->nodes.load(std::memory_order_acquire);
  memcpy(g.name, h->name, sizeof g.name);
  g.name[sizeof g.name - 1] = '\0';
  bool ok = h->magic == kTableMagic && h->version == kTableVersion && h->slot_size == sizeof(Slot) &&
            *g.check() == '\0' && h->nr_slots == g.nr_slots() && table_bytes(g) <= bytes;
  if (!ok) {
    munmap(base, bytes);
    close(fd);
    return EDVSBADVALUE;
  }
  // A forked child does not inherit the mapping: it may use a DC's table only once bound there.
  madvise(base, bytes, MADV_DONTFORK);
  geo_ = g;
  created_ = false;
  fd_ = fd;
  base_ = base;
  bytes_ = bytes;
  slots_ = reinterpret_cast<Slot*>(static_cast<char*>(base) + header_bytes());
  stats_ = reinterpret_cast<metrics::StatsArea*>(static_cast<char*>(base) + table_stats_offset(g));
  life_ = reinterpret_cast<const std::atomic<int>*>(&static_cast<TableHeader*>(base)->dvsd_life);
  return 0;
}

namespace {
int map_lock_result(pthread_mutex_t& lock, int rc) {
  if (rc == 0) return 0;
  if (rc == EOWNERDEAD) {
    // The holder died inside a critical section. Critical sections only move whole fields; dvsd
    // repairs the dead process's own slot when it learns of the death.
    pthread_mutex_consistent(&lock);
    return 0;
  }
  if (rc == EBUSY) return EDVSAGAIN;
  if (rc == ETIMEDOUT) return EDVSBUSY;
  return EDVSBADSRCDST;  // ENOTRECOVERABLE, EINVAL: the mutex bytes are garbage
}

int trylock_mutex(pthread_mutex_t& lock) { return map_lock_result(lock, pthread_mutex_trylock(&lock)); }

int lock_mutex(pthread_mutex_t& lock) {
  int rc = trylock_mutex(lock);
  if (rc != EDVSAGAIN) return rc;
  // Contended: spin reading the lock word (glibc keeps the owner's tid in the mutex's first
  // int; 0 = free) and try again only when it looks free, so waiters do not steal the cache line
  // from the holder; then a bounded blocking wait.
  const auto* word = reinterpret_cast<const std::atomic<int>*>(&lock);
  for (int i = 0; i < 2000; ++i) {
    if (word->load(std::memory_order_relaxed) == 0) {
      rc = trylock_mutex(lock);
      if (rc != EDVSAGAIN) return rc;
    }
    __builtin_ia32_pause();
  }
  timespec deadline{};
  clock_gettime(CLOCK_REALTIME, &deadline);
  int64_t ns = deadline.tv_nsec + g_lock_bound_ns.load(std::memory_order_relaxed);
  deadline.tv_sec += static_cast<time_t>(ns / 1'000'000'000);
  deadline.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  return map_lock_result(lock, pthread_mutex_timedlock(&lock, &deadline));
}
}  // namespace

int trylock_slot(Slot& s) { return trylock_mutex(s.lock); }
int lock_slot(Slot& s) { return lock_mutex(s.lock); }
int lock_cycle(DcTable& t) { return lock_mutex(t.header().cycle_lock); }
void unlock_cycle(DcTable& t) { pthread_mutex_unlock(&t.header().cycle_lock); }

void unlock_slot(Slot& s) { pthread_mutex_unlock(&s.lock); }

int lock_pair(DcTable& t, int a, int b) {
  int lo = a < b ? a : b;
  int hi = a < b ? b : a;
  int rc = lock_slot(t.slot(lo));
  if (rc != 0) return rc;
  rc = lock_slot(t.slot(hi));
  if (rc != 0) {
    unlock_slot(t.slot(lo));
    return rc;
  }
  return 0;
}

void unlock_pair(DcTable& t, int a, int b) {
  unlock_slot(t.slot(a));
  unlock_slot(t.slot(b));
}

}  // namespace dvs::core
