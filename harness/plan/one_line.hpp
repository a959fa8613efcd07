// Error messages of the file parsers (cluster files, scenario files, option scenario files) are one
// line "FILE:LINE: problem", and quote what the file says; one_line() keeps them one line whatever
// the file holds: control characters become C escapes (\n, \r, \t, \xHH), the rest is kept
// (UTF-8 included).
#ifndef DVS_HARNESS_CLI_ONE_LINE_HPP
#define DVS_HARNESS_CLI_ONE_LINE_HPP

#include <string>
#include <string_view>

namespace dvs::cli {

inline std::string one_line(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != 0x7f) {
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch == '\t') {
      out += "\\t";
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace dvs::cli

#endif
