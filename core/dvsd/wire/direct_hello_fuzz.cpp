// libFuzzer target: parse_direct_hello, the HELLO payload by which a process (not a node) dials a
// node's listener on the direct path (docs/REMOTE_PATHS.md). The payload comes off the network
// before anything else is known about the dialer. Seeds: fuzz-corpus/dvs_direct_hello_fuzz/.
//
// Invariants: a payload that parses names a DC in range and a plausible endpoint, and is exactly
// the text direct_hello_payload() writes for them (one spelling: no sign, padding or leading
// zeros); and every (dcid, endpoint) direct_hello_payload() can write parses back to itself.
#include <cstdint>
#include <cstring>
#include <string>

#include "core/dvsd/wire/wire.hpp"
#include "core/testkit/fuzz_check.hpp"

using namespace dvs::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = dvs::fuzz::as_text(data, size);
  int dcid = -1;
  int32_t ep = 0;
  if (parse_direct_hello(text, &dcid, &ep)) {
    DVS_FUZZ_CHECK(dcid >= 0 && dcid < static_cast<int>(kNrDcs));
    DVS_FUZZ_CHECK(plausible_endpoint(ep));
    DVS_FUZZ_CHECK(direct_hello_payload(dcid, ep) == text);
  }
  // The other direction, from the first bytes: a DC id and an endpoint.
  if (size >= 5) {
    const int d = data[0] % static_cast<int>(kNrDcs);
    int32_t e = 0;
    std::memcpy(&e, data + 1, sizeof e);
    if (plausible_endpoint(e)) {
      int d2 = -1;
      int32_t e2 = 0;
      DVS_FUZZ_CHECK(parse_direct_hello(direct_hello_payload(d, e), &d2, &e2));
      DVS_FUZZ_CHECK(d2 == d && e2 == e);
    }
  }
  return 0;
}
