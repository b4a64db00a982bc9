// NewUlid: a new id's 48-bit time and 80 random bits (from the thread's pool of random bytes,
// eventstore/random_bytes.h): ids made in the same millisecond, across many refills of the
// pool and in a forked child, all differ.
#include "api/api_context.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>

namespace caseledger::api {
namespace {

constexpr domain::Timestamp kNow{1'700'000'000'123'456};

TEST(NewUlidTest, IdsOfOneMillisecondShareTheTimeAndDifferInTheirRandomPart) {
  std::set<std::string> ids;
  for (int i = 0; i < 5000; ++i) ids.insert(NewUlid(kNow));  // 10 bytes each: ~12 refills of 4 KiB
  ASSERT_EQ(ids.size(), 5000u);
  const std::string first = *ids.begin();
  EXPECT_EQ(first.size(), 26u);
  // The first 10 digits are the 48-bit milliseconds; 1,700,000,000,123 ms is 01HF7YAT3V.
  for (const std::string& id : ids) {
    EXPECT_EQ(id.substr(0, 10), "01HF7YAT3V");
    EXPECT_EQ(id.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ"), std::string::npos) << id;
  }
  EXPECT_LT(NewUlid(kNow).substr(0, 10), NewUlid({kNow.micros + 1000}).substr(0, 10));
}

TEST(NewUlidTest, AForkedChildMakesIdsOfItsOwn) {
  NewUlid(kNow);  // the pool drawn before the fork
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string id = NewUlid(kNow);
    _exit(write(fds[1], id.data(), id.size()) == 26 ? 0 : 1);
  }
  const std::string parent = NewUlid(kNow);
  char buffer[26];
  ASSERT_EQ(read(fds[0], buffer, sizeof buffer), 26);
  int status = 0;
  waitpid(child, &status, 0);
  close(fds[0]);
  close(fds[1]);
  EXPECT_NE(std::string(buffer, 26), parent);
}

}  // namespace
}  // namespace caseledger::api
