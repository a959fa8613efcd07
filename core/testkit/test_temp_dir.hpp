// For the harness's end-to-end tests: a fresh directory under $TMPDIR named <tag>-<pid>, removed
// with everything in it when the object goes.
#ifndef DVS_HARNESS_CLI_TEST_TEMP_DIR_HPP
#define DVS_HARNESS_CLI_TEST_TEMP_DIR_HPP

#include <filesystem>
#include <string>
#include <unistd.h>

namespace dvs::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& tag)
      : path_(std::filesystem::temp_directory_path() / (tag + "-" + std::to_string(getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace dvs::testing

#endif
