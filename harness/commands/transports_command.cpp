// `dvs transports`: see transports_command.hpp.
#include "harness/commands/transports_command.hpp"

#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "harness/cluster/transports.hpp"
#include "harness/commands/common_options.hpp"
#include "transports/registry.hpp"

namespace dvs::cli {

namespace {

nlohmann::json transports_json() {
  nlohmann::json list = nlohmann::json::array();
  int order = 0;
  for (const std::string& s : cluster::node_transports()) {
    const transport::HarnessTraits& t = *cluster::node_transport_traits(s);
    const transport::Availability av = transport::find_transport(s)->probe();
    // Where node 1 of a cluster named "NAME" (run "RUN") on 127.0.0.1:7001 listens.
    const std::string example = t.listen_uri({"127.0.0.1", 7001, "NAME-RUN-n1"});
    list.push_back({{"scheme", s},
                    {"label", t.label},
                    {"order", ++order},
                    {"network", t.network},
                    {"pingpong_baseline", t.pingpong_baseline},
                    {"stream_baseline", t.stream_baseline},
                    {"crosses_network_namespaces", t.crosses_network_namespaces},
                    {"lab", t.lab},
                    {"available", av.available},
                    {"unavailable_reason", av.available ? "" : av.reason},
                    {"listen_uri_example", example}});
  }
  return {{"local", cluster::kLocalTransport}, {"transports", list}};
}

void print_table(const nlohmann::json& doc) {
  fmt::print("{:<6} {:<14} {:<40} {:<24} {:<48} {}\n", "scheme", "label", "network (cross-node cells)",
             "raw baselines", "needs the VM lab", "usable here");
  fmt::print("{:<6} {:<14} {:<40} {:<24} {:<48} {}\n", doc["local"].get<std::string>(), "one node",
             "none: both endpoints on one dvsd node", "-", "-", "yes");
  for (const auto& t : doc["transports"]) {
    const std::string ping = t["pingpong_baseline"], stream = t["stream_baseline"];
    const std::string raw = ping.empty() && stream.empty() ? "none (no ratio)" : ping + ", " + stream;
    const std::string lab = t["lab"];
    const std::string here = t["available"].get<bool>() ? "yes" : "no: " + t["unavailable_reason"].get<std::string>();
    fmt::print("{:<6} {:<14} {:<40} {:<24} {:<48} {}\n", t["scheme"].get<std::string>(), t["label"].get<std::string>(),
               t["network"].get<std::string>(), raw, lab.empty() ? "-" : lab, here);
  }
  fmt::print("cluster listen URIs (node 1 on 127.0.0.1:7001):");
  for (const auto& t : doc["transports"]) fmt::print(" {}", t["listen_uri_example"].get<std::string>());
  fmt::print("\n");
}

}  // namespace

Command make_transports_command() {
  auto json = std::make_shared<bool>(false);
  Command c;
  c.name = "transports";
  c.help = "List the registered transports and what dvs cluster / dvs bench know of them";
  c.add_options = [json](CLI::App* cmd) { add_json_option(cmd, json.get()); };
  c.run = [json] {
    const nlohmann::json doc = transports_json();
    if (*json)
      fmt::print("{}\n", doc.dump(2));
    else
      print_table(doc);
    return 0;
  };
  return c;
}

}  // namespace dvs::cli
