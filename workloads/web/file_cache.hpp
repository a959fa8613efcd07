// The file server's cache of small files. MoL-FS, the original's file server, is a MINIX file
// server: its buffer cache answers a repeated read without asking the disk driver (MoL-VDD)
// again (MoL-FS in PabloPessolani/PID5162). A file server with disk servers behind it keeps here whole files
// of at most max_file bytes that a disk server sent it, so that a hit costs no rendezvous with a
// disk server.
//
// Coherence: the disk servers read the served directory, which others may change. An entry is
// used for at most ttl after it was fetched, so a changed file is served at most ttl late; then
// the next request fetches it again. Files found larger than max_file are remembered (no data)
// for ttl too, so that reads of them go straight to a disk server instead of trying a fill first.
// Errors (no such file, ...) are never cached.
//
// Capacity counts the bytes of cached data; the least recently used entries go first. capacity 0
// turns the cache off (every read reaches a disk server). Not thread-safe: one per server process.
#ifndef DVS_WORKLOADS_WEB_FILE_CACHE_HPP
#define DVS_WORKLOADS_WEB_FILE_CACHE_HPP

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>

namespace dvs::workloads::web {

class FileCache {
 public:
  struct Entry {
    std::string path;
    bool large = false;   // the file was larger than max_file: no data
    std::string data;     // the whole file (large: empty)
    int64_t fetched_ns = 0;
  };

  FileCache(size_t capacity, size_t max_file, int64_t ttl_ns)
      : capacity_(capacity), max_file_(max_file), ttl_ns_(ttl_ns) {}
  FileCache(const FileCache&) = delete;
  FileCache& operator=(const FileCache&) = delete;

  bool enabled() const { return capacity_ > 0 && max_file_ > 0; }
  size_t max_file() const { return max_file_; }

  // The entry of path if it was fetched less than ttl before now_ns (it becomes the most recently
  // used), else nullptr (an expired entry is dropped). Valid until the next non-const call.
  const Entry* find(const std::string& path, int64_t now_ns);
  // Cache the whole file path (size bytes at data), fetched at now_ns. Ignored when the cache is
  // off or size > max_file; an older entry of path is replaced; older entries go to make room.
  void insert(const std::string& path, const char* data, size_t size, int64_t now_ns);
  // Remember until ttl that path is larger than max_file.
  void mark_large(const std::string& path, int64_t now_ns);

  size_t bytes() const { return bytes_; }      // cached data
  size_t entries() const { return lru_.size(); }

 private:
  using Iter = std::list<Entry>::iterator;
  void put(Entry e);
  void erase(Iter it);

  size_t capacity_, max_file_;
  int64_t ttl_ns_;
  size_t bytes_ = 0;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, Iter> index_;
};

}  // namespace dvs::workloads::web

#endif
