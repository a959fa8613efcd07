// dvs_control_record_seeds DIR: writes the seed corpus of dvs_control_record_fuzz into DIR
// (control_record_seeds.hpp), one file per seed, replacing files of the same names.
#include <cstdio>
#include <fstream>
#include <string>

#include "core/dvsd/control_record_seeds.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  for (const auto& [name, bytes] : dvs::dvsd::control_record_seeds()) {
    const std::string path = std::string(argv[1]) + "/" + name;
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) {
      std::fprintf(stderr, "%s: cannot write %s\n", argv[0], path.c_str());
      return 1;
    }
  }
  return 0;
}
