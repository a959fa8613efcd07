// Fetching and caching what a lab VM boots: see image.hpp.
#include "harness/lab/image.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "harness/cluster/exec.hpp"
#include "harness/lab/guest_scripts.hpp"

namespace fs = std::filesystem;

namespace dvs::lab {

namespace {

using cluster::ExecResult;
using cluster::run_command;

constexpr int kAptTimeoutMs = 600'000;
constexpr int kToolTimeoutMs = 300'000;

std::string normalize(std::string name) {
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

// "kernel/net/tipc/tipc.ko" -> "tipc"
std::string module_name(const std::string& path) {
  std::string base = fs::path(path).filename().string();
  for (const char* ext : {".ko", ".ko.xz", ".ko.zst", ".ko.gz"})
    if (base.size() > std::strlen(ext) && base.ends_with(ext)) return normalize(base.substr(0, base.size() - std::strlen(ext)));
  return normalize(base);
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool write_text(const fs::path& p, const std::string& text, fs::perms perms = fs::perms::owner_read | fs::perms::owner_write) {
  fs::path tmp = p;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return false;
  }
  std::error_code ec;
  fs::permissions(tmp, perms, ec);
  fs::rename(tmp, p, ec);
  return !ec;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

bool on_path(const std::string& tool) {
  const char* path = getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  std::string d;
  while (std::getline(dirs, d, ':'))
    if (!d.empty() && access((d + "/" + tool).c_str(), X_OK) == 0) return true;
  return false;
}

struct Fetcher {
  fs::path cache;
  bool updated = false;  // apt-get update already tried in this run
  std::string err;
  bool unavailable = false;

  bool fail(std::string msg, bool unavail) {
    err = std::move(msg);
    unavailable = unavail;
    return false;
  }

  // apt-get download PKG into CACHE/debs; *deb is the file. Runs apt-get update once if the
  // package cannot be found (a machine that never ran it has no package lists).
  bool download(const std::string& pkg, fs::path* deb) {
    const fs::path dir = cache / "debs";
    fs::create_directories(dir);
    std::fprintf(stderr, "dvs lab: fetching %s (apt-get download)\n", pkg.c_str());
    const std::string cmd = "cd " + sh_quote(dir.string()) + " && exec apt-get download -q -o APT::Sandbox::User=root " + sh_quote(pkg);
    ExecResult r = run_command({"sh", "-c", cmd}, kAptTimeoutMs);
    if (!r.ok() && !updated) {
      updated = true;
      std::fprintf(stderr, "dvs lab: apt-get download %s failed (%s); running apt-get update\n", pkg.c_str(), r.reason().c_str());
      ExecResult u = run_command({"apt-get", "update", "-qq"}, kAptTimeoutMs);
      if (!u.ok()) return fail("apt-get update failed: " + u.reason(), true);
      r = run_command({"sh", "-c", cmd}, kAptTimeoutMs);
    }
    if (!r.ok()) return fail("apt-get download " + pkg + " failed: " + r.reason(), true);
    // The newest PKG_*.deb in the folder is the one just fetched.
    fs::file_time_type best{};
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string n = e.path().filename().string();
      if (n.starts_with(pkg + "_") && n.ends_with(".deb") && (deb->empty() || e.last_write_time() > best)) {
        *deb = e.path();
        best = e.last_write_time();
      }
    }
    if (deb->empty()) return fail("apt-get download " + pkg + " left no " + pkg + "_*.deb in " + dir.string(), false);
    return true;
  }

  bool run_tool(const std::vector<std::string>& argv) {
    ExecResult r = run_command(argv, kToolTimeoutMs);
    if (!r.ok()) return fail(argv[0] + " " + (argv.size() > 1 ? argv[1] : "") + " failed: " + r.reason(), false);
    return true;
  }

  // Unpacks deb into dir (replacing it).
  bool unpack(const fs::path& deb, const fs::path& dir) {
    fs::path tmp = dir;
    tmp += ".unpacking";
    fs::remove_all(tmp);
    if (!run_tool({"dpkg-deb", "-x", deb.string(), tmp.string()})) return false;
    fs::remove_all(dir);
    fs::rename(tmp, dir);
    return true;
  }

  // The kernel: CACHE/kernel/VERSION, fetched through the linux-image-amd64 meta package.
  bool kernel(bool refresh, std::string* version) {
    const fs::path kdir = cache / "kernel";
    fs::create_directories(kdir);
    std::string v = trim(read_text(kdir / "current"));
    if (!refresh && !v.empty() && fs::exists(kdir / v / "boot" / ("vmlinuz-" + v)) &&
        fs::exists(kdir / v / "lib/modules" / v / "modules.dep")) {
      *version = v;
      return true;
    }
    fs::path meta;
    if (!download("linux-image-amd64", &meta)) return false;
    ExecResult dep = run_command({"dpkg-deb", "-f", meta.string(), "Depends"}, kToolTimeoutMs);
    if (!dep.ok()) return fail("dpkg-deb -f " + meta.string() + " Depends failed: " + dep.reason(), false);
    // "linux-image-6.1.0-56-amd64 (= 6.1.192-2)": the real image package comes first.
    std::string pkg = trim(dep.output);
    pkg = pkg.substr(0, pkg.find_first_of(" ,|("));
    if (!pkg.starts_with("linux-image-")) return fail("unexpected Depends of linux-image-amd64: " + trim(dep.output), false);
    v = pkg.substr(std::strlen("linux-image-"));
    fs::path deb;
    if (!download(pkg, &deb)) return false;
    std::fprintf(stderr, "dvs lab: unpacking %s and running depmod\n", deb.filename().c_str());
    if (!unpack(deb, kdir / v)) return false;
    if (!run_tool({"depmod", "-b", (kdir / v).string(), v})) return false;
    if (!write_text(kdir / "current", v + "\n")) return fail("cannot write " + (kdir / "current").string(), false);
    *version = v;
    return true;
  }

  bool busybox(bool refresh, fs::path* out) {
    *out = cache / "busybox" / "busybox";
    if (!refresh && fs::exists(*out)) return true;
    fs::path deb;
    if (!download("busybox-static", &deb)) return false;
    const fs::path dir = cache / "busybox" / "pkg";
    fs::create_directories(dir.parent_path());
    if (!unpack(deb, dir)) return false;
    std::error_code ec;
    fs::copy_file(dir / "bin" / "busybox", *out, fs::copy_options::overwrite_existing, ec);
    if (ec) return fail("busybox-static has no bin/busybox: " + ec.message(), false);
    return true;
  }
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l))
    if (!l.empty()) out.push_back(l);
  return out;
}

}  // namespace

const std::vector<std::string>& wanted_modules() {
  // virtio + 9p + overlay: the host's file system; veth: namespaces; tipc; crc32_generic before
  // rdma_rxe (without it `rdma link add` fails); ib_uverbs for user-space verbs.
  static const std::vector<std::string> kWanted = {"virtio_pci", "9pnet_virtio", "9p",       "overlay",
                                                   "veth",       "tipc",         "crc32_generic",
                                                   "ib_uverbs",  "rdma_rxe"};
  return kWanted;
}

bool module_load_order(const std::string& modules_dep, const std::vector<std::string>& builtin,
                       const std::vector<std::string>& wanted, std::vector<std::string>* order,
                       std::string* missing) {
  // modules.dep: "kernel/x/a.ko: kernel/y/b.ko kernel/z/c.ko" — all dependencies, the ones to
  // load first last.
  std::map<std::string, std::pair<std::string, std::vector<std::string>>> deps;  // name -> (path, deps)
  for (const std::string& line : lines_of(modules_dep)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::vector<std::string> d;
    std::istringstream rest(line.substr(colon + 1));
    std::string p;
    while (rest >> p) d.push_back(p);
    deps[module_name(line.substr(0, colon))] = {line.substr(0, colon), d};
  }
  std::set<std::string> built;
  for (const auto& b : builtin) built.insert(module_name(b));
  std::set<std::string> seen;
  order->clear();
  for (const std::string& w : wanted) {
    const std::string name = normalize(w);
    if (built.count(name)) continue;
    auto it = deps.find(name);
    if (it == deps.end()) {
      *missing = w;
      return false;
    }
    const auto& [path, d] = it->second;
    for (auto r = d.rbegin(); r != d.rend(); ++r)
      if (seen.insert(module_name(*r)).second) order->push_back(*r);
    if (seen.insert(name).second) order->push_back(path);
  }
  return true;
}

bool prepare_image(const std::string& cache_str, bool refresh, bool verbose, Image* out, std::string* err,
                   bool* unavailable) {
  *unavailable = false;
  utsname u{};
  if (uname(&u) == 0 && std::string(u.machine) != "x86_64") {
    *err = std::string("the lab boots an amd64 kernel under qemu-system-x86_64; this machine is ") + u.machine;
    *unavailable = true;
    return false;
  }
  for (const auto& [tool, pkg] : std::vector<std::pair<std::string, std::string>>{
           {"apt-get", "apt"}, {"dpkg-deb", "dpkg"}, {"depmod", "kmod"}, {"cpio", "cpio"}}) {
    if (!on_path(tool)) {
      *err = tool + " not found: install the Debian package " + pkg + " (harness/scripts/install-deps.sh)";
      *unavailable = true;
      return false;
    }
  }
  const fs::path cache(cache_str);
  std::error_code ec;
  fs::create_directories(cache, ec);
  const int lock = ::open((cache / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock < 0) {
    *err = "cannot use the cache " + cache.string() + ": " + std::strerror(errno) + " (set --cache or DVS_LAB_CACHE)";
    *unavailable = true;
    return false;
  }
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }  // closing drops the flock
  } unlock{lock};
  while (flock(lock, LOCK_EX) != 0 && errno == EINTR) {
  }

  Fetcher f{cache};
  std::string v;
  fs::path busybox;
  if (!f.kernel(refresh, &v) || !f.busybox(refresh, &busybox)) {
    *err = f.err;
    *unavailable = f.unavailable;
    return false;
  }
  const fs::path kroot = cache / "kernel" / v;
  const fs::path mdir = kroot / "lib/modules" / v;
  std::vector<std::string> order;
  std::string missing;
  if (!module_load_order(read_text(mdir / "modules.dep"), lines_of(read_text(mdir / "modules.builtin")),
                         wanted_modules(), &order, &missing)) {
    *err = "kernel " + v + " has no module " + missing;
    return false;
  }
  // The initramfs, keyed by everything that goes into it.
  std::string recipe = v + "\n" + init_script();
  for (const auto& m : order) recipe += m + "\n";
  recipe += std::to_string(fs::file_size(busybox, ec));
  const std::string key = fmt::format("{}-{:016x}", v, std::hash<std::string>{}(recipe));
  const fs::path cpio = cache / "initramfs" / (key + ".cpio");
  if (refresh || !fs::exists(cpio)) {
    std::fprintf(stderr, "dvs lab: building the initramfs %s\n", cpio.c_str());
    const fs::path stage = cache / "initramfs" / (key + ".d");
    fs::remove_all(stage, ec);
    fs::create_directories(stage / "bin");
    fs::create_directories(stage / "modules");
    fs::copy_file(busybox, stage / "bin" / "busybox", ec);
    fs::permissions(stage / "bin" / "busybox", fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec, ec);
    std::string names;
    for (const auto& m : order) {
      fs::copy_file(mdir / m, stage / "modules" / fs::path(m).filename(), fs::copy_options::overwrite_existing, ec);
      if (ec) {
        *err = "cannot copy module " + m + ": " + ec.message();
        return false;
      }
      names += fs::path(m).filename().string() + "\n";
    }
    if (!write_text(stage / "modules.order", names) ||
        !write_text(stage / "init", init_script(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec)) {
      *err = "cannot write the initramfs staging folder " + stage.string();
      return false;
    }
    const std::string cmd = "cd " + sh_quote(stage.string()) + " && find . | cpio -o -H newc --quiet > " +
                            sh_quote(cpio.string() + ".tmp");
    ExecResult r = run_command({"sh", "-c", cmd}, kToolTimeoutMs);
    if (!r.ok()) {
      *err = "cpio failed: " + r.reason();
      return false;
    }
    fs::rename(cpio.string() + ".tmp", cpio, ec);
    fs::remove_all(stage, ec);
  } else if (verbose) {
    std::fprintf(stderr, "dvs lab: kernel %s and initramfs from the cache %s\n", v.c_str(), cache.c_str());
  }
  out->version = v;
  out->kernel = (kroot / "boot" / ("vmlinuz-" + v)).string();
  out->initramfs = cpio.string();
  return true;
}

}  // namespace dvs::lab
