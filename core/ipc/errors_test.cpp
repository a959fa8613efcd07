// dvs_errname / dvs_strerror (no dvsd needed).
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>

#include "dvs/errors.h"

namespace {

struct Named {
  int code;
  const char* name;
};

TEST(Errors, CodesHaveTheOriginalValues) {
  EXPECT_EQ(-61, EDVSTIMEDOUT);
  EXPECT_EQ(-101, EDVSLOCKED);
  EXPECT_EQ(-108, EDVSSRCDIED);
  EXPECT_EQ(-109, EDVSDSTDIED);
  EXPECT_EQ(-110, EDVSTRAPDENIED);
  EXPECT_EQ(-306, EDVSENDPOINT);
  EXPECT_EQ(-310, EDVSNOTBIND);
  EXPECT_EQ(-318, EDVSDVSINIT);
  EXPECT_EQ(-324, EDVSPROCSTS);
  EXPECT_EQ(-337, EDVSSLOTUSED);
  EXPECT_EQ(-348, EDVSWOKENUP);
}

TEST(Errors, ErrnameOfKnownCodes) {
  const Named known[] = {
      {EDVSTIMEDOUT, "EDVSTIMEDOUT"},   {EDVSLOCKED, "EDVSLOCKED"},
      {EDVSDSTDIED, "EDVSDSTDIED"},     {EDVSSRCDIED, "EDVSSRCDIED"},
      {EDVSENDPOINT, "EDVSENDPOINT"},   {EDVSNOTBIND, "EDVSNOTBIND"},
      {EDVSDVSINIT, "EDVSDVSINIT"},     {EDVSPROCSTS, "EDVSPROCSTS"},
      {EDVSSLOTUSED, "EDVSSLOTUSED"},   {EDVSBADPROC, "EDVSBADPROC"},
      {EDVSBADDCID, "EDVSBADDCID"},     {EDVSTRAPDENIED, "EDVSTRAPDENIED"},
      {EDVSWOKENUP, "EDVSWOKENUP"},     {EDVSPRIVILEGES, "EDVSPRIVILEGES"},
      {EDVSRANGE, "EDVSRANGE"},         {EDVSPERM, "EDVSPERM"},
      {EDVSNOREPLICA, "EDVSNOREPLICA"}, {EDVSRESTARTSYS, "EDVSRESTARTSYS"},
  };
  for (const auto& k : known) {
    EXPECT_STREQ(k.name, dvs_errname(k.code)) << "code " << k.code;
  }
}

TEST(Errors, StrerrorOfKnownCodesIsADistinctLine) {
  const int codes[] = {EDVSTIMEDOUT, EDVSLOCKED, EDVSDSTDIED, EDVSENDPOINT, EDVSNOTBIND,
                       EDVSDVSINIT,  EDVSSLOTUSED, EDVSWOKENUP, EDVSPROCSTS};
  std::set<std::string> seen;
  const std::string unknown = dvs_strerror(-12345);
  for (int c : codes) {
    const char* s = dvs_strerror(c);
    ASSERT_NE(nullptr, s);
    std::string str(s);
    EXPECT_FALSE(str.empty()) << c;
    EXPECT_EQ(std::string::npos, str.find('\n')) << "one line: " << str;
    EXPECT_NE(unknown, str) << "code " << c << " has a real description";
    EXPECT_TRUE(seen.insert(str).second) << "duplicate description '" << str << "'";
  }
  EXPECT_NE(std::string::npos, std::string(dvs_strerror(EDVSTIMEDOUT)).find("timed out"));
}

TEST(Errors, UnknownCode) {
  for (int c : {-12345, -299, 1, 42, -1000000}) {
    ASSERT_NE(nullptr, dvs_errname(c));
    ASSERT_NE(nullptr, dvs_strerror(c));
    EXPECT_STREQ("EDVS?", dvs_errname(c)) << c;
    EXPECT_GT(std::strlen(dvs_strerror(c)), 0u);
  }
}

TEST(Errors, StaticStorage) {
  // Same pointer twice: static storage, not a per-call buffer.
  EXPECT_EQ(dvs_errname(EDVSLOCKED), dvs_errname(EDVSLOCKED));
  EXPECT_EQ(dvs_strerror(EDVSLOCKED), dvs_strerror(EDVSLOCKED));
}

}  // namespace
