// Published figures to compare a run with (harness/scenarios/m3ipc-published.toml for
// `dvs reproduce m3ipc`; the format is docs/REPRODUCTION.md "Published figures"): tables of rows,
// each row a published figure keyed by the id of the cell it is compared with. Both are divided
// by their table's (or row's) base: the published figure by the published base, ours by the
// base cell measured in the same run, and the last column is ours-normalised / published-normalised.
// Parsing never guesses: an unknown key, a wrong type, a missing label is "FILE:LINE: what".
#ifndef DVS_HARNESS_RESULTS_PUBLISHED_HPP
#define DVS_HARNESS_RESULTS_PUBLISHED_HPP

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace dvs::cli {

struct PublishedRow {
  int line = 0;
  std::string label;
  std::string cell;                   // our cell compared with it ("": not measured here)
  std::optional<double> published;    // the figure (none: the paper has no such figure)
  std::string figure;                 // the chart's bar or series it was read from
  std::string note;
  bool headline = false;              // printed in bold
  std::string base_cell;              // "": the table's
  std::optional<double> base_published;  // none: the table's
};

struct PublishedTable {
  int line = 0;
  std::string key, title, source, unit, published_column;
  std::string ours;   // how ours was measured (the placement of its cells is prefixed)
  std::string base;   // what both are divided by
  std::string base_cell;
  std::optional<double> base_published;
  std::vector<std::string> notes;
  std::vector<PublishedRow> rows;
};

struct PublishedFigures {
  std::string file;
  std::string system, source;
  nlohmann::json conventions = nlohmann::json::object();  // [published.conventions] as written
  std::vector<PublishedTable> tables;
};

// "" on success, else one line "FILE:LINE: problem".
std::string parse_published_text(std::string_view text, const std::string& source, PublishedFigures* out);
std::string parse_published_file(const std::string& path, PublishedFigures* out);

// "" if every cell and base cell the figures name is in `planned`, else "FILE:LINE: ..." for the
// first that is not (a figure would silently have no counterpart).
std::string check_published_cells(const PublishedFigures& p, const std::set<std::string>& planned);

// Our side of a cell: its rate (msgs/s or MB/s of its median repetition; none if it has no ok
// repetition) and where it ran (CpuPair::describe()).
struct OurCell {
  std::optional<double> per_s;
  std::string placement;
};

struct ComparedRow {
  const PublishedRow* row = nullptr;
  std::optional<double> published, ours, published_base, ours_base;
  std::optional<double> published_norm() const;
  std::optional<double> ours_norm() const;
  std::optional<double> ratio() const;  // ours_norm / published_norm
};

struct Comparison {
  const PublishedTable* table = nullptr;
  std::string ours;  // "<placement of its first measured cell>; <table.ours>"
  std::vector<ComparedRow> rows;
};

// One comparison per table, with ours looked up by cell id (a missing cell: no value).
std::vector<Comparison> compare_published(const PublishedFigures& p, const std::map<std::string, OurCell>& ours);

// "### title", the setting line, a Markdown table (row | published | ours | published / base |
// ours / base | ours-norm / published-norm; "–" where a value is missing) and the notes.
std::string comparison_markdown(const Comparison& c);
// {"table", "title", "unit", "published_source", "published_column", "ours", "base", "rows": [...]}.
nlohmann::json comparison_json(const Comparison& c);

}  // namespace dvs::cli

#endif
