#include "workloads/web/file_cache.hpp"

#include <gtest/gtest.h>

#include <string>

namespace dvs::workloads::web {
namespace {

constexpr int64_t kSec = 1'000'000'000;

TEST(FileCacheTest, AHitReturnsTheWholeFileUntilTheTtl) {
  FileCache c(1 << 20, 4096, kSec);
  EXPECT_EQ(c.find("/a", 0), nullptr);
  c.insert("/a", "hello", 5, 100);
  const FileCache::Entry* e = c.find("/a", 100 + kSec - 1);
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->large);
  EXPECT_EQ(e->data, "hello");
  EXPECT_EQ(c.find("/a", 100 + kSec), nullptr);  // expired: dropped
  EXPECT_EQ(c.entries(), 0u);
  EXPECT_EQ(c.bytes(), 0u);
}

TEST(FileCacheTest, AClockGoingBackwardsDoesNotKeepAnEntryForever) {
  FileCache c(1 << 20, 4096, kSec);
  c.insert("/a", "x", 1, 5 * kSec);
  EXPECT_EQ(c.find("/a", 1 * kSec), nullptr);
}

TEST(FileCacheTest, ARefetchReplacesTheOldContents) {
  FileCache c(1 << 20, 4096, kSec);
  c.insert("/a", "old", 3, 0);
  c.insert("/a", "newer", 5, 10);
  ASSERT_NE(c.find("/a", 20), nullptr);
  EXPECT_EQ(c.find("/a", 20)->data, "newer");
  EXPECT_EQ(c.entries(), 1u);
  EXPECT_EQ(c.bytes(), 5u);
}

TEST(FileCacheTest, FilesAboveMaxFileAreNotCachedButCanBeMarkedLarge) {
  FileCache c(1 << 20, 4, kSec);
  c.insert("/big", "12345", 5, 0);
  EXPECT_EQ(c.find("/big", 1), nullptr);
  c.mark_large("/big", 0);
  const FileCache::Entry* e = c.find("/big", 1);
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->large);
  EXPECT_TRUE(e->data.empty());
  EXPECT_EQ(c.find("/big", kSec), nullptr);  // the mark expires like data does
}

TEST(FileCacheTest, TheLeastRecentlyUsedFilesGoFirstWhenFull) {
  FileCache c(10, 10, 100 * kSec);
  c.insert("/a", "aaaa", 4, 0);
  c.insert("/b", "bbbb", 4, 0);
  ASSERT_NE(c.find("/a", 1), nullptr);  // /a is now the most recently used
  c.insert("/c", "cccc", 4, 2);         // 12 > 10: /b goes
  EXPECT_EQ(c.find("/b", 3), nullptr);
  EXPECT_NE(c.find("/a", 3), nullptr);
  EXPECT_NE(c.find("/c", 3), nullptr);
  EXPECT_EQ(c.bytes(), 8u);
  EXPECT_LE(c.bytes(), 10u);
}

TEST(FileCacheTest, CapacityZeroTurnsItOff) {
  FileCache c(0, 4096, kSec);
  EXPECT_FALSE(c.enabled());
  c.insert("/a", "x", 1, 0);
  c.mark_large("/b", 0);
  EXPECT_EQ(c.find("/a", 1), nullptr);
  EXPECT_EQ(c.find("/b", 1), nullptr);
  EXPECT_EQ(c.entries(), 0u);
}

TEST(FileCacheTest, AnEmptyFileIsCached) {
  FileCache c(16, 16, kSec);
  c.insert("/empty", "", 0, 0);
  const FileCache::Entry* e = c.find("/empty", 1);
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->large);
  EXPECT_TRUE(e->data.empty());
}

}  // namespace
}  // namespace dvs::workloads::web
