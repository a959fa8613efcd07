// One `dvs` command as the command table (main.cpp) holds it: its name, its one-line help, how it
// adds its options, and how it runs. Every command file makes one with a make_*_command()
// function; main adds each to the CLI, parses, and returns the chosen command's exit status.
#ifndef DVS_HARNESS_COMMANDS_COMMAND_HPP
#define DVS_HARNESS_COMMANDS_COMMAND_HPP

#include <functional>
#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace dvs::cli {

struct Command {
  std::string name;  // `dvs NAME`
  std::string help;  // one line, shown by `dvs --help`
  // Adds the command's options (and subcommands) to cmd, the CLI::App the table made for it from
  // name and help. Called once, before parsing; cmd lives as long as the table.
  std::function<void(CLI::App* cmd)> add_options;
  // Runs the command once its options are parsed; returns the process exit status (the command
  // prints its own error line). Output is flushed by the caller.
  std::function<int()> run;
};

}  // namespace dvs::cli

#endif
