// The receive buffer of one tcp link: bytes read from the socket but not yet handed out.
// Reads land in free_space(); complete frames are viewed in place (no copy to the caller).
// It starts at kInitial bytes and grows on demand up to the limit given at construction
// (header + max_frame); it does not shrink. Single-threaded: only the receiving thread uses it.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>

namespace dvs::transport::tcp {

class RxBuffer {
 public:
  static constexpr size_t kInitial = 64 * 1024;

  explicit RxBuffer(size_t limit) : limit_(limit) {}

  // Pending bytes [data(), data() + size()).
  const std::byte* data() const { return buf_.get() + begin_; }
  size_t size() const { return end_ - begin_; }
  // Drops the first n pending bytes (a frame handed out earlier).
  void consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  // Makes sure `need` pending bytes fit after data() (need <= limit, checked by the caller's
  // header validation): compacts to the front, or grows the buffer. Invalidates data().
  void make_room(size_t need) {
    if (begin_ + need <= cap_ && end_ < cap_) return;
    if (need <= cap_) {
      std::memmove(buf_.get(), buf_.get() + begin_, size());
    } else {
      size_t cap = cap_ == 0 ? kInitial : cap_;
      while (cap < need) cap *= 2;
      if (cap > limit_) cap = limit_ < need ? need : limit_;
      auto nb = std::make_unique_for_overwrite<std::byte[]>(cap);
      if (size() > 0) std::memcpy(nb.get(), buf_.get() + begin_, size());
      buf_ = std::move(nb);
      cap_ = cap;
    }
    end_ -= begin_;
    begin_ = 0;
  }
  // Where the next read may write; commit(n) after n bytes arrived.
  std::span<std::byte> free_space() { return {buf_.get() + end_, cap_ - end_}; }
  void commit(size_t n) { end_ += n; }
  size_t capacity() const { return cap_; }

 private:
  std::unique_ptr<std::byte[]> buf_;
  size_t cap_ = 0;
  size_t begin_ = 0, end_ = 0;
  size_t limit_;
};

}  // namespace dvs::transport::tcp
