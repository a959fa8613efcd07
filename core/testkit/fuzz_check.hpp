// Shared by the libFuzzer targets (docs/FUZZING.md): a violated invariant is a finding, so it
// stops the run with the condition and where it failed; libFuzzer then keeps the input as
// crash-<sha1> (the reproducer). Active in every build that compiles a target.
#ifndef DVS_CORE_TESTING_FUZZ_CHECK_HPP
#define DVS_CORE_TESTING_FUZZ_CHECK_HPP

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define DVS_FUZZ_CHECK(cond)                                                                  \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      std::fprintf(stderr, "%s:%d: fuzz invariant violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

namespace dvs::fuzz {

// The fuzzer's input as text (any bytes, NULs included).
inline std::string_view as_text(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace dvs::fuzz

#endif
