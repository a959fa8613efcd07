// dvs: the command line of the dvs testbed. The commands are the table below (one file each in
// harness/commands, harness/README.md lists them); main adds each to the CLI with its options,
// parses, and returns the chosen command's exit status. Beside them: `dvs --version`, and
// `dvs help [CMD...]` (= `dvs [CMD...] --help`).
// Usage errors print one line on stderr and exit 2; an unknown command or option names the
// nearest known one when one is close ("did you mean 'run'?").
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "harness/commands/bench_command.hpp"
#include "harness/commands/cluster_command.hpp"
#include "harness/commands/command.hpp"
#include "harness/commands/compare_command.hpp"
#include "harness/commands/gate_command.hpp"
#include "harness/commands/lab_command.hpp"
#include "harness/commands/metrics_option.hpp"
#include "harness/commands/microbench_command.hpp"
#include "harness/commands/report_command.hpp"
#include "harness/commands/reproduce_command.hpp"
#include "harness/commands/rpc_command.hpp"
#include "harness/commands/run_command.hpp"
#include "harness/commands/run_options.hpp"
#include "harness/commands/suggest.hpp"
#include "harness/commands/transports_command.hpp"
#include "harness/commands/web_command.hpp"

#ifndef DVS_VERSION
#define DVS_VERSION "unknown"
#endif
#ifndef DVS_GIT_COMMIT
#define DVS_GIT_COMMIT "unknown"
#endif
#ifndef DVS_BUILD_TYPE
#define DVS_BUILD_TYPE "unknown"
#endif

namespace {

using dvs::cli::Command;

// Every command, in the order `dvs --help` lists them.
std::vector<Command> command_table(const std::string& argv_line) {
  std::vector<Command> t;
  t.push_back(dvs::cli::make_run_command(argv_line));
  t.push_back(dvs::bench::make_bench_command(argv_line));
  t.push_back(dvs::cli::make_compare_command());
  t.push_back(dvs::cli::make_report_command());
  t.push_back(dvs::cli::make_reproduce_command());
  t.push_back(dvs::cli::make_microbench_command());
  t.push_back(dvs::cli::make_gate_command());
  t.push_back(dvs::rpc::make_rpc_command());
  t.push_back(dvs::web::make_web_command());
  t.push_back(dvs::cli::make_cluster_command());
  t.push_back(dvs::cli::make_transports_command());
  t.push_back(dvs::lab::make_lab_command());
  return t;
}

// "dvs" or "dvs cluster up": how a command is typed.
std::string command_path(const CLI::App* app) {
  std::string path;
  for (; app != nullptr; app = app->get_parent())
    path = path.empty() ? app->get_name() : app->get_name() + " " + path;
  return path;
}

std::vector<std::string> subcommand_names(const CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app->get_subcommands({})) names.push_back(sub->get_name());
  return names;
}

// at's subcommand called name, or null.
const CLI::App* subcommand(const CLI::App* at, const std::string& name) {
  for (const CLI::App* sub : at->get_subcommands({}))
    if (sub->get_name() == name) return sub;
  return nullptr;
}

int usage_error(const std::string& msg, const CLI::App* see) {
  fmt::print(stderr, "dvs: error: {} (see {} --help)\n", msg, command_path(see));
  return 2;
}

// "unknown command 'runn'; did you mean 'run'?" (the nearest subcommand of parent, if close).
int unknown_command(const CLI::App* parent, const std::string& word) {
  const std::string of = parent->get_parent() == nullptr ? "" : " of " + command_path(parent);
  const std::string near = dvs::cli::nearest(word, subcommand_names(parent));
  return usage_error(fmt::format("unknown command '{}'{}{}", word, of,
                                 near.empty() ? "" : fmt::format("; did you mean '{}'?", near)),
                     parent);
}

// The first word of args that should name a subcommand and names none: an unknown command
// (exit 2), checked before parsing so it is not reported as a stray argument. Stops at the first
// option or at a command that takes positional arguments. -1: none found.
int check_command_words(const CLI::App& app, const std::vector<std::string>& args) {
  const CLI::App* at = &app;
  for (const std::string& a : args) {
    if (a.empty() || a[0] == '-') return -1;
    if (at->get_subcommands({}).empty() ||
        !at->get_options([](const CLI::Option* o) { return o->get_positional(); }).empty())
      return -1;
    const CLI::App* sub = subcommand(at, a);
    if (sub == nullptr) return unknown_command(at, a);
    at = sub;
  }
  return -1;
}

// The innermost command parse() entered.
const CLI::App* innermost_parsed(const CLI::App& app) {
  const CLI::App* at = &app;
  for (bool deeper = true; deeper;) {
    deeper = false;
    for (const CLI::App* sub : at->get_subcommands({}))
      if (sub->parsed()) {
        at = sub;
        deeper = true;
        break;
      }
  }
  return at;
}

// An argument CLI11 did not expect: an unknown option of cmd names the nearest option of cmd.
int unexpected_arguments(const CLI::App* cmd, const std::string& cli11_message) {
  std::vector<std::string> names;
  for (const CLI::Option* o : cmd->get_options()) {
    for (const std::string& n : o->get_lnames()) names.push_back("--" + n);
    for (const std::string& n : o->get_snames()) names.push_back("-" + n);
  }
  for (const std::string& arg : cmd->remaining()) {
    if (arg.size() < 2 || arg[0] != '-') continue;
    const std::string given = arg.substr(0, arg.find('='));
    const std::string near = dvs::cli::nearest(given, names);
    return usage_error(fmt::format("unknown option '{}' of {}{}", given, command_path(cmd),
                                   near.empty() ? "" : fmt::format("; did you mean '{}'?", near)),
                       cmd);
  }
  return usage_error(cli11_message, cmd);
}

// `dvs help [CMD...]`: the help of dvs or of that command, on stdout, as `dvs [CMD...] --help`
// prints it.
int print_help(const CLI::App& app, const std::vector<std::string>& words) {
  const CLI::App* at = &app;
  for (const std::string& w : words) {
    const CLI::App* sub = subcommand(at, w);
    if (sub == nullptr) return unknown_command(at, w);
    at = sub;
  }
  fmt::print("{}", at->get_formatter()->make_help(at, command_path(at), CLI::AppFormatMode::Normal));
  return 0;
}

std::string one_line(std::string msg) {
  while (!msg.empty() && msg.back() == '\n') msg.pop_back();
  std::replace(msg.begin(), msg.end(), '\n', ' ');
  return msg;
}

}  // namespace

int main(int argc, char** argv) {
  std::string argv_line;
  for (int i = 0; i < argc; ++i) argv_line += (i ? " " : "") + std::string(argv[i]);

  CLI::App app{"dvs: M3-IPC-style rendezvous IPC testbed and benchmark harness", "dvs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", fmt::format("dvs {} ({}, {})", DVS_VERSION, DVS_GIT_COMMIT, DVS_BUILD_TYPE),
                       "Print the version, git commit and build type, and exit");

  std::vector<Command> table = command_table(argv_line);
  std::vector<std::pair<CLI::App*, const Command*>> parsed_of;
  for (const Command& c : table) {
    CLI::App* cmd = app.add_subcommand(c.name, c.help);
    c.add_options(cmd);
    parsed_of.emplace_back(cmd, &c);
  }
  std::vector<std::string> help_words;
  CLI::App* help = app.add_subcommand("help", "Show the help of dvs, or of CMD (dvs help CMD = dvs CMD --help)");
  help->add_option("CMD", help_words, "A command (and subcommand), e.g. run or cluster up");

  const std::vector<std::string> args(argv + 1, argv + argc);
  if (const int rc = check_command_words(app, args); rc >= 0) return rc;
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --help-all, --version
    return app.exit(e);
  } catch (const CLI::ExtrasError& e) {
    return unexpected_arguments(innermost_parsed(app), one_line(e.what()));
  } catch (const CLI::ParseError& e) {
    return usage_error(one_line(e.what()), innermost_parsed(app));
  }

  int rc = 2;
  if (help->parsed()) {
    rc = print_help(app, help_words);
  } else {
    for (const auto& [cmd, c] : parsed_of)
      if (cmd->parsed()) rc = c->run();
  }
  std::fflush(stdout);
  std::fflush(stderr);
  return rc;
}
