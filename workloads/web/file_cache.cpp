#include "workloads/web/file_cache.hpp"

#include <utility>

namespace dvs::workloads::web {

const FileCache::Entry* FileCache::find(const std::string& path, int64_t now_ns) {
  const auto at = index_.find(path);
  if (at == index_.end()) return nullptr;
  const Iter it = at->second;
  if (now_ns - it->fetched_ns >= ttl_ns_ || now_ns < it->fetched_ns) {
    erase(it);
    return nullptr;
  }
  if (it != lru_.begin()) lru_.splice(lru_.begin(), lru_, it);
  return &*it;
}

void FileCache::insert(const std::string& path, const char* data, size_t size, int64_t now_ns) {
  if (!enabled() || size > max_file_ || size > capacity_) return;
  put(Entry{path, false, std::string(data, size), now_ns});
}

void FileCache::mark_large(const std::string& path, int64_t now_ns) {
  if (!enabled()) return;
  put(Entry{path, true, {}, now_ns});
}

void FileCache::put(Entry e) {
  if (const auto at = index_.find(e.path); at != index_.end()) erase(at->second);
  while (!lru_.empty() && bytes_ + e.data.size() > capacity_) erase(std::prev(lru_.end()));
  bytes_ += e.data.size();
  lru_.push_front(std::move(e));
  index_[lru_.front().path] = lru_.begin();
}

void FileCache::erase(Iter it) {
  bytes_ -= it->data.size();
  index_.erase(it->path);
  lru_.erase(it);
}

}  // namespace dvs::workloads::web
