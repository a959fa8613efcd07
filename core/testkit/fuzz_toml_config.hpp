// Force-included before toml++ in DVS_FUZZ builds (cmake/fuzz.cmake), where toml++ is compiled
// header-only (instrumented: coverage, ASan, UBSan) instead of linked as Debian's library.
//
// toml++'s own assertions stay off, as in the library dvs links (built with NDEBUG): toml++ 3.3.0
// breaks some of its debug-only preconditions on bad input and then reports the input as invalid,
// which is what the fuzz targets must see (e.g. "[\0", "[[[1]]]": parse_key()'s precondition,
// marzer/tomlplusplus#301). NDEBUG itself is not the way: with clang it turns them into
// __builtin_assume, undefined behaviour when broken. ASan and UBSan still check toml++ in full.
#ifndef DVS_CORE_TESTING_FUZZ_TOML_CONFIG_HPP
#define DVS_CORE_TESTING_FUZZ_TOML_CONFIG_HPP

#define TOML_ASSERT(expr) static_cast<void>(0)

#endif
