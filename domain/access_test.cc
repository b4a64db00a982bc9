// GrantSet: the grants of one user as the users stream's events leave them; copies share the
// grants, and a change to one set never reaches a copy taken before it.
#include "domain/access.h"

#include <gtest/gtest.h>

namespace caseledger::domain {
namespace {

TEST(GrantSetTest, GrantsInOrderOnceEachAndRevokedByRoleAndScope) {
  GrantSet set;
  EXPECT_TRUE(set.empty());
  EXPECT_TRUE(set.grants().empty());
  set.Apply(AccessGranted{"u", "operator", "TO"});
  set.Apply(AccessGranted{"u", "lab", "LAB-TO1"});
  set.Apply(AccessGranted{"u", "operator", "TO"});  // held already: nothing changes
  set.Apply(AccessGranted{"u", "pilot", "TO"});     // no such role
  ASSERT_EQ(set.grants().size(), 2u);
  EXPECT_EQ(set.grants()[0], (Grant{Role::kOperator, "TO"}));
  EXPECT_TRUE(set.Holds(Role::kLab, "LAB-TO1"));
  set.Apply(AccessRevoked{"u", "operator", "AL"});  // not held: nothing changes
  set.Apply(AccessRevoked{"u", "operator", "TO"});
  EXPECT_FALSE(set.Has(Role::kOperator));
  EXPECT_EQ(set.Scopes(Role::kLab), std::vector<std::string>{"LAB-TO1"});
}

// A request's principal is a copy of its user's set (api/grant_table.h): the table's set
// changes after, the request keeps the grants it was admitted with.
TEST(GrantSetTest, ACopyKeepsTheGrantsItWasTakenWith) {
  GrantSet table;
  table.Apply(AccessGranted{"u", "operator", "TO"});
  const GrantSet request = table;
  table.Apply(AccessRevoked{"u", "operator", "TO"});
  table.Apply(AccessGranted{"u", "mayor", "001272"});
  EXPECT_TRUE(request.Holds(Role::kOperator, "TO"));
  EXPECT_FALSE(request.Has(Role::kMayor));
  EXPECT_EQ(request.grants().size(), 1u);
  EXPECT_FALSE(table.Has(Role::kOperator));
  EXPECT_TRUE(table.Holds(Role::kMayor, "001272"));
}

}  // namespace
}  // namespace caseledger::domain
