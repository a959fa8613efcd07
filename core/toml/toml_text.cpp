// See toml_text.hpp.
#include "core/toml/toml_text.hpp"

#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

namespace dvs::core {

namespace {

bool ascii(char c) { return static_cast<unsigned char>(c) < 0x80; }
bool bare_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}
// What ends a bare value (a number, a date, true, inf...) for toml++ (is_value_terminator).
bool value_terminator(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' || c == ']' || c == '}' || c == '#';
}

// The last character of the closing delimiter of a multi-line string found at i: the last three
// of a run of up to five quotes (one or two quotes may end the string's text).
size_t end_of_delimiter(std::string_view t, size_t i, char quote) {
  size_t run = 0;
  while (run < 5 && i + run < t.size() && t[i + run] == quote) ++run;
  return i + run - 1;
}

}  // namespace

// A small TOML lexer: only as much as tells strings and comments from the rest, the way toml++
// does: a quote opens a string where a key or a value starts; within a bare value (toml++ scans
// one to its end, asking of each character whether it ends it) or after a value it opens nothing
// (there the text is invalid, and toml++ stops at or after that point).
TomlTextProblem check_toml_text(std::string_view t) {
  enum class In { kCode, kComment, kBasic, kLiteral, kMultiBasic, kMultiLiteral };
  // In code: what comes next.
  enum class Next { kKey, kAfterKey, kValue, kBareValue, kAfterValue };
  enum class Open : char { kHeader, kArrayHeader, kArray, kInline };
  constexpr std::string_view kBasic3 = "\"\"\"", kLiteral3 = "'''";
  In in = In::kCode;
  Next next = Next::kKey;
  Next after_string = Next::kAfterValue;
  std::vector<Open> open;  // brackets and braces around this point
  int line = 1;
  const size_t n = t.size();
  for (size_t i = 0; i < n; ++i) {
    const char c = t[i];
    if (c == '\n') {
      ++line;
      // A newline ends a comment (and a one-line string, which is then invalid: toml++ says so).
      if (in == In::kComment || in == In::kBasic || in == In::kLiteral) in = In::kCode;
      if (in != In::kCode) continue;
      if (!open.empty() && open.back() == Open::kArray) {
        if (next == Next::kBareValue) next = Next::kAfterValue;  // arrays go on over lines
      } else {
        open.clear();  // (a header or inline table cut by a newline is invalid: toml++ says so)
        next = Next::kKey;
      }
      continue;
    }
    switch (in) {
      case In::kCode: {
        if (!ascii(c)) return {line, "non-ASCII character outside a string or comment"};
        if (next == Next::kBareValue) {
          if (!value_terminator(c)) break;
          next = Next::kAfterValue;
        }
        if (c == ' ' || c == '\t' || c == '\r') break;
        if (c == '#') {
          in = In::kComment;
          break;
        }
        const bool starts = next == Next::kKey || next == Next::kValue;  // a quote here opens a string
        if (starts && (c == '"' || c == '\'')) {
          after_string = next == Next::kKey ? Next::kAfterKey : Next::kAfterValue;
          if (t.substr(i, 3) == kBasic3) {
            in = In::kMultiBasic;
            i += 2;
          } else if (t.substr(i, 3) == kLiteral3) {
            in = In::kMultiLiteral;
            i += 2;
          } else {
            in = c == '"' ? In::kBasic : In::kLiteral;
          }
          break;
        }
        switch (next) {
          case Next::kKey:
            if (c == '[' && open.empty()) {  // a table header
              const bool array = i + 1 < n && t[i + 1] == '[';
              open.push_back(array ? Open::kArrayHeader : Open::kHeader);
              i += array ? 1 : 0;
            } else if (bare_key_char(c)) {
              while (i + 1 < n && bare_key_char(t[i + 1])) ++i;
              next = Next::kAfterKey;
            } else if (c == '}' && !open.empty() && open.back() == Open::kInline) {
              open.pop_back();  // {} or a trailing comma
              next = Next::kAfterValue;
            } else {
              next = Next::kAfterValue;  // invalid here
            }
            break;
          case Next::kAfterKey:
            if (c == '.') {
              next = Next::kKey;
            } else if (c == '=') {
              next = Next::kValue;
            } else if (c == ']' && !open.empty() && (open.back() == Open::kHeader || open.back() == Open::kArrayHeader)) {
              if (open.back() == Open::kArrayHeader && i + 1 < n && t[i + 1] == ']') ++i;
              open.pop_back();
              next = Next::kAfterValue;
            } else {
              next = Next::kAfterValue;  // invalid here
            }
            break;
          case Next::kValue:
            if (c == '[') {
              open.push_back(Open::kArray);
            } else if (c == '{') {
              open.push_back(Open::kInline);
              next = Next::kKey;
            } else if (c == ']' && !open.empty() && open.back() == Open::kArray) {
              open.pop_back();  // [] or a trailing comma
              next = Next::kAfterValue;
            } else {
              next = value_terminator(c) ? Next::kAfterValue : Next::kBareValue;
            }
            break;
          case Next::kBareValue:
          case Next::kAfterValue:
            if (c == ',' && !open.empty() && open.back() == Open::kArray) {
              next = Next::kValue;
            } else if (c == ',' && !open.empty() && open.back() == Open::kInline) {
              next = Next::kKey;
            } else if ((c == ']' && !open.empty() && open.back() == Open::kArray) ||
                       (c == '}' && !open.empty() && open.back() == Open::kInline)) {
              open.pop_back();
            }
            break;
        }
        break;
      }
      case In::kComment:
        break;
      case In::kBasic:
        if (c == '\\' && i + 1 < n && t[i + 1] != '\n') {
          ++i;  // an escaped character (\" among them)
        } else if (c == '"') {
          in = In::kCode;
          next = after_string;
        }
        break;
      case In::kLiteral:
        if (c == '\'') {
          in = In::kCode;
          next = after_string;
        }
        break;
      case In::kMultiBasic:
        if (c == '\\') {
          // toml++ asks of the character after the backslash, and after any spaces or tabs there,
          // whether it is whitespace (a line-ending backslash); if it is a newline, then of each
          // character up to the next one that is not whitespace.
          size_t j = i + 1;
          while (j < n && (t[j] == ' ' || t[j] == '\t')) ++j;
          if (j < n && !ascii(t[j])) return {line, "non-ASCII character after a backslash in a multi-line string"};
          if (j < n && (t[j] == '\n' || t[j] == '\r')) {
            int l = line;
            for (; j < n && (t[j] == ' ' || t[j] == '\t' || t[j] == '\r' || t[j] == '\n'); ++j) l += t[j] == '\n';
            if (j < n && !ascii(t[j]))
              return {l, "non-ASCII character after a line-ending backslash in a multi-line string"};
            line = l;
            i = j - 1;
          } else if (j == i + 1 && j < n) {
            ++i;  // an escaped character (\" among them)
          }
        } else if (t.substr(i, 3) == kBasic3) {
          in = In::kCode;
          next = after_string;
          i = end_of_delimiter(t, i, '"');
        }
        break;
      case In::kMultiLiteral:
        if (t.substr(i, 3) == kLiteral3) {
          in = In::kCode;
          next = after_string;
          i = end_of_delimiter(t, i, '\'');
        }
        break;
    }
  }
  return {};
}

toml::table parse_toml(std::string_view text, std::string_view source) {
  if (const TomlTextProblem p = check_toml_text(text); p.line != 0) {
    const toml::source_position at{static_cast<toml::source_index>(p.line), 1};
    throw toml::parse_error(p.what, at, std::make_shared<const std::string>(source));
  }
  return toml::parse(text, source);
}

toml::table parse_toml_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw toml::parse_error("cannot open the file", toml::source_position{1, 1}, std::make_shared<const std::string>(path));
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_toml(ss.str(), path);
}

}  // namespace dvs::core
