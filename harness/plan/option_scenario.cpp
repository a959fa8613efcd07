// Option scenario files: see option_scenario.hpp.
#include "harness/plan/option_scenario.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/toml/toml_text.hpp"
#include "harness/plan/one_line.hpp"

namespace dvs::cli {

namespace {

std::string apply(CLI::App* cmd, std::string_view text, const std::string& source, const std::string& table,
                  const std::string& command, std::string* name, std::string* description) {
  toml::table t;
  try {
    t = core::parse_toml(text, source);
  } catch (const toml::parse_error& e) {
    return fmt::format("{}:{}: {}", source, e.source().begin.line, e.description());
  }
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    if (key != "scenario" && key != table)
      return fmt::format("{}:{}: unknown table '{}' (allowed: [scenario], [{}])", source, v.source().begin.line, key, table);
  }
  if (const auto* sc = t["scenario"].as_table()) {
    for (const auto& [k, v] : *sc) {
      const std::string key(k.str());
      if (key == "name" && v.is_string()) *name = v.as_string()->get();
      else if (key == "description" && v.is_string()) *description = v.as_string()->get();
      else return fmt::format("{}:{}: [scenario] takes name and description (strings), not '{}'", source, v.source().begin.line, key);
    }
  }
  const auto* options = t[table].as_table();
  if (options == nullptr) return fmt::format("{}: no [{}] table", source, table);
  for (const auto& [k, v] : *options) {
    std::string opt_name(k.str());
    for (auto& ch : opt_name)
      if (ch == '_') ch = '-';
    const int line = int(v.source().begin.line);
    CLI::Option* opt = opt_name == "scenario" ? nullptr : cmd->get_option_no_throw("--" + opt_name);
    if (opt == nullptr)
      return fmt::format("{}:{}: [{}] has no key '{}' (keys are {}'s long options)", source, line, table, k.str(), command);
    if (opt->count() > 0) continue;  // the command line wins
    std::string val;
    if (v.is_string()) val = v.as_string()->get();
    else if (v.is_integer()) val = std::to_string(v.as_integer()->get());
    else if (v.is_floating_point()) val = fmt::format("{}", v.as_floating_point()->get());
    else if (v.is_boolean()) val = v.as_boolean()->get() ? "true" : "false";
    else return fmt::format("{}:{}: '{}' must be a string, number or boolean", source, line, k.str());
    try {
      opt->add_result(val);
      opt->run_callback();
    } catch (const CLI::Error& e) {
      return fmt::format("{}:{}: {}: {}", source, line, k.str(), e.what());
    }
  }
  return "";
}

}  // namespace

std::string apply_option_scenario(CLI::App* cmd, const std::string& path, const std::string& table,
                                  const std::string& command, std::string* name, std::string* description) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return one_line(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  std::stringstream ss;
  ss << f.rdbuf();
  return apply_option_scenario_text(cmd, ss.str(), path, table, command, name, description);
}

std::string apply_option_scenario_text(CLI::App* cmd, std::string_view text, const std::string& source,
                                       const std::string& table, const std::string& command, std::string* name,
                                       std::string* description) {
  return one_line(apply(cmd, text, source, table, command, name, description));  // values may hold newlines
}

}  // namespace dvs::cli
