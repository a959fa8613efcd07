// Scenario files for commands whose scenario is "their own options from a file" (dvs rpc,
// dvs web bench): a TOML file with an optional [scenario] table (name, description) and one
// table named after the command, whose keys are the command's long options (dashes or
// underscores) with string, number or boolean values. A key applies unless the command line
// gave that option (the command line wins).
#ifndef DVS_HARNESS_CLI_OPTION_SCENARIO_HPP
#define DVS_HARNESS_CLI_OPTION_SCENARIO_HPP

#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

namespace dvs::cli {

// Applies `path`'s [table] to cmd's options and fills *name / *description from [scenario].
// `command` names the command in messages ("dvs rpc"). "" or the error, one line: FILE:LINE: why.
std::string apply_option_scenario(CLI::App* cmd, const std::string& path, const std::string& table,
                                  const std::string& command, std::string* name, std::string* description);
// The same from the file's text; `source` names it in messages (the path, for the above).
std::string apply_option_scenario_text(CLI::App* cmd, std::string_view text, const std::string& source,
                                       const std::string& table, const std::string& command, std::string* name,
                                       std::string* description);

}  // namespace dvs::cli

#endif
