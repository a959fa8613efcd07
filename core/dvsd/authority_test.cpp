// authority.hpp: the privilege decision on what the kernel reported of a request's sender, the
// /proc/<pid>/status parser it reads, and --admin-group's group lookup. The decision is pure and
// tried case by case; requester_is_privileged once on this very process.
#include "core/dvsd/authority.hpp"

#include <gtest/gtest.h>
#include <grp.h>
#include <linux/capability.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace {
using namespace dvs::dvsd;

constexpr const char* kStatus =
    "Name:\tclient\nUmask:\t0022\nPid:\t4242\n"
    "Uid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\nFDSize:\t64\nGroups:\t100 2000 3000 \n"
    "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n";

ProcStatus status_of(uid_t uid, gid_t gid, uint64_t caps = 0, std::vector<gid_t> groups = {}) {
  ProcStatus st;
  std::fill(st.uid, st.uid + 4, uid);
  std::fill(st.gid, st.gid + 4, gid);
  st.cap_eff = caps;
  st.groups = std::move(groups);
  return st;
}

AuthorityPolicy policy(std::optional<gid_t> admin = std::nullopt) {
  AuthorityPolicy p;
  p.dvsd_uid = 0;
  p.admin_gid = admin;
  return p;
}

constexpr uint64_t kSysAdmin = uint64_t{1} << CAP_SYS_ADMIN;

TEST(ProcStatusParser, ReadsTheFieldsAuthorityNeeds) {
  auto st = parse_proc_status(kStatus);
  ASSERT_TRUE(st);
  EXPECT_EQ(1000u, st->uid[0]);
  EXPECT_EQ(1000u, st->uid[3]);
  EXPECT_EQ(100u, st->gid[1]);
  EXPECT_EQ((std::vector<gid_t>{100, 2000, 3000}), st->groups);
  EXPECT_EQ(0u, st->cap_eff);
  std::string with_cap = kStatus;
  with_cap.replace(with_cap.find("CapEff:\t0000000000000000"), 24, "CapEff:\t000001ffffffffff");
  EXPECT_EQ(0x1ffffffffffu, parse_proc_status(with_cap)->cap_eff);
}

TEST(ProcStatusParser, ReadsThisProcesssOwnStatus) {
  std::ifstream f("/proc/self/status");
  std::stringstream text;
  text << f.rdbuf();
  auto st = parse_proc_status(text.str());
  ASSERT_TRUE(st) << text.str();
  EXPECT_EQ(getuid(), st->uid[0]);
  EXPECT_EQ(geteuid(), st->uid[1]);
  EXPECT_EQ(getgid(), st->gid[0]);
}

TEST(ProcStatusParser, BelievesNothingOfAMalformedStatus) {
  auto without = [](const std::string& field) {
    std::string s = kStatus;
    const size_t at = s.find(field + ":");
    s.erase(at, s.find('\n', at) + 1 - at);
    return s;
  };
  for (const char* f : {"Uid", "Gid", "Groups", "CapEff"}) EXPECT_FALSE(parse_proc_status(without(f))) << f;
  auto with = [](const std::string& from, const std::string& to) {
    std::string s = kStatus;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  EXPECT_FALSE(parse_proc_status(with("Uid:\t1000\t1000\t1000\t1000", "Uid:\t1000\t1000\t1000")));
  EXPECT_FALSE(parse_proc_status(with("Uid:\t1000\t1000", "Uid:\t-1\t1000")));
  EXPECT_FALSE(parse_proc_status(with("Gid:\t100", "Gid:\t99999999999")));
  EXPECT_FALSE(parse_proc_status(with("Groups:\t100", "Groups:\t1x0")));
  EXPECT_FALSE(parse_proc_status(with("CapEff:\t0000000000000000", "CapEff:\t00000000000000zz")));
  EXPECT_FALSE(parse_proc_status(""));
}

TEST(Privilege, RootAndDvsdsOwnUserFromTheKernelsRecord) {
  EXPECT_TRUE(is_privileged(ucred{42, 0, 0}, std::nullopt, false, policy()));
  AuthorityPolicy p = policy();
  p.dvsd_uid = 1000;
  EXPECT_TRUE(is_privileged(ucred{42, 1000, 100}, std::nullopt, false, p));
  EXPECT_FALSE(is_privileged(ucred{42, 1001, 100}, std::nullopt, false, p));
  EXPECT_TRUE(is_privileged(ucred{42, 0, 0}, status_of(1000, 100), false, policy()));  // the record decides
}

TEST(Privilege, NothingWithoutAKernelRecordOfTheSender) {
  EXPECT_FALSE(is_privileged(ucred{0, 0, 0}, status_of(0, 0, ~uint64_t{0}), true, policy()));
}

TEST(Privilege, OverflowIdsGrantNothing) {
  AuthorityPolicy p = policy(65534);
  p.dvsd_uid = 65534;  // dvsd running as the overflow uid: unmapped senders read as it
  EXPECT_FALSE(is_privileged(ucred{42, 65534, 65534}, status_of(65534, 65534, kSysAdmin, {65534}), true, p));
}

TEST(Privilege, CapSysAdminCountsOnlyInDvsdsUserNamespace) {
  const ucred cred{42, 1000, 100};
  EXPECT_TRUE(is_privileged(cred, status_of(1000, 100, kSysAdmin), true, policy()));
  EXPECT_FALSE(is_privileged(cred, status_of(1000, 100, kSysAdmin), false, policy()));
  EXPECT_FALSE(is_privileged(cred, status_of(1000, 100, ~kSysAdmin), true, policy()));
  EXPECT_FALSE(is_privileged(cred, std::nullopt, true, policy()));
}

TEST(Privilege, AdminGroupPrimaryFromTheRecordSupplementaryFromTheStatus) {
  EXPECT_TRUE(is_privileged(ucred{42, 1000, 777}, std::nullopt, false, policy(777)));
  EXPECT_TRUE(is_privileged(ucred{42, 1000, 100}, status_of(1000, 100, 0, {5, 777}), false, policy(777)));
  EXPECT_FALSE(is_privileged(ucred{42, 1000, 100}, status_of(1000, 100, 0, {5, 778}), false, policy(777)));
  EXPECT_FALSE(is_privileged(ucred{42, 1000, 100}, status_of(1000, 100, 0, {777}), false, policy()));
}

TEST(Privilege, AStatusOfAnotherIdentityIsNotBelieved) {
  // The process changed uid or gid since it sent the request (or its pid is another's now).
  const ucred cred{42, 1000, 100};
  for (ProcStatus st : {status_of(0, 100, kSysAdmin, {777}), status_of(1000, 0, kSysAdmin, {777})})
    EXPECT_FALSE(is_privileged(cred, st, true, policy(777)));
  ProcStatus setuid_root = status_of(1000, 100, kSysAdmin, {777});
  setuid_root.uid[1] = 0;  // effective uid not the real one: a set-user-ID program runs
  EXPECT_FALSE(is_privileged(cred, setuid_root, true, policy(777)));
}

TEST(Privilege, ThisProcessAsDvsdWouldJudgeIt) {
  const ucred me{getpid(), getuid(), getgid()};
  // dvsd's own user is privileged: this process is the "dvsd" of the policy.
  EXPECT_TRUE(requester_is_privileged(me, policy_for_this_process(std::nullopt)));
  AuthorityPolicy other = policy_for_this_process(std::nullopt);
  other.dvsd_uid = getuid() + 1;
  const bool expected = getuid() == 0 || (parse_proc_status([] {
                                            std::ifstream f("/proc/self/status");
                                            std::stringstream s;
                                            s << f.rdbuf();
                                            return s.str();
                                          }())->cap_eff & kSysAdmin);
  EXPECT_EQ(expected, requester_is_privileged(me, other));
  EXPECT_FALSE(requester_is_privileged(ucred{0, getuid(), getgid()}, other));
}

TEST(AdminGroup, ByNumberOrName) {
  gid_t g = 1;
  EXPECT_EQ("", resolve_group("4242", &g));
  EXPECT_EQ(4242u, g);
  if (const group* root = getgrgid(0)) {
    EXPECT_EQ("", resolve_group(root->gr_name, &g));
    EXPECT_EQ(0u, g);
  }
  EXPECT_NE(std::string::npos, resolve_group("no-such-group-here", &g).find("no-such-group-here"));
  EXPECT_NE("", resolve_group("", &g));
  EXPECT_NE("", resolve_group("-1", &g));
}

}  // namespace
