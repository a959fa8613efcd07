// What the harness (dvs cluster, dvs bench, dvs transports, the figures) needs to know of a
// transport besides the seam itself. Each transport fills one in its own folder and registers it
// with the transport (registry.hpp); the harness keeps no list of schemes of its own.
#pragma once

#include <string>

namespace dvs::transport {

// Where the harness places a cluster node's listener; HarnessTraits::listen_uri makes the URI.
struct ListenPlace {
  std::string host;   // the node's address: its host, or its network namespace's address
  unsigned port = 0;  // the node's port; 0: a free one (the listener's uri() names the one taken)
  std::string name;   // unique to this node in this run, for transports whose listeners have names
};

struct HarnessTraits {
  // The URI cluster node `at` listens on (peers with lower ids dial it). Never null.
  std::string (*listen_uri)(const ListenPlace& at) = nullptr;
  // Whether a link can join two network namespaces (dvs cluster --netns, the web workload's).
  bool crosses_network_namespaces = false;
  // The raw baselines (workloads/baselines, by their name in the bench planner) a cross-node dvs
  // cell over this transport is compared with: message ping-pong and stream (copy) cells. "": no
  // raw mechanism links two nodes the way this transport does (such cells get no ratio).
  std::string pingpong_baseline;
  std::string stream_baseline;
  // The network a cross-node cell over it crosses, for cells and their baselines alike (the ratio
  // rule compares only cells on the same network), e.g. "tcp over loopback".
  std::string network;
  // "" if any Linux host has what it needs; else what of the VM lab (harness/lab) it needs and
  // why, e.g. "dvs lab --tipc: the kernel's AF_TIPC" (`dvs transports` lists it; probe() says
  // whether this machine has it).
  std::string lab;
  // How tables and figures name it ("TCP"); they list transports in registration order
  // (DVS_TRANSPORTS), after the harness's "local".
  std::string label;
};

}  // namespace dvs::transport
