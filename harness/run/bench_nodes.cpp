// BenchNodes: see nodes.hpp.
#include "harness/run/bench_nodes.hpp"

#include <fmt/format.h>

namespace dvs::bench {

namespace {

std::vector<std::string> copylen_args(uint64_t bytes) {
  if (bytes <= kDefaultCopylen) return {};
  return {"--dc", fmt::format("0,copylen={}", bytes)};
}

}  // namespace

BenchNodes::BenchNodes(std::string bin, std::string run_dir, std::string skip_reason)
    : bin_(std::move(bin)), dir_(std::move(run_dir)), skip_(std::move(skip_reason)), pair_(bin_, dir_) {}

void BenchNodes::set_copylen(uint64_t local_bytes, uint64_t remote_bytes) {
  const auto a = copylen_args(local_bytes);
  local_args_ = a.empty() ? "" : a[1];
  cli::NodePairOptions d;
  d.copylen = remote_bytes > kDefaultCopylen ? remote_bytes : 0;
  pair_.set_defaults(d);
}

std::string BenchNodes::local(std::string* socket) {
  if (!skip_.empty()) return skip_;
  pair_.stop();
  if (!local_started_) {
    local_started_ = true;
    std::vector<std::string> args;
    if (!local_args_.empty()) args = {"--dc", local_args_};
    std::string err;
    if (!local_.start(bin_, 0, dir_ + "/dvsd.log", args, &err)) local_error_ = "dvsd did not start: " + err;
  }
  if (!local_error_.empty()) return local_error_;
  *socket = local_.socket_path();
  return "";
}

std::string BenchNodes::remote(const std::string& transport, const std::string& path, const std::string& security,
                               int batch) {
  if (!skip_.empty()) return skip_;
  return pair_.ensure(transport, path, security, batch);
}

void BenchNodes::stop() {
  local_.stop();
  pair_.stop();
}

nlohmann::json BenchNodes::describe() const {
  return {{"binary", bin_},
          {"error", skip_.empty() ? local_error_ : skip_},
          {"local", local_started_ ? fmt::format("{} --node 0 {}(log dvsd.log)", bin_,
                                                 local_args_.empty() ? "" : "--dc " + local_args_ + " ")
                                   : std::string()},
          {"pairs_started", pair_.lines()}};
}

}  // namespace dvs::bench
