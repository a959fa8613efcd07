// dvs report: see report_command.hpp.
#include "harness/commands/report_command.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#ifndef DVS_SOURCE_DIR
#define DVS_SOURCE_DIR ""
#endif
#ifndef DVS_PYTHON3
#define DVS_PYTHON3 "/usr/bin/python3"
#endif

namespace dvs::cli {

namespace fs = std::filesystem;

namespace {

struct ReportOptions {
  std::vector<std::string> runs;
  std::string out;
  std::string title;
  std::string results;
  std::string python = DVS_PYTHON3;
  bool latest = false;
  bool print_python_dir = false;
};

std::string self_exe() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

bool has_package(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "dvs_analysis" / "report.py", ec) && fs::is_regular_file(dir / "dvs" / "results.py", ec);
}

// Newest run directory (run ids start with the UTC time) under root: a directory with meta.json.
std::string latest_run(const std::string& root) {
  std::error_code ec;
  std::vector<std::string> dirs;
  for (const auto& e : fs::directory_iterator(root, ec))
    if (e.is_directory(ec) && fs::exists(e.path() / "meta.json", ec)) dirs.push_back(e.path().string());
  if (dirs.empty()) return "";
  std::sort(dirs.begin(), dirs.end(),
            [](const std::string& a, const std::string& b) { return fs::path(a).filename() < fs::path(b).filename(); });
  return dirs.back();
}

int run_report(const ReportOptions& o) {
  std::string tried;
  const std::string pydir = find_python_dir(&tried);
  if (pydir.empty()) {
    fmt::print(stderr, "dvs report: error: the Python analysis package is not found (tried {}; set DVS_PYTHON_DIR)\n", tried);
    return 2;
  }
  if (o.print_python_dir) {
    fmt::print("{}\n", pydir);
    return 0;
  }
  if (access(o.python.c_str(), X_OK) != 0) {
    fmt::print(stderr, "dvs report: error: {} not found (apt-get install python3 python3-pandas python3-matplotlib; "
                       "harness/scripts/install-deps.sh)\n", o.python);
    return 2;
  }
  std::vector<std::string> runs = o.runs;
  if (o.latest) {
    const std::string root = o.results.empty() ? std::string(DVS_SOURCE_DIR) + "/results/runs" : o.results;
    const std::string d = latest_run(root);
    if (d.empty()) {
      fmt::print(stderr, "dvs report: error: --latest: no run directory under {}\n", root);
      return 2;
    }
    runs.push_back(d);
  }
  if (runs.empty()) {
    fmt::print(stderr, "dvs report: error: give RUN directories or --latest (see dvs report --help)\n");
    return 2;
  }
  std::vector<std::string> args = {o.python, "-m", "dvs_analysis.report"};
  for (const auto& r : runs) args.push_back(r);
  if (!o.out.empty()) args.insert(args.end(), {"--out", o.out});
  if (!o.title.empty()) args.insert(args.end(), {"--title", o.title});
  const std::string self = self_exe();
  if (!self.empty()) args.insert(args.end(), {"--dvs", self});  // A/B tables use this binary's `dvs compare`

  const char* old = std::getenv("PYTHONPATH");
  const std::string pp = old && *old ? pydir + ":" + old : pydir;
  setenv("PYTHONPATH", pp.c_str(), 1);
  setenv("MPLBACKEND", "Agg", 1);
  // matplotlib wants a writable config/cache dir: without HOME (some CI), give it one.
  if (!std::getenv("MPLCONFIGDIR") && !std::getenv("HOME")) {
    const std::string mpl = (fs::temp_directory_path() / "dvs-matplotlib").string();
    std::error_code ec;
    fs::create_directories(mpl, ec);
    setenv("MPLCONFIGDIR", mpl.c_str(), 0);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  execv(o.python.c_str(), argv.data());
  fmt::print(stderr, "dvs report: error: cannot run {}: {}\n", o.python, std::strerror(errno));
  return 2;
}

}  // namespace

std::string find_python_dir(std::string* tried) {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("DVS_PYTHON_DIR"); env && *env) candidates.emplace_back(env);
  const std::string self = self_exe();
  if (!self.empty()) candidates.push_back(fs::path(self).parent_path().parent_path() / "share" / "dvs" / "python");
  if (*DVS_SOURCE_DIR) candidates.push_back(fs::path(DVS_SOURCE_DIR) / "python");
  std::string list;
  for (const auto& c : candidates) {
    list += (list.empty() ? "" : ", ") + c.string();
    if (has_package(c)) return fs::weakly_canonical(c).string();
  }
  if (tried) *tried = list.empty() ? "nothing" : list;
  return "";
}

namespace {

void add_report_options(CLI::App* cmd, ReportOptions* o) {
  cmd->add_option("RUN", o->runs, "Run directories (results/runs/<id>, results/reproduce/<id>, ...); the first is A "
                                  "in the A/B tables");
  cmd->add_option("--out", o->out, "Output directory (default: <first run>/report)");
  cmd->add_option("--title", o->title, "Title of the report");
  cmd->add_flag("--latest", o->latest, "Also report the newest run under <source>/results/runs (or --results)");
  cmd->add_option("--results", o->results, "Where --latest looks (default <source>/results/runs)");
  cmd->add_flag("--print-python-dir", o->print_python_dir, "Print where the analysis package was found and exit");
  cmd->add_option("--python", o->python, "The python3 to run the analysis package with (default " DVS_PYTHON3 ")");
}

}  // namespace

Command make_report_command() {
  auto o = std::make_shared<ReportOptions>();
  Command c;
  c.name = "report";
  c.help = "HTML + Markdown report of run directories: machine metadata, dvs vs baseline ratios, A/B "
           "tables between runs, figures as PNG and SVG (docs/REPORT.md)";
  c.add_options = [o](CLI::App* cmd) { add_report_options(cmd, o.get()); };
  c.run = [o] { return run_report(*o); };
  return c;
}

}  // namespace dvs::cli
