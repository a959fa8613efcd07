// collect_machine_info and friends: see machine_info.hpp.
#include "harness/results/machine_info.hpp"

#include <cpuid.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <sys/utsname.h>
#include <unistd.h>

#include <fmt/format.h>

#include "workloads/measure/clock.hpp"
#include "workloads/measure/placement.hpp"

#ifndef DVS_BUILD_TYPE
#define DVS_BUILD_TYPE "unknown"
#endif

namespace dvs::cli {

namespace {

// Output of a shell command (trailing newline stripped), "" on failure.
std::string run_cmd(const std::string& cmd) {
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return "";
  std::string out;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  if (pclose(f) != 0) return "";
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string first_line_of(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  return s;
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        auto v = line.substr(colon + 1);
        while (!v.empty() && v.front() == ' ') v.erase(v.begin());
        return v;
      }
    }
  }
  return "unknown";
}

// "KVMKVMKVM", "Microsoft Hv", ... from CPUID leaf 0x40000000 when the CPU says it runs under
// a hypervisor (CPUID.1:ECX bit 31), plus the DMI product name when readable; "none" otherwise.
std::string hypervisor() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) == 0 || !(c & (1u << 31))) return "none";
  __cpuid(0x40000000, a, b, c, d);
  char sig[13] = {};
  std::memcpy(sig, &b, 4);
  std::memcpy(sig + 4, &c, 4);
  std::memcpy(sig + 8, &d, 4);
  std::string s = sig;
  const std::string product = first_line_of("/sys/class/dmi/id/product_name");
  if (!product.empty()) s += " (" + product + ")";
  return s.empty() ? "unknown" : s;
#else
  return "unknown";
#endif
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

std::string loadavg() { return first_line_of("/proc/loadavg"); }

std::string utc_stamp() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  return buf;
}

std::string own_command_line() {
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>()), line;
  for (char ch : all) line += ch == '\0' ? ' ' : ch;
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

std::string short_git_sha(const std::string& source_dir) {
  const std::string s =
      run_cmd("git -C " + shell_quote(source_dir) + " rev-parse --short=10 HEAD 2>/dev/null");
  return s.empty() ? "nogit" : s;
}

nlohmann::json collect_machine_info(const std::string& source_dir) {
  nlohmann::json j;
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[40];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
  j["date"] = date;

  const std::string q = shell_quote(source_dir);
  const std::string sha = run_cmd("git -C " + q + " rev-parse HEAD 2>/dev/null");
  j["git"] = {{"sha", sha.empty() ? nlohmann::json(nullptr) : nlohmann::json(sha)},
              {"dirty", !run_cmd("git -C " + q + " status --porcelain --untracked-files=no "
                                 "2>/dev/null").empty()},
              {"source_dir", source_dir}};

  utsname u{};
  uname(&u);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  j["kernel"] = fmt::format("{} {} {}", u.sysname, u.release, u.machine);
  j["kernel_version"] = u.version;
  j["hostname"] = host;
  j["cpu_model"] = cpu_model();
  j["nproc_online"] = sysconf(_SC_NPROCESSORS_ONLN);
  nlohmann::json cpus = nlohmann::json::array();
  for (int c : measure::allowed_cpus()) {
    const std::string base = fmt::format("/sys/devices/system/cpu/cpu{}/topology/", c);
    cpus.push_back({{"cpu", c},
                    {"core_id", first_line_of(base + "core_id")},
                    {"package_id", first_line_of(base + "physical_package_id")},
                    {"thread_siblings", first_line_of(base + "thread_siblings_list")}});
  }
  j["cpus_allowed"] = cpus;
  j["clock"] = {{"source", "clock_gettime(CLOCK_MONOTONIC)"},
                {"overhead_ns_median", measure::clock_overhead_ns()},
                {"clocksource", first_line_of(
                     "/sys/devices/system/clocksource/clocksource0/current_clocksource")}};
  j["cpufreq_governor"] = first_line_of("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  j["hypervisor"] = hypervisor();
  j["build"] = {{"type", DVS_BUILD_TYPE}, {"compiler", fmt::format("g++ {}", __VERSION__)}};
  j["cpu_ticks_start"] = cpu_ticks();
  return j;
}

nlohmann::json cpu_ticks() {
  // /proc/stat "cpu user nice system idle iowait irq softirq steal ...", in USER_HZ ticks.
  std::ifstream f("/proc/stat");
  std::string cpu;
  uint64_t v[8] = {};
  f >> cpu;
  for (auto& x : v) f >> x;
  if (!f || cpu != "cpu") return nullptr;
  uint64_t total = 0;
  for (auto x : v) total += x;
  return {{"total", total}, {"idle", v[3] + v[4]}, {"steal", v[7]}};
}

void finish_machine_info(nlohmann::json& meta) {
  meta["loadavg_end"] = loadavg();
  const nlohmann::json end = cpu_ticks();
  meta["cpu_ticks_end"] = end;
  const nlohmann::json& start = meta.contains("cpu_ticks_start") ? meta["cpu_ticks_start"] : nlohmann::json();
  if (start.is_object() && end.is_object()) {
    const double total = double(end["total"].get<uint64_t>() - start["total"].get<uint64_t>());
    const double steal = double(end["steal"].get<uint64_t>() - start["steal"].get<uint64_t>());
    const double idle = double(end["idle"].get<uint64_t>() - start["idle"].get<uint64_t>());
    if (total > 0) {
      meta["steal_pct"] = 100.0 * steal / total;  // CPU time the hypervisor gave to others
      meta["busy_pct"] = 100.0 * (total - idle) / total;
    }
  }
}

}  // namespace dvs::cli
