#include "transports/shm/shm_region.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

#include "dvs/errors.h"

namespace dvs::transport::shm {

Region::~Region() { reset(); }

Region::Region(Region&& o) noexcept
    : base_(std::exchange(o.base_, nullptr)), size_(o.size_), capacity_(o.capacity_) {}

Region& Region::operator=(Region&& o) noexcept {
  if (this != &o) {
    reset();
    base_ = std::exchange(o.base_, nullptr);
    size_ = o.size_;
    capacity_ = o.capacity_;
  }
  return *this;
}

void Region::reset() {
  if (base_) munmap(base_, size_);
  base_ = nullptr;
}

int Region::create(uint64_t capacity, Region* out, int* memfd) {
  if (!valid_capacity(capacity)) return EDVSINVAL;
  const uint64_t size = total_size_for(capacity);
  int fd = memfd_create("dvs-shm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return EDVSNOMEM;
  if (ftruncate(fd, static_cast<off_t>(size)) != 0 ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    ::close(fd);
    return EDVSNOMEM;
  }
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    ::close(fd);
    return EDVSNOMEM;
  }
  // The pages are zero: construct the header's objects in place (zero is their initial state).
  auto* h = new (base) ShmHeader{};
  h->magic = kMagic;
  h->version = kVersion;
  h->capacity = capacity;
  h->total_size = size;
  Region r;
  r.base_ = base;
  r.size_ = size;
  r.capacity_ = capacity;
  *out = std::move(r);
  *memfd = fd;
  return 0;
}

int Region::map(int memfd, Region* out) {
  struct stat st;
  if (fstat(memfd, &st) != 0 || !S_ISREG(st.st_mode)) return EDVSBADVALUE;
  int seals = fcntl(memfd, F_GET_SEALS);
  if (seals < 0 || (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW))
    return EDVSBADVALUE;
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size < total_size_for(kMinRing) || size > total_size_for(kMaxRing)) return EDVSBADVALUE;
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
  if (base == MAP_FAILED) return EDVSBADVALUE;
  // Read the identity once, then check it against the sealed size.
  struct Identity {
    uint64_t magic;
    uint32_t version, reserved;
    uint64_t capacity, total_size;
  } copy;
  static_assert(offsetof(ShmHeader, total_size) + sizeof(uint64_t) == sizeof(Identity));
  std::memcpy(&copy, base, sizeof copy);
  if (copy.magic != kMagic || copy.version != kVersion || !valid_capacity(copy.capacity) ||
      copy.total_size != size || total_size_for(copy.capacity) != size) {
    munmap(base, size);
    return EDVSBADVALUE;
  }
  Region r;
  r.base_ = base;
  r.size_ = size;
  r.capacity_ = copy.capacity;
  *out = std::move(r);
  return 0;
}

}  // namespace dvs::transport::shm
