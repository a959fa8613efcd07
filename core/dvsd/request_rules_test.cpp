// request_rules.hpp: which requests dvsd serves and who may make them, op by op; and the seed
// corpus of dvs_control_record_fuzz is what dvs_control_record_seeds writes.
#include "core/dvsd/request_rules.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/dvsd/control_record_seeds.hpp"

namespace {
using namespace dvs::dvsd;
using dvs::core::Op;
using dvs::core::Request;

Request request(Op op, int dcid = 0) {
  Request rq;
  rq.op = static_cast<uint32_t>(op);
  rq.dcid = dcid;
  return rq;
}

Request bind(int p_nr) {
  Request rq = request(Op::Bind);
  rq.p_nr = p_nr;
  return rq;
}

const dvs::core::DcGeometry kDc{};  // 221 procs, 35 tasks, 64 system slots

TEST(RequestRules, OnlyOurMagicAndVersionAreServed) {
  Request rq;
  EXPECT_TRUE(well_formed(rq));
  rq.magic ^= 1;
  EXPECT_FALSE(well_formed(rq));
  rq = Request{};
  rq.version = dvs::core::kControlVersion + 1;
  EXPECT_FALSE(well_formed(rq));
}

TEST(RequestRules, ManagementNeedsAuthority) {
  for (Op op : {Op::LclBind, Op::RmtBind, Op::AddNode, Op::DelNode, Op::SetPriv}) {
    EXPECT_EQ(Need::Admin, authority_needed(request(op), &kDc)) << static_cast<int>(op);
    EXPECT_EQ(Need::Admin, authority_needed(request(op, 9), nullptr)) << "checked before the DC";
  }
  EXPECT_EQ(Need::OwnerOrAdmin, authority_needed(request(Op::Unbind), &kDc));
  for (Op op : {Op::Hello, Op::Wait4Bind, Op::Wait4BindEp, Op::GetEp, Op::GetDcInfo, Op::GetProcInfo, Op::GetPriv,
                Op::LinkInbox})
    EXPECT_EQ(Need::Anyone, authority_needed(request(op), &kDc)) << static_cast<int>(op);
  Request unknown;
  unknown.op = 999;
  EXPECT_EQ(Need::Anyone, authority_needed(unknown, &kDc));
}

TEST(RequestRules, BindingASystemSlotNeedsAuthority) {
  const int first_user = kDc.nr_sysprocs - kDc.nr_tasks;
  for (int p : {-kDc.nr_tasks, -1, 0, 10, first_user - 1, DVS_ENDPOINT(1, 10), DVS_ENDPOINT(7, first_user - 1)})
    EXPECT_EQ(Need::Admin, authority_needed(bind(p), &kDc)) << p;
  for (int p : {first_user, kDc.nr_procs - 1, DVS_ANY, DVS_ENDPOINT(3, first_user), kDc.nr_procs, -kDc.nr_tasks - 1})
    EXPECT_EQ(Need::Anyone, authority_needed(bind(p), &kDc)) << p;  // user slots, any, or out of range
  EXPECT_EQ(Need::Anyone, authority_needed(bind(10), nullptr));    // no such DC: EDVSBADDCID follows
}

TEST(RequestRules, BindTargetIsThePnrOrTheEndpointsPnr) {
  EXPECT_EQ(10, bind_target_pnr(10));
  EXPECT_EQ(-35, bind_target_pnr(-35));
  EXPECT_EQ(40, bind_target_pnr(DVS_ENDPOINT(5, 40)));
  EXPECT_EQ(-3, bind_target_pnr(DVS_ENDPOINT(2, -3)));
  for (int extreme : {INT_MAX, INT_MAX - 35, DVS_GEN_SIZE * 1000 + 3}) {
    const int p = bind_target_pnr(extreme);
    EXPECT_TRUE(p >= -DVS_NR_TASKS_MAX && p < DVS_GEN_SIZE - DVS_NR_TASKS_MAX) << extreme << " -> " << p;
  }
  for (int no_slot : {INT_MIN, INT_MIN + 1, -DVS_NR_TASKS_MAX - 1})
    EXPECT_LT(bind_target_pnr(no_slot), -DVS_NR_TASKS_MAX) << no_slot;
}

TEST(RequestRules, AdmitRefusesWhatTheRequesterMayNotDo) {
  EXPECT_EQ(0, admit(Need::Anyone, false, true));
  EXPECT_EQ(EDVSPRIVILEGES, admit(Need::Admin, false, false));
  EXPECT_EQ(0, admit(Need::Admin, true, false));
  EXPECT_EQ(0, admit(Need::OwnerOrAdmin, false, false));
  EXPECT_EQ(EDVSPRIVILEGES, admit(Need::OwnerOrAdmin, false, true));
  EXPECT_EQ(0, admit(Need::OwnerOrAdmin, true, true));
}

TEST(ControlRecordSeeds, CommittedCorpusIsWhatTheGeneratorWrites) {
  const std::filesystem::path dir = DVS_CONTROL_RECORD_CORPUS;
  const auto seeds = control_record_seeds();
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(seeds.size(), files) << "regenerate: build/core/dvsd/dvs_control_record_seeds " << dir;
  for (const auto& [name, bytes] : seeds) {
    std::ifstream f(dir / name, std::ios::binary);
    std::stringstream got;
    got << f.rdbuf();
    EXPECT_TRUE(got.str() == bytes) << name << " differs; regenerate: build/core/dvsd/dvs_control_record_seeds " << dir;
    ASSERT_GE(bytes.size(), sizeof(Request)) << name;
    Request rq;
    std::memcpy(static_cast<void*>(&rq), bytes.data(), sizeof rq);
    EXPECT_TRUE(well_formed(rq)) << name;
  }
}

}  // namespace
