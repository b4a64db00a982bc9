#include "eventstore/disk_space.h"

#include <gtest/gtest.h>

#include <thread>

namespace caseledger::eventstore {
namespace {

// A volume whose free bytes the test sets, counting how often the gate looks.
struct FakeVolume {
  uint64_t available = 0;
  int looks = 0;
  FreeSpaceGate::Look Look() {
    return [this](const std::string&) -> StoreResult<uint64_t> {
      ++looks;
      return available;
    };
  }
};

constexpr uint64_t kMiB = 1 << 20;

TEST(FreeSpaceGateTest, NoFloorNeverLooks) {
  FakeVolume v;
  FreeSpaceGate gate("db", 0, "the event store", v.Look());
  EXPECT_FALSE(gate.Check(100 * kMiB));
  EXPECT_EQ(v.looks, 0);
}

TEST(FreeSpaceGateTest, SmallWritesInQuickSuccessionShareOneLook) {
  FakeVolume v{1000 * kMiB};
  FreeSpaceGate gate("db", 100 * kMiB, "the event store", v.Look());
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(gate.Check(4096));
  EXPECT_LE(v.looks, 2) << "a statvfs per write";
}

TEST(FreeSpaceGateTest, ARefusalIsNeverRememberedAsRoom) {
  FakeVolume v{50 * kMiB};
  FreeSpaceGate gate("db", 100 * kMiB, "the event store", v.Look());
  auto refused = gate.Check(1);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->code, StoreErrorCode::kNoSpace);
  EXPECT_NE(refused->message.find("the event store"), std::string::npos) << refused->message;
  EXPECT_TRUE(gate.Check(1));
  EXPECT_EQ(v.looks, 2);
  v.available = 200 * kMiB;  // space freed: the next write sees it at once
  EXPECT_FALSE(gate.Check(1));
  EXPECT_EQ(v.looks, 3);
}

TEST(FreeSpaceGateTest, ItsOwnWritesCannotPassTheFloorUnseen) {
  FakeVolume v{108 * kMiB};  // 8 MiB above the floor: a look every 2 MiB written at most
  FreeSpaceGate gate("db", 100 * kMiB, "the event store", v.Look());
  EXPECT_FALSE(gate.Check(kMiB));
  EXPECT_EQ(v.looks, 1);
  EXPECT_FALSE(gate.Check(kMiB));  // 2 MiB since the look: still within a quarter
  EXPECT_EQ(v.looks, 1);
  v.available = 99 * kMiB;  // someone else filled it meanwhile
  EXPECT_TRUE(gate.Check(kMiB)) << "3 MiB written since the look, more than a quarter of the room";
  EXPECT_EQ(v.looks, 2);
}

TEST(FreeSpaceGateTest, AVolumeFilledByAnotherProcessIsSeenWithinTheRecheckTime) {
  FakeVolume v{1000 * kMiB};
  FreeSpaceGate gate("db", 100 * kMiB, "the event store", v.Look());
  EXPECT_FALSE(gate.Check(1));
  v.available = 10 * kMiB;
  std::this_thread::sleep_for(kFreeSpaceRecheck + std::chrono::milliseconds(5));
  EXPECT_TRUE(gate.Check(1));
}

TEST(FreeSpaceGateTest, AVolumeThatCannotBeExaminedDoesNotRefuseAndIsLookedAtAgain) {
  int looks = 0;
  FreeSpaceGate gate("db", 100 * kMiB, "the event store", [&](const std::string&) -> StoreResult<uint64_t> {
    ++looks;
    return StoreError(StoreErrorCode::kIo, "statvfs db: no such file");
  });
  EXPECT_FALSE(gate.Check(1));
  EXPECT_FALSE(gate.Check(1));
  EXPECT_EQ(looks, 2);
}

}  // namespace
}  // namespace caseledger::eventstore
