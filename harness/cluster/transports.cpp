// See transports.hpp.
#include "harness/cluster/transports.hpp"

#include "transports/registry.hpp"

namespace dvs::cluster {

std::vector<std::string> node_transports() {
  transport::register_builtin_transports();
  std::vector<std::string> out;
  for (const transport::Transport* t : transport::all_transports()) out.emplace_back(t->scheme());
  return out;
}

const transport::HarnessTraits* node_transport_traits(std::string_view scheme) {
  transport::register_builtin_transports();
  return transport::find_harness_traits(scheme);
}

std::string node_transport_choices(bool quoted) {
  const auto names = node_transports();
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += quoted ? "\"" + names[i] + "\"" : names[i];
  }
  return out;
}

}  // namespace dvs::cluster
