#include "workloads/web/mapped_files.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace dvs::workloads::web {

int open_served_file(const std::string& root, const std::string& path, int* fd, struct stat* st) {
  if (path.empty() || path[0] != '/' || path.find("/../") != std::string::npos ||
      (path.size() >= 3 && path.compare(path.size() - 3, 3, "/..") == 0))
    return -EACCES;
  *fd = open((root + path).c_str(), O_RDONLY | O_CLOEXEC);
  if (*fd < 0) return -errno;
  if (fstat(*fd, st) != 0 || !S_ISREG(st->st_mode)) {
    const int e = S_ISDIR(st->st_mode) ? -EISDIR : -EACCES;
    close(*fd);
    *fd = -1;
    return e;
  }
  return 0;
}

MappedFiles::~MappedFiles() {
  for (auto& f : files_) unmap(f);
}

void MappedFiles::unmap(File& f) {
  if (f.base) munmap(f.base, f.size);
  f.base = nullptr;
}

ReadReply MappedFiles::view(const std::string& root, const std::string& path, uint64_t offset, uint32_t len,
                            const void** data) {
  *data = nullptr;
  ReadReply r{0, 0, 0};
  int fd = -1;
  struct stat st{};
  if (int e = open_served_file(root, path, &fd, &st); e < 0) {
    r.status = e;
    return r;
  }
  auto same = [&](const File& f) {
    return f.path == path && f.dev == st.st_dev && f.ino == st.st_ino && f.size == uint64_t(st.st_size) &&
           f.mtime.tv_sec == st.st_mtim.tv_sec && f.mtime.tv_nsec == st.st_mtim.tv_nsec;
  };
  auto it = std::find_if(files_.begin(), files_.end(), same);
  if (it == files_.end()) {
    // Gone stale (or new): drop any older mapping of the path, then map the file as it is now.
    for (auto old = files_.begin(); old != files_.end();) {
      if (old->path != path) {
        ++old;
        continue;
      }
      unmap(*old);
      old = files_.erase(old);
    }
    File f{path, st.st_dev, st.st_ino, uint64_t(st.st_size), st.st_mtim, nullptr};
    if (f.size > 0) {
      void* p = mmap(nullptr, f.size, PROT_READ, MAP_SHARED, fd, 0);
      if (p == MAP_FAILED) {
        r.status = -errno;
        close(fd);
        return r;
      }
      f.base = p;
    }
    files_.push_front(std::move(f));
    while (files_.size() > max_files_) {
      unmap(files_.back());
      files_.pop_back();
    }
    it = files_.begin();
  } else if (it != files_.begin()) {
    files_.splice(files_.begin(), files_, it);
    it = files_.begin();
  }
  close(fd);
  r.size = it->size;
  r.bytes = offset >= r.size ? 0 : std::min<uint64_t>(len, r.size - offset);
  if (r.bytes > 0) *data = static_cast<const char*>(it->base) + offset;
  return r;
}

}  // namespace dvs::workloads::web
