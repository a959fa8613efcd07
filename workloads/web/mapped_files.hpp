// Read-only mappings of the files a leaf server serves (the disk server, or a file server with no
// disk server behind it), kept across requests: a vcopy then takes a chunk's bytes straight from
// the page cache, one copy less than pread() into a buffer and a vcopy from there.
//
// A mapping is reused while the file's identity (device, inode), size and modification time are
// what they were when it was made; otherwise it is replaced. At most max_files mappings are kept
// (the least recently used goes). Not thread-safe: one per server process.
//
// A file truncated under a mapping does not crash the server: the mapping is only read by the
// kernel (process_vm_readv/writev of a vcopy), which fails the copy with EFAULT instead.
#ifndef DVS_WORKLOADS_WEB_MAPPED_FILES_HPP
#define DVS_WORKLOADS_WEB_MAPPED_FILES_HPP

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <list>
#include <string>

#include "workloads/web/web.hpp"

namespace dvs::workloads::web {

// Opens root/path for reading, as every server of the web workload does (a FIFO blocks here until
// a writer comes): 0 with *fd open (the caller closes it) and *st its fstat, or -errno and no fd:
// -EACCES for a path outside the served root (empty, relative, or with a ".." component) or a
// file that is not regular, -EISDIR for a directory.
int open_served_file(const std::string& root, const std::string& path, int* fd, struct stat* st);

class MappedFiles {
 public:
  explicit MappedFiles(size_t max_files = 16) : max_files_(max_files) {}
  ~MappedFiles();
  MappedFiles(const MappedFiles&) = delete;
  MappedFiles& operator=(const MappedFiles&) = delete;

  // At most len bytes of root/path from offset, as read_local reports them (status 0 or -errno,
  // size = the file's size, bytes = how many), without copying: *data points at them (nullptr if
  // bytes is 0), valid until the next call.
  ReadReply view(const std::string& root, const std::string& path, uint64_t offset, uint32_t len, const void** data);

  size_t mapped() const { return files_.size(); }

 private:
  struct File {
    std::string path;
    dev_t dev = 0;
    ino_t ino = 0;
    uint64_t size = 0;
    timespec mtime{};
    void* base = nullptr;  // nullptr for an empty file
  };
  static void unmap(File& f);
  size_t max_files_;
  std::list<File> files_;  // most recently used first
};

}  // namespace dvs::workloads::web

#endif
