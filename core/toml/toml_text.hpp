// TOML parsing for every dvs file format (dvsd config, cluster files, scenario files): toml++'s
// parse, after a check of the text that keeps it away from a bug of the toml++ dvs links.
//
// toml++ 3.3.0 (Debian 12) reaches __builtin_unreachable, i.e. undefined behaviour, when it asks
// whether certain non-ASCII characters are whitespace (is_non_ascii_horizontal_whitespace():
// marzer/tomlplusplus#190 and #295, fixed upstream by #305, in no Debian release). It asks that of
// a character where TOML allows no non-ASCII one (outside strings and comments: `a = 1§`, `[a§]`),
// and of the first character on the line after a line-ending backslash in a """string""". Found
// by the fuzz targets of the cluster and scenario parsers (docs/FUZZING.md). check_toml_text()
// finds both first; parse_toml() refuses them as a parse error at their line, as toml++ would
// refuse any other invalid text. No valid file is refused but one whose multi-line string has a
// line-ending backslash followed by a non-ASCII character, which no dvs file needs.
#ifndef DVS_CORE_TOML_TEXT_HPP
#define DVS_CORE_TOML_TEXT_HPP

#include <string>
#include <string_view>

#include <toml++/toml.h>

namespace dvs::core {

struct TomlTextProblem {
  int line = 0;      // 1-based; 0: none
  const char* what = "";
};

// The first place of text that would reach the toml++ bug above, or {0, ""}.
TomlTextProblem check_toml_text(std::string_view text);

// toml::parse(text, source) after check_toml_text(); throws toml::parse_error either way.
toml::table parse_toml(std::string_view text, std::string_view source);
// The same for a file's contents (toml::parse_error "cannot open" if it cannot be read).
toml::table parse_toml_file(const std::string& path);

}  // namespace dvs::core

#endif
