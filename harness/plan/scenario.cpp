// Scenario parser: see scenario.hpp; the format is docs/BENCH.md.
#include "harness/plan/scenario.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include "core/toml/toml_text.hpp"
#include "harness/cluster/transports.hpp"
#include "harness/commands/run_options.hpp"
#include "harness/plan/one_line.hpp"
#include "workloads/measure/pairs.hpp"

namespace dvs::bench {

const std::vector<std::string> kRemotePaths = {"proxy", "direct"};
const std::vector<std::string> kLinkSecurity = {"authenticated", "open", "sealed"};
const std::vector<std::string> kPrimitives = {"send_receive", "sendrec_reply", "notify_receive",
                                              "rcvrqst_reply", "vcopy", "vcopy_push"};
const std::vector<std::string> kWaits = workloads::kWaitNames;
const std::vector<std::string> kPlacements = {"same-core", "cross-core", "unpinned", "cross-node"};
const std::vector<std::string> kExtraBaselines = {
    "shm", "pipe", "unix", "fifo", "sysv_mq", "posix_mq", "tcp",
    "pipe_stream", "fifo_stream", "sysv_mq_stream", "tcp_stream",
    "tcp_stream_rcvlowat",  // tcp_stream with SO_RCVLOWAT = the block (the reader woken once per block)
    "nng_ipc", "nng_tcp", "zmq_ipc", "zmq_tcp"};  // the peer libraries (cli::kPeerRows)

std::vector<std::string> scenario_transports() {
  std::vector<std::string> v = cluster::node_transports();
  v.insert(v.begin(), cluster::kLocalTransport);
  return v;
}

namespace {

// Other spellings accepted for list values (mapped to the canonical one).
const std::map<std::string, std::string> kAliases = {
    {"send", "send_receive"},     {"sendrec", "sendrec_reply"}, {"notify", "notify_receive"},
    {"rcvrqst", "rcvrqst_reply"}, {"vcopy_pull", "vcopy"},      {"stb", "spin-then-block"},
    {"spin_then_block", "spin-then-block"}, {"same", "same-core"}, {"cross", "cross-core"},
    {"none", "unpinned"},         {"cross_node", "cross-node"}};

constexpr int64_t kMaxPerturb = 4096;

// The first error wins; everything after it is skipped by the callers' early returns.
struct Errors {
  std::string source;
  std::string first;
  bool at(int line, const std::string& what) {
    if (first.empty()) first = cli::one_line(fmt::format("{}:{}: {}", source, line, what));
    return false;
  }
};

int line_of(const toml::node& n) { return int(n.source().begin.line); }

// A TOML table being read: hands out its values by key, remembers which keys were read, and
// makes every other key an error (naming it, its line and the keys it could have been).
class Reader {
 public:
  Reader(const toml::table& t, std::string where, Errors& e) : t_(t), where_(std::move(where)), e_(e) {}

  int line() const { return line_of(t_); }
  const std::string& where() const { return where_; }
  bool fail(const toml::node* n, const std::string& key, const std::string& what) {
    return e_.at(n != nullptr ? line_of(*n) : line(), fmt::format("{}: '{}' {}", where_, key, what));
  }
  const toml::node* take(const std::string& key) {
    known_.push_back(key);
    return t_.get(key);
  }
  // Call after every take(): unknown keys are errors.
  bool finish() {
    for (const auto& [k, v] : t_) {
      const std::string key(k.str());
      if (std::find(known_.begin(), known_.end(), key) == known_.end())
        return e_.at(line_of(v), fmt::format("{}: unknown key '{}' (known here: {})", where_, key,
                                             fmt::join(known_, ", ")));
    }
    return true;
  }

  bool integer(const std::string& key, int64_t lo, int64_t hi, std::optional<int64_t>* out) {
    const toml::node* n = take(key);
    if (n == nullptr) return true;
    const auto v = n->value_exact<int64_t>();
    if (!v) return fail(n, key, "must be an integer");
    if (*v < lo || *v > hi) return fail(n, key, fmt::format("= {} is out of range {}..{}", *v, lo, hi));
    *out = *v;
    return true;
  }
  bool seconds(const std::string& key, double lo, double hi, std::optional<double>* out) {
    const toml::node* n = take(key);
    if (n == nullptr) return true;
    std::optional<double> v;
    if (n->is_integer()) v = double(*n->value_exact<int64_t>());
    else if (n->is_floating_point()) v = *n->value_exact<double>();
    if (!v) return fail(n, key, "must be a number of seconds");
    if (!(*v >= lo && *v <= hi)) return fail(n, key, fmt::format("= {} is out of range {}..{} s", *v, lo, hi));
    *out = *v;
    return true;
  }
  bool string(const std::string& key, std::optional<std::string>* out) {
    const toml::node* n = take(key);
    if (n == nullptr) return true;
    const auto v = n->value_exact<std::string>();
    if (!v) return fail(n, key, "must be a string");
    *out = *v;
    return true;
  }
  // A non-empty array of strings, each one of `allowed` (or an alias of one), no repeats.
  bool names(const std::string& key, const std::vector<std::string>& allowed,
             std::optional<std::vector<std::string>>* out) {
    const toml::node* n = take(key);
    if (n == nullptr) return true;
    const toml::array* a = n->as_array();
    if (a == nullptr) return fail(n, key, fmt::format("must be an array of strings like [\"{}\"]", allowed[0]));
    if (a->empty()) return fail(n, key, "is empty (leave it out for the default)");
    std::vector<std::string> v;
    for (size_t i = 0; i < a->size(); ++i) {
      const toml::node& el = *a->get(i);
      const auto s = el.value_exact<std::string>();
      if (!s) return fail(&el, fmt::format("{}[{}]", key, i), "must be a string");
      std::string c = *s;
      if (const auto al = kAliases.find(c); al != kAliases.end()) c = al->second;
      if (std::find(allowed.begin(), allowed.end(), c) == allowed.end())
        return fail(&el, fmt::format("{}[{}]", key, i),
                    fmt::format("= \"{}\" is not one of {}", *s, fmt::join(allowed, ", ")));
      if (std::find(v.begin(), v.end(), c) != v.end())
        return fail(&el, fmt::format("{}[{}]", key, i), fmt::format("repeats \"{}\"", c));
      v.push_back(c);
    }
    *out = std::move(v);
    return true;
  }

 private:
  const toml::table& t_;
  std::string where_;
  Errors& e_;
  std::vector<std::string> known_;
};

// Settings keys of [defaults] and [[matrix]]: applied over `s` (inherited values).
bool read_settings(Reader& r, Settings* s) {
  std::optional<int64_t> reps, warmup, spin, samples, block, copy, remote, remote_copy, remote_pair;
  std::optional<double> budget, duration;
  std::optional<std::string> pinning;
  constexpr int64_t kMaxCount = 1'000'000'000'000;
  if (!r.integer("repetitions", 1, 1000, &reps) || !r.integer("warmup", 0, kMaxCount, &warmup) ||
      !r.integer("spin_ns", 0, 1'000'000'000, &spin) ||
      !r.seconds("cell_budget_s", 0.001, 86400, &budget) ||
      !r.integer("samples", 1, kMaxCount, &samples) ||
      !r.integer("block_samples", 1, kMaxCount, &block) ||
      !r.integer("copy_samples", 1, kMaxCount, &copy) ||
      !r.integer("remote_samples", 1, kMaxCount, &remote) ||
      !r.integer("remote_copy_samples", 1, kMaxCount, &remote_copy) ||
      !r.integer("remote_pair_samples", 1, kMaxCount, &remote_pair) ||
      !r.seconds("duration_s", 0.001, 86400, &duration) ||
      !r.string("cross_node_pinning", &pinning))
    return false;
  const bool counted = samples || block || copy || remote || remote_copy || remote_pair;
  if (counted && duration) {
    const char* count_key = samples ? "samples" : block ? "block_samples" : copy ? "copy_samples"
                            : remote ? "remote_samples" : remote_copy ? "remote_copy_samples"
                                                                      : "remote_pair_samples";
    return r.fail(r.take("duration_s"), "duration_s",
                  fmt::format("and '{}' in one table: a loop runs for a sample count or for a "
                              "duration, not both", count_key));
  }
  if (pinning) {
    std::string p = *pinning;
    if (p == "cross-core") p = "cross";
    if (p == "same-core") p = "same";
    if (p == "unpinned") p = "none";
    if (p != "cross" && p != "same" && p != "none")
      return r.fail(r.take("cross_node_pinning"), "cross_node_pinning",
                    fmt::format("= \"{}\" is not one of cross, same, none", *pinning));
    s->cross_node_pinning = p;
  }
  if (reps) s->repetitions = int(*reps);
  if (warmup) s->warmup = uint64_t(*warmup);
  if (spin) s->spin_ns = uint32_t(*spin);
  if (budget) s->cell_budget_s = *budget;
  if (counted) s->duration_s = 0;  // this table asks for counts: an inherited duration ends here
  if (samples) s->samples = uint64_t(*samples);
  if (block) s->block_samples = uint64_t(*block);
  if (copy) s->copy_samples = uint64_t(*copy);
  if (remote) s->remote_samples = uint64_t(*remote);
  if (remote_copy) s->remote_copy_samples = uint64_t(*remote_copy);
  if (remote_pair) s->remote_pair_samples = uint64_t(*remote_pair);
  if (duration) s->duration_s = *duration;
  return true;
}

// sizes = [64, 4096, ...] or sizes = { from = 64, to = 1048576 } (from, 2 from, 4 from, ... <= to).
bool read_sizes(Reader& r, std::optional<std::vector<uint64_t>>* out) {
  const toml::node* n = r.take("sizes");
  if (n == nullptr) return true;
  const auto in_range = [&](const toml::node& el, const std::string& key, uint64_t* v) {
    const auto x = el.value_exact<int64_t>();
    if (!x) return r.fail(&el, key, "must be an integer number of bytes");
    if (*x < 1 || uint64_t(*x) > kMaxCopyBytes)
      return r.fail(&el, key, fmt::format("= {} is out of range 1..{} bytes", *x, kMaxCopyBytes));
    *v = uint64_t(*x);
    return true;
  };
  std::vector<uint64_t> v;
  if (const toml::array* a = n->as_array()) {
    if (a->empty()) return r.fail(n, "sizes", "is empty (leave it out for the default, 65536)");
    for (size_t i = 0; i < a->size(); ++i) {
      uint64_t x = 0;
      if (!in_range(*a->get(i), fmt::format("sizes[{}]", i), &x)) return false;
      v.push_back(x);
    }
  } else if (const toml::table* t = n->as_table()) {
    const toml::node* from = t->get("from");
    const toml::node* to = t->get("to");
    for (const auto& [k, el] : *t)
      if (k.str() != "from" && k.str() != "to")
        return r.fail(&el, fmt::format("sizes.{}", k.str()), "is not a key of a size sweep (from, to)");
    if (from == nullptr || to == nullptr)
      return r.fail(n, "sizes", "as a table needs both from and to: { from = 64, to = 1048576 }");
    uint64_t lo = 0, hi = 0;
    if (!in_range(*from, "sizes.from", &lo) || !in_range(*to, "sizes.to", &hi)) return false;
    if (lo > hi) return r.fail(n, "sizes", fmt::format("from = {} is larger than to = {}", lo, hi));
    for (uint64_t s = lo; s <= hi; s *= 2) v.push_back(s);
  } else {
    return r.fail(n, "sizes", "must be an array of byte counts or { from = A, to = B }");
  }
  *out = std::move(v);
  return true;
}

bool read_perturb(Reader& r, std::vector<int64_t>* out) {
  const toml::node* n = r.take("perturb");
  if (n == nullptr) return true;
  const toml::array* a = n->as_array();
  if (a == nullptr) return r.fail(n, "perturb", "must be an array of byte offsets like [-1, 1]");
  for (size_t i = 0; i < a->size(); ++i) {
    const toml::node& el = *a->get(i);
    const auto x = el.value_exact<int64_t>();
    if (!x) return r.fail(&el, fmt::format("perturb[{}]", i), "must be an integer (bytes)");
    if (*x < -kMaxPerturb || *x > kMaxPerturb)
      return r.fail(&el, fmt::format("perturb[{}]", i),
                    fmt::format("= {} is out of range {}..{} bytes", *x, -kMaxPerturb, kMaxPerturb));
    out->push_back(*x);
  }
  return true;
}

// key = [a, b, ...]: integers lo..hi (what: how the message names one), no repeats, in the given order.
bool read_int_list(Reader& r, const char* key, int64_t lo, int64_t hi, const char* what, const char* example,
                   std::vector<int>* out) {
  const toml::node* n = r.take(key);
  if (n == nullptr) return true;
  const toml::array* a = n->as_array();
  if (a == nullptr || a->empty()) return r.fail(n, key, fmt::format("must be a non-empty array of {} like {}", what, example));
  for (size_t i = 0; i < a->size(); ++i) {
    const toml::node& el = *a->get(i);
    const auto x = el.value_exact<int64_t>();
    const std::string k = fmt::format("{}[{}]", key, i);
    if (!x) return r.fail(&el, k, fmt::format("must be an integer ({})", what));
    if (*x < lo || *x > hi) return r.fail(&el, k, fmt::format("= {} is out of range {}..{}", *x, lo, hi));
    if (std::find(out->begin(), out->end(), int(*x)) != out->end())
      return r.fail(&el, k, fmt::format("repeats {}", *x));
    out->push_back(int(*x));
  }
  return true;
}

// pairs = [1, 2, 4, 8]: counts of concurrent pairs, each 1..measure::kMaxPairs, ascending.
bool read_pairs(Reader& r, std::vector<int>* out) {
  if (!read_int_list(r, "pairs", 1, measure::kMaxPairs, "concurrent pairs", "[1, 2, 4, 8]", out)) return false;
  std::sort(out->begin(), out->end());  // one pair first: the cell the others are compared with
  return true;
}

// dvsd_batch = [64, 1]: dvsd --batch values (its accepted range).
constexpr int64_t kMaxDvsdBatch = 4096;

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 48) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

bool read_matrix(Reader& r, const Settings& defaults, int index, MatrixSpec* m) {
  m->line = r.line();
  m->settings = defaults;
  std::optional<std::string> name;
  std::optional<std::vector<std::string>> transports, primitives, waits, placements, extras, paths, security;
  std::optional<std::vector<uint64_t>> sizes;
  std::vector<int64_t> perturb;
  if (!r.string("name", &name) || !r.names("transports", scenario_transports(), &transports) ||
      !r.names("primitives", kPrimitives, &primitives) || !r.names("waits", kWaits, &waits) ||
      !r.names("placements", kPlacements, &placements) || !read_sizes(r, &sizes) ||
      !read_perturb(r, &perturb) || !r.names("extra_baselines", kExtraBaselines, &extras) ||
      !r.names("remote_paths", kRemotePaths, &paths) || !r.names("link_security", kLinkSecurity, &security) ||
      !read_pairs(r, &m->pairs) ||
      !read_int_list(r, "dvsd_batch", 1, kMaxDvsdBatch, "dvsd --batch values", "[64, 1]", &m->dvsd_batch) ||
      !read_settings(r, &m->settings) || !r.finish())
    return false;
  m->name = name.value_or(fmt::format("matrix{}", index));
  if (!valid_name(m->name))
    return r.fail(r.take("name"), "name", fmt::format("= \"{}\" must be 1..48 characters of A-Z a-z 0-9 - _ .", m->name));
  m->transports = transports.value_or(std::vector<std::string>{std::string(cluster::kLocalTransport)});
  m->primitives = primitives.value_or(
      std::vector<std::string>{"send_receive", "sendrec_reply", "notify_receive", "rcvrqst_reply", "vcopy"});
  m->waits = waits.value_or(kWaits);
  m->extra_baselines = extras.value_or(std::vector<std::string>{});
  m->remote_paths = paths.value_or(std::vector<std::string>{"proxy"});
  m->link_security = security.value_or(std::vector<std::string>{"authenticated"});
  const bool local = contains(m->transports, std::string(cluster::kLocalTransport));
  const bool remote = std::any_of(m->transports.begin(), m->transports.end(), [](const std::string& t) { return t != cluster::kLocalTransport; });
  if (placements) {
    m->placements = *placements;
  } else {
    if (local) m->placements.push_back("cross-core");
    if (remote) m->placements.push_back("cross-node");
  }
  // Every transport needs a placement it can run in, and every placement a transport.
  const bool has_local_pl = contains(m->placements, "same-core") || contains(m->placements, "cross-core") ||
                            contains(m->placements, "unpinned");
  const bool has_node_pl = contains(m->placements, "cross-node");
  const toml::node* pl_node = r.take("placements");
  const toml::node* tr_node = r.take("transports");
  if (local && !has_local_pl)
    return r.fail(pl_node, "placements", "has no same-core, cross-core or unpinned, which transport \"local\" needs");
  if (remote && !has_node_pl)
    return r.fail(pl_node, "placements", "has no \"cross-node\", which every transport but \"local\" needs");
  if (has_node_pl && !remote)
    return r.fail(pl_node != nullptr ? pl_node : tr_node, "placements",
                  "has \"cross-node\" but transports has only \"local\"");
  if (has_local_pl && !local)
    return r.fail(pl_node, "placements", "has a same-core/cross-core/unpinned placement but transports has no \"local\"");
  if (!m->pairs.empty() && m->primitives != std::vector<std::string>{"sendrec_reply"})
    return r.fail(r.take("pairs"), "pairs",
                  "needs primitives = [\"sendrec_reply\"]: the concurrent pairs are sendrec <-> "
                  "receive/reply pairs");
  if (!m->dvsd_batch.empty() && !remote)
    return r.fail(r.take("dvsd_batch"), "dvsd_batch",
                  "needs a transport other than \"local\": it is the --batch of the two nodes of cross-node cells");
  // Sizes: each base, then base + every perturbation, ascending, each byte count once.
  const bool copies = contains(m->primitives, "vcopy") || contains(m->primitives, "vcopy_push") ||
                      std::any_of(m->extra_baselines.begin(), m->extra_baselines.end(),
                                  [](const std::string& b) { return b.size() > 7 && b.ends_with("_stream"); });
  if ((sizes || !perturb.empty()) && !copies)
    return r.fail(r.take(sizes ? "sizes" : "perturb"), sizes ? "sizes" : "perturb",
                  "is set but nothing in this matrix copies (no vcopy, vcopy_push or *_stream baseline)");
  std::set<uint64_t> seen;
  for (uint64_t base : sizes.value_or(std::vector<uint64_t>{65536})) {
    std::vector<int64_t> offsets = {0};
    offsets.insert(offsets.end(), perturb.begin(), perturb.end());
    for (int64_t off : offsets) {
      const int64_t b = int64_t(base) + off;
      if (b < 1 || uint64_t(b) > kMaxCopyBytes || !seen.insert(uint64_t(b)).second) continue;
      m->sizes.push_back({uint64_t(b), base, off});
    }
  }
  std::sort(m->sizes.begin(), m->sizes.end(),
            [](const SizePoint& a, const SizePoint& b) { return a.bytes < b.bytes; });
  return true;
}

}  // namespace

std::string parse_scenario_text(std::string_view text, const std::string& source, Scenario* out) {
  Errors e{source, ""};
  toml::table doc;
  try {
    doc = core::parse_toml(text, source);
  } catch (const toml::parse_error& err) {
    e.at(int(err.source().begin.line), fmt::format("not valid TOML: {}", err.description()));
    return e.first;
  }
  Scenario s;
  s.source = source;
  Reader top(doc, "the file", e);
  const toml::node* sc = top.take("scenario");
  const toml::node* df = top.take("defaults");
  const toml::node* mx = top.take("matrix");
  if (!top.finish()) return e.first;

  if (sc == nullptr || !sc->is_table()) {
    e.at(sc != nullptr ? line_of(*sc) : 1, "needs a [scenario] table with name = \"...\"");
    return e.first;
  }
  Reader st(*sc->as_table(), "[scenario]", e);
  std::optional<std::string> name, description;
  if (!st.string("name", &name) || !st.string("description", &description) || !st.finish())
    return e.first;
  if (!name) {
    e.at(st.line(), "[scenario]: 'name' is missing (name = \"...\")");
    return e.first;
  }
  if (!valid_name(*name)) {
    st.fail(st.take("name"), "name", fmt::format("= \"{}\" must be 1..48 characters of A-Z a-z 0-9 - _ .", *name));
    return e.first;
  }
  s.name = *name;
  s.description = description.value_or("");

  Settings defaults;
  if (df != nullptr) {
    if (!df->is_table()) {
      e.at(line_of(*df), "'defaults' must be a table: [defaults]");
      return e.first;
    }
    Reader dr(*df->as_table(), "[defaults]", e);
    if (!read_settings(dr, &defaults) || !dr.finish()) return e.first;
  }

  if (mx == nullptr) {
    e.at(line_of(*sc), "no [[matrix]] table: a scenario needs at least one");
    return e.first;
  }
  const toml::array* ma = mx->as_array();
  if (ma == nullptr || !ma->is_array_of_tables()) {
    e.at(line_of(*mx), "'matrix' must be an array of tables: [[matrix]]");
    return e.first;
  }
  std::map<std::string, int> names;
  for (size_t i = 0; i < ma->size(); ++i) {
    const toml::table& t = *ma->get(i)->as_table();
    const std::string label = t.get("name") != nullptr && t.get("name")->is_string()
                                  ? fmt::format("[[matrix]] \"{}\"", *t.get("name")->value_exact<std::string>())
                                  : fmt::format("[[matrix]] #{}", i + 1);
    Reader mr(t, label, e);
    MatrixSpec m;
    if (!read_matrix(mr, defaults, int(i + 1), &m)) return e.first;
    if (const auto it = names.find(m.name); it != names.end()) {
      e.at(m.line, fmt::format("{}: name \"{}\" is taken by the [[matrix]] at line {}", label, m.name, it->second));
      return e.first;
    }
    names[m.name] = m.line;
    s.matrices.push_back(std::move(m));
  }
  *out = std::move(s);
  return "";
}

std::string parse_scenario_file(const std::string& path, Scenario* out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return cli::one_line(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  std::string text;
  char buf[8192];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  return parse_scenario_text(text, path, out);
}

void apply_quick(Scenario* s) {
  for (auto& m : s->matrices) {
    Settings& t = m.settings;
    t.samples = std::min(t.samples, cli::kQuickIterations);
    t.block_samples = std::min(t.block_samples, cli::kQuickBlockIterations);
    t.copy_samples = std::min(t.copy_samples, cli::kQuickCopyIterations);
    t.remote_samples = std::min(t.remote_samples, cli::kQuickRemoteIterations);
    t.remote_copy_samples = std::min(t.remote_copy_samples, cli::kQuickRemoteCopyIterations);
    t.remote_pair_samples = std::min(t.remote_pair_samples, cli::kQuickRemotePairIterations);
    if (t.duration_s > 0) t.duration_s = std::min(t.duration_s, 0.2);
    t.cell_budget_s = std::min(t.cell_budget_s, 5.0);
  }
}

}  // namespace dvs::bench
