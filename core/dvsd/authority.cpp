#include "core/dvsd/authority.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace dvs::dvsd {
namespace {

// The value of field "Name:" (up to its newline), or nullopt if it is not there.
std::optional<std::string_view> field(std::string_view text, std::string_view name) {
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(at, nl - at);
    if (line.size() > name.size() && line.substr(0, name.size()) == name && line[name.size()] == ':')
      return line.substr(name.size() + 1);
    at = nl + 1;
  }
  return std::nullopt;
}

// Whitespace-separated unsigned decimal numbers; nullopt if anything else is there or one does
// not fit in T.
template <class T>
std::optional<std::vector<T>> numbers(std::string_view s) {
  std::vector<T> out;
  size_t at = 0;
  for (;;) {
    while (at < s.size() && (s[at] == ' ' || s[at] == '\t')) ++at;
    if (at == s.size()) return out;
    T v{};
    auto [end, ec] = std::from_chars(s.data() + at, s.data() + s.size(), v);
    if (ec != std::errc() || end == s.data() + at) return std::nullopt;
    out.push_back(v);
    at = static_cast<size_t>(end - s.data());
    if (at < s.size() && s[at] != ' ' && s[at] != '\t') return std::nullopt;
  }
}

bool same_file(const char* a, const char* b) {
  struct stat sa {}, sb {};
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

// The first line of a /proc/sys file as a number, or fallback.
unsigned read_sysctl(const char* path, unsigned fallback) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fallback;
  char buf[32] = {};
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  unsigned v = 0;
  if (n <= 0 || std::from_chars(buf, buf + n, v).ec != std::errc()) return fallback;
  return v;
}

}  // namespace

std::optional<ProcStatus> parse_proc_status(std::string_view text) {
  ProcStatus st;
  auto uid = field(text, "Uid");
  auto gid = field(text, "Gid");
  auto groups = field(text, "Groups");
  auto cap = field(text, "CapEff");
  if (!uid || !gid || !groups || !cap) return std::nullopt;
  auto uids = numbers<uid_t>(*uid);
  auto gids = numbers<gid_t>(*gid);
  auto sup = numbers<gid_t>(*groups);
  if (!uids || uids->size() != 4 || !gids || gids->size() != 4 || !sup) return std::nullopt;
  std::copy(uids->begin(), uids->end(), st.uid);
  std::copy(gids->begin(), gids->end(), st.gid);
  st.groups = std::move(*sup);
  std::string_view c = *cap;
  while (!c.empty() && (c.front() == ' ' || c.front() == '\t')) c.remove_prefix(1);
  auto [end, ec] = std::from_chars(c.data(), c.data() + c.size(), st.cap_eff, 16);
  if (ec != std::errc() || end == c.data() || end != c.data() + c.size()) return std::nullopt;
  return st;
}

AuthorityPolicy policy_for_this_process(std::optional<gid_t> admin_gid) {
  AuthorityPolicy p;
  p.dvsd_uid = geteuid();
  p.admin_gid = admin_gid;
  p.overflow_uid = read_sysctl("/proc/sys/kernel/overflowuid", 65534);
  p.overflow_gid = read_sysctl("/proc/sys/kernel/overflowgid", 65534);
  return p;
}

bool is_privileged(const ucred& cred, const std::optional<ProcStatus>& status, bool in_dvsd_user_ns,
                   const AuthorityPolicy& policy) {
  if (cred.pid <= 0) return false;  // no record of the sender
  const bool uid_known = cred.uid != policy.overflow_uid;
  const bool gid_known = cred.gid != policy.overflow_gid;
  if (uid_known && (cred.uid == 0 || cred.uid == policy.dvsd_uid)) return true;
  if (gid_known && policy.admin_gid && cred.gid == *policy.admin_gid) return true;
  if (!status || !uid_known || !gid_known) return false;
  // The process must still be who the kernel recorded as the sender.
  if (status->uid[0] != cred.uid || status->uid[1] != cred.uid || status->gid[0] != cred.gid ||
      status->gid[1] != cred.gid)
    return false;
  if (in_dvsd_user_ns && (status->cap_eff >> CAP_SYS_ADMIN) & 1u) return true;
  return policy.admin_gid && *policy.admin_gid != policy.overflow_gid &&
         std::find(status->groups.begin(), status->groups.end(), *policy.admin_gid) != status->groups.end();
}

bool requester_is_privileged(const ucred& cred, const AuthorityPolicy& policy) {
  if (is_privileged(cred, std::nullopt, false, policy)) return true;
  if (cred.pid <= 0) return false;
  const std::string dir = "/proc/" + std::to_string(cred.pid);
  int fd = open((dir + "/status").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || text.size() > (1u << 16)) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  const bool same_ns = same_file((dir + "/ns/user").c_str(), "/proc/self/ns/user");
  return is_privileged(cred, parse_proc_status(text), same_ns, policy);
}

std::string resolve_group(const std::string& spec, gid_t* out) {
  if (spec.empty()) return "empty group";
  gid_t gid = 0;
  auto [end, ec] = std::from_chars(spec.data(), spec.data() + spec.size(), gid);
  if (ec == std::errc() && end == spec.data() + spec.size()) {
    *out = gid;
    return "";
  }
  std::vector<char> buf(16384);
  group g{};
  group* found = nullptr;
  int rc = getgrnam_r(spec.c_str(), &g, buf.data(), buf.size(), &found);
  if (rc != 0) return "cannot look up group '" + spec + "': " + std::strerror(rc);
  if (!found) return "no group named '" + spec + "'";
  *out = found->gr_gid;
  return "";
}

}  // namespace dvs::dvsd
