#include "workloads/web/mapped_files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

namespace dvs::workloads::web {
namespace {

struct MappedFilesTest : ::testing::Test {
  std::string root;
  void SetUp() override {
    char tmpl[] = "/tmp/dvs-mapped-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(root); }
  void write(const std::string& name, const std::string& bytes) {
    std::ofstream(root + name, std::ios::binary | std::ios::trunc) << bytes;
  }
  std::string view(MappedFiles& m, const std::string& path, uint64_t off, uint32_t len, ReadReply* r) {
    const void* data = reinterpret_cast<const void*>(1);
    *r = m.view(root, path, off, len, &data);
    if (r->bytes == 0) {
      EXPECT_EQ(data, nullptr);
      return "";
    }
    return std::string(static_cast<const char*>(data), r->bytes);
  }
};

TEST_F(MappedFilesTest, ViewsTheRangeAsPreadWould) {
  write("/a.txt", "0123456789");
  MappedFiles m;
  ReadReply r{};
  EXPECT_EQ(view(m, "/a.txt", 2, 5, &r), "23456");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.size, 10u);
  EXPECT_EQ(view(m, "/a.txt", 8, 100, &r), "89");  // clipped at the end
  EXPECT_EQ(view(m, "/a.txt", 10, 4, &r), "");     // at the end: nothing, size still told
  EXPECT_EQ(r.size, 10u);
  EXPECT_EQ(view(m, "/a.txt", 0, 0, &r), "");      // len 0: the size only
  EXPECT_EQ(r.size, 10u);
  EXPECT_EQ(m.mapped(), 1u);
}

TEST_F(MappedFilesTest, AChangedFileIsMappedAgain) {
  write("/a.txt", "old contents");
  MappedFiles m;
  ReadReply r{};
  EXPECT_EQ(view(m, "/a.txt", 0, 100, &r), "old contents");
  // A new file under the same name (another inode), then one rewritten in place with a new size.
  std::filesystem::remove(root + "/a.txt");
  write("/a.txt", "new");
  EXPECT_EQ(view(m, "/a.txt", 0, 100, &r), "new");
  write("/a.txt", "newer, longer");
  EXPECT_EQ(view(m, "/a.txt", 0, 100, &r), "newer, longer");
  EXPECT_EQ(r.size, 13u);
  EXPECT_EQ(m.mapped(), 1u);  // the stale mappings are gone
}

TEST_F(MappedFilesTest, BadPathsAndFilesGetErrnoStatuses) {
  std::filesystem::create_directory(root + "/dir");
  write("/empty", "");
  MappedFiles m;
  ReadReply r{};
  view(m, "/missing", 0, 10, &r);
  EXPECT_EQ(r.status, -ENOENT);
  view(m, "/dir", 0, 10, &r);
  EXPECT_EQ(r.status, -EISDIR);
  for (const char* p : {"", "relative", "/dir/../empty", "/dir/.."}) {
    view(m, p, 0, 10, &r);
    EXPECT_EQ(r.status, -EACCES) << p;
  }
  EXPECT_EQ(view(m, "/empty", 0, 10, &r), "");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.size, 0u);
}

TEST_F(MappedFilesTest, KeepsAtMostMaxFilesLeastRecentlyUsedFirstOut) {
  for (const char* n : {"/1", "/2", "/3"}) write(n, n);
  MappedFiles m(2);
  ReadReply r{};
  EXPECT_EQ(view(m, "/1", 0, 9, &r), "/1");
  EXPECT_EQ(view(m, "/2", 0, 9, &r), "/2");
  EXPECT_EQ(view(m, "/1", 0, 9, &r), "/1");  // /2 is now the least recently used
  EXPECT_EQ(view(m, "/3", 0, 9, &r), "/3");
  EXPECT_EQ(m.mapped(), 2u);
  EXPECT_EQ(view(m, "/2", 0, 9, &r), "/2");  // mapped again
  EXPECT_EQ(m.mapped(), 2u);
}

}  // namespace
}  // namespace dvs::workloads::web
