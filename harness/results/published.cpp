// Published figures and the comparison tables: see published.hpp.
#include "harness/results/published.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include "core/toml/toml_text.hpp"
#include "harness/plan/one_line.hpp"

namespace dvs::cli {

namespace {

using nlohmann::json;

int line_of(const toml::node& n) { return int(n.source().begin.line); }

// Reads one TOML table's keys; the first problem is kept in *err ("FILE:LINE: where: what").
class Fields {
 public:
  Fields(const toml::table& t, std::string where, const std::string& file, std::string* err)
      : t_(t), where_(std::move(where)), file_(file), err_(err) {}

  bool fail(const toml::node* n, const std::string& what) {
    if (err_->empty())
      *err_ = one_line(fmt::format("{}:{}: {}: {}", file_, n != nullptr ? line_of(*n) : line_of(t_), where_, what));
    return false;
  }
  const toml::node* take(const std::string& key) {
    known_.push_back(key);
    return t_.get(key);
  }
  bool text(const std::string& key, bool required, std::string* out) {
    const toml::node* n = take(key);
    if (n == nullptr) return !required || fail(nullptr, fmt::format("'{}' is missing", key));
    const auto v = n->value_exact<std::string>();
    if (!v) return fail(n, fmt::format("'{}' must be a string", key));
    *out = *v;
    return true;
  }
  bool number(const std::string& key, std::optional<double>* out) {
    const toml::node* n = take(key);
    if (n == nullptr) return true;
    if (n->is_integer()) *out = double(*n->value_exact<int64_t>());
    else if (n->is_floating_point()) *out = *n->value_exact<double>();
    else return fail(n, fmt::format("'{}' must be a number", key));
    if (!(**out >= 0)) return fail(n, fmt::format("'{}' must not be negative", key));
    return true;
  }
  bool flag(const std::string& key, bool* out) {
    const toml::node* n = take(key);
    if (n == nullptr) return true;
    const auto v = n->value_exact<bool>();
    if (!v) return fail(n, fmt::format("'{}' must be true or false", key));
    *out = *v;
    return true;
  }
  bool texts(const std::string& key, std::vector<std::string>* out) {
    const toml::node* n = take(key);
    if (n == nullptr) return true;
    const toml::array* a = n->as_array();
    if (a == nullptr) return fail(n, fmt::format("'{}' must be an array of strings", key));
    for (const auto& el : *a) {
      const auto v = el.value_exact<std::string>();
      if (!v) return fail(&el, fmt::format("'{}' must be an array of strings", key));
      out->push_back(*v);
    }
    return true;
  }
  // The array of tables under `key` (none: empty).
  bool tables(const std::string& key, std::vector<const toml::table*>* out) {
    const toml::node* n = take(key);
    if (n == nullptr) return true;
    const toml::array* a = n->as_array();
    if (a == nullptr || !a->is_array_of_tables()) return fail(n, fmt::format("'{}' must be [[{}]] tables", key, key));
    for (const auto& el : *a) out->push_back(el.as_table());
    return true;
  }
  bool finish() {
    for (const auto& [k, v] : t_)
      if (std::find(known_.begin(), known_.end(), std::string(k.str())) == known_.end())
        return fail(&v, fmt::format("unknown key '{}' (known here: {})", k.str(), fmt::join(known_, ", ")));
    return true;
  }

 private:
  const toml::table& t_;
  std::string where_;
  const std::string& file_;
  std::string* err_;
  std::vector<std::string> known_;
};

bool read_row(const toml::table& t, const std::string& where, const std::string& file, std::string* err,
              PublishedRow* r) {
  Fields f(t, where, file, err);
  r->line = line_of(t);
  return f.text("label", true, &r->label) && f.text("cell", false, &r->cell) && f.number("published", &r->published) &&
         f.text("figure", false, &r->figure) && f.text("note", false, &r->note) && f.flag("headline", &r->headline) &&
         f.text("base_cell", false, &r->base_cell) && f.number("base_published", &r->base_published) && f.finish();
}

bool read_table(const toml::table& t, const std::string& where, const std::string& file, std::string* err,
                PublishedTable* out) {
  Fields f(t, where, file, err);
  out->line = line_of(t);
  std::vector<const toml::table*> rows;
  if (!f.text("key", true, &out->key) || !f.text("title", true, &out->title) ||
      !f.text("source", true, &out->source) || !f.text("unit", true, &out->unit) ||
      !f.text("published_column", false, &out->published_column) || !f.text("ours", false, &out->ours) ||
      !f.text("base", false, &out->base) || !f.text("base_cell", false, &out->base_cell) ||
      !f.number("base_published", &out->base_published) || !f.texts("notes", &out->notes) ||
      !f.tables("row", &rows) || !f.finish())
    return false;
  if (rows.empty()) return f.fail(nullptr, "has no [[comparison.row]]");
  for (size_t i = 0; i < rows.size(); ++i) {
    PublishedRow r;
    if (!read_row(*rows[i], fmt::format("[[comparison]] \"{}\" row {}", out->key, i + 1), file, err, &r)) return false;
    out->rows.push_back(std::move(r));
  }
  return true;
}

std::optional<double> div_opt(std::optional<double> a, std::optional<double> b) {
  if (!a || !b || *b <= 0) return std::nullopt;
  return *a / *b;
}

std::string fmt_rate(std::optional<double> v) {
  if (!v) return "–";
  const double x = *v;
  if (x >= 1e6) return fmt::format("{:.2f} M", x / 1e6);
  if (x >= 1e4) return fmt::format("{:.0f} k", x / 1e3);
  if (x >= 1e3) return fmt::format("{:.2f} k", x / 1e3);
  if (x >= 10) return fmt::format("{:.0f}", x);
  return fmt::format("{:.2f}", x);
}

std::string fmt_ratio(std::optional<double> v) {
  if (!v) return "–";
  if (*v >= 10) return fmt::format("{:.1f}", *v);
  return fmt::format("{:.2f}", *v);
}

}  // namespace

std::string parse_published_text(std::string_view text, const std::string& source, PublishedFigures* out) {
  toml::table doc;
  try {
    doc = core::parse_toml(text, source);
  } catch (const toml::parse_error& e) {
    return one_line(fmt::format("{}:{}: not valid TOML: {}", source, e.source().begin.line, e.description()));
  }
  std::string err;
  PublishedFigures p;
  p.file = source;
  Fields top(doc, "the file", source, &err);
  const toml::node* head = top.take("published");
  std::vector<const toml::table*> tables;
  if (!top.tables("comparison", &tables) || !top.finish()) return err;
  if (head == nullptr || !head->is_table()) {
    top.fail(head, "needs a [published] table with system = \"...\" and source = \"...\"");
    return err;
  }
  Fields h(*head->as_table(), "[published]", source, &err);
  const toml::node* conv = h.take("conventions");
  if (!h.text("system", true, &p.system) || !h.text("source", true, &p.source) || !h.finish()) return err;
  if (conv != nullptr) {
    if (!conv->is_table()) {
      h.fail(conv, "'conventions' must be a table of strings and numbers");
      return err;
    }
    for (const auto& [k, v] : *conv->as_table()) {
      if (const auto s = v.value_exact<std::string>()) p.conventions[std::string(k.str())] = *s;
      else if (const auto i = v.value_exact<int64_t>()) p.conventions[std::string(k.str())] = *i;
      else if (const auto d = v.value_exact<double>()) p.conventions[std::string(k.str())] = *d;
      else {
        h.fail(&v, fmt::format("conventions.{} must be a string or a number", k.str()));
        return err;
      }
    }
  }
  if (tables.empty()) {
    top.fail(nullptr, "has no [[comparison]] table");
    return err;
  }
  for (size_t i = 0; i < tables.size(); ++i) {
    PublishedTable t;
    if (!read_table(*tables[i], fmt::format("[[comparison]] #{}", i + 1), source, &err, &t)) return err;
    for (const auto& other : p.tables)
      if (other.key == t.key)
        return one_line(fmt::format("{}:{}: [[comparison]] key \"{}\" is taken by the one at line {}", source, t.line,
                                    t.key, other.line));
    p.tables.push_back(std::move(t));
  }
  *out = std::move(p);
  return "";
}

std::string parse_published_file(const std::string& path, PublishedFigures* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return one_line(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  const std::string text{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  return parse_published_text(text, path, out);
}

std::string check_published_cells(const PublishedFigures& p, const std::set<std::string>& planned) {
  auto missing = [&](const std::string& id) { return !id.empty() && planned.count(id) == 0; };
  for (const auto& t : p.tables) {
    if (missing(t.base_cell))
      return one_line(fmt::format("{}:{}: [[comparison]] \"{}\": base_cell \"{}\" is not a cell of the scenario",
                                  p.file, t.line, t.key, t.base_cell));
    for (const auto& r : t.rows)
      for (const std::string* id : {&r.cell, &r.base_cell})
        if (missing(*id))
          return one_line(fmt::format("{}:{}: [[comparison]] \"{}\" row \"{}\": {} \"{}\" is not a cell of the scenario",
                                      p.file, r.line, t.key, r.label, id == &r.cell ? "cell" : "base_cell", *id));
  }
  return "";
}

std::optional<double> ComparedRow::published_norm() const { return div_opt(published, published_base); }
std::optional<double> ComparedRow::ours_norm() const { return div_opt(ours, ours_base); }
std::optional<double> ComparedRow::ratio() const { return div_opt(ours_norm(), published_norm()); }

std::vector<Comparison> compare_published(const PublishedFigures& p, const std::map<std::string, OurCell>& ours) {
  auto rate = [&](const std::string& id) -> std::optional<double> {
    const auto it = ours.find(id);
    return it == ours.end() ? std::nullopt : it->second.per_s;
  };
  std::vector<Comparison> out;
  for (const auto& t : p.tables) {
    Comparison c;
    c.table = &t;
    std::string placement;
    for (const auto& r : t.rows) {
      ComparedRow x;
      x.row = &r;
      x.published = r.published;
      x.ours = rate(r.cell);
      x.published_base = r.base_published ? r.base_published : t.base_published;
      x.ours_base = rate(r.base_cell.empty() ? t.base_cell : r.base_cell);
      if (const auto it = ours.find(r.cell); placement.empty() && it != ours.end()) placement = it->second.placement;
      c.rows.push_back(x);
    }
    c.ours = placement.empty() ? t.ours : t.ours.empty() ? placement : placement + "; " + t.ours;
    out.push_back(std::move(c));
  }
  return out;
}

std::string comparison_markdown(const Comparison& c) {
  const PublishedTable& t = *c.table;
  std::string s = fmt::format("### {}\n\n", t.title);
  s += fmt::format("Published: {} ({}). Ours: {}. Normalised to: {}.\n\n", t.source, t.published_column, c.ours, t.base);
  s += fmt::format("| row | published {} | ours {} | published / base | ours / base | ours-norm / published-norm |\n",
                   t.unit, t.unit);
  s += "|---|---:|---:|---:|---:|---:|\n";
  for (const auto& r : c.rows) {
    std::string label = r.row->headline ? "**" + r.row->label + "**" : r.row->label;
    if (!r.row->note.empty()) label += " (" + r.row->note + ")";
    s += fmt::format("| {} | {} | {} | {} | {} | {} |\n", label, fmt_rate(r.published), fmt_rate(r.ours),
                     fmt_ratio(r.published_norm()), fmt_ratio(r.ours_norm()), fmt_ratio(r.ratio()));
  }
  for (const auto& n : t.notes) s += "\n" + n + "\n";
  return s + "\n";
}

json comparison_json(const Comparison& c) {
  const PublishedTable& t = *c.table;
  auto opt = [](std::optional<double> v) { return v ? json(*v) : json(nullptr); };
  json rows = json::array();
  for (const auto& r : c.rows)
    rows.push_back({{"row", r.row->label}, {"note", r.row->note}, {"cell", r.row->cell}, {"figure", r.row->figure},
                    {"published", opt(r.published)}, {"ours", opt(r.ours)}, {"published_base", opt(r.published_base)},
                    {"ours_base", opt(r.ours_base)}, {"published_norm", opt(r.published_norm())},
                    {"ours_norm", opt(r.ours_norm())}, {"ratio", opt(r.ratio())}});
  return {{"table", t.key}, {"title", t.title}, {"unit", t.unit}, {"published_source", t.source},
          {"published_column", t.published_column}, {"ours", c.ours}, {"base", t.base}, {"rows", rows}};
}

}  // namespace dvs::cli
