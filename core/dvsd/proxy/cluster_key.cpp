#include "core/dvsd/proxy/cluster_key.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dvs::linkauth {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string key_hex(const Key& k) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : k) {
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}

std::string load_cluster_key(const std::string& path, Key* out) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return "cannot open cluster key " + path + ": " + std::strerror(errno);
  struct stat st{};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return "cluster key " + path + " is not a regular file";
  }
  if (st.st_mode & 077) {
    close(fd);
    return "cluster key " + path + " may be read or written by others (mode " +
           std::to_string((st.st_mode >> 6) & 7) + std::to_string((st.st_mode >> 3) & 7) +
           std::to_string(st.st_mode & 7) + "): chmod 600 it";
  }
  char buf[2 * kKeyBytes + 8];
  const ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  size_t len = n > 0 ? static_cast<size_t>(n) : 0;
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) --len;
  if (len != 2 * kKeyBytes) return "cluster key " + path + " is not 64 hexadecimal digits";
  Key k{};
  for (size_t i = 0; i < kKeyBytes; ++i) {
    const int hi = hex_digit(buf[2 * i]), lo = hex_digit(buf[2 * i + 1]);
    if (hi < 0 || lo < 0) return "cluster key " + path + " is not 64 hexadecimal digits";
    k[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  *out = k;
  sodium_memzero(buf, sizeof buf);
  return "";
}

std::string generate_cluster_key(const std::string& path) {
  if (sodium_init() < 0) return "libsodium cannot initialise";
  Key k{};
  randombytes_buf(k.data(), k.size());
  const std::string text = key_hex(k) + "\n";
  sodium_memzero(k.data(), k.size());
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return "cannot create cluster key " + path + ": " + std::strerror(errno);
  const bool ok = fchmod(fd, 0600) == 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  fsync(fd) == 0;
  const int saved = errno;
  close(fd);
  if (!ok) {
    unlink(path.c_str());
    return "cannot write cluster key " + path + ": " + std::strerror(saved);
  }
  return "";
}

}  // namespace dvs::linkauth
