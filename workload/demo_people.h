// Synthetic residents of Piedmont for the demo workload: names, birth dates by the regional
// age pyramid, birthplace and residence by population, a valid tax code for all of that,
// a GP of the municipality and, for ages 6-18, a school class.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include <boost/unordered/unordered_flat_set.hpp>
#include <vector>

#include "domain/commands.h"
#include "domain/reference.h"
#include "domain/time.h"

namespace caseledger::workload {

// Deterministic draws (SplitMix64): the same seed gives the same sequence on every platform,
// which the std distributions do not promise. Not thread-safe.
class DemoRandom {
 public:
  explicit DemoRandom(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  // Uniform in [0, n). REQUIRES: n > 0.
  uint64_t Below(uint64_t n);
  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(uint64_t(hi - lo) + 1));
  }
  bool Chance(double p);

 private:
  uint64_t state_;
};

// A 26-character ULID for `at` whose random part comes from `random` (deterministic ids).
std::string DemoUlid(domain::Timestamp at, DemoRandom& random);

// The instant of `minute_of_day` (minutes after local midnight, >= 03:00) on day `d` in
// Europe/Rome, correct on the days the clocks change.
domain::Timestamp LocalTime(domain::Date d, int minute_of_day);

// Completed years of someone born on `birth` at day `d`.
int AgeOn(domain::Date birth, domain::Date d);

struct Resident {
  std::string id;  // ULID, the person id
  const domain::Municipality* residence = nullptr;
  int age = 0;  // on the day of registration
  domain::RegisterPerson registration;
  domain::AssignGp gp;
  std::optional<domain::EnrolInSchool> school;
};

// Makes residents. Tax codes are unique among those it made (names are drawn again on a
// clash), so their registrations never collide on the "taxcode/" claim. Ages are below 100
// on the registration day, so the code's two-digit year decodes to the right century then.
// Not thread-safe; keeps references to `reference` and `random`.
class ResidentFactory {
 public:
  // REQUIRES: `reference` holds Piedmont's municipalities (region "01") with population.
  ResidentFactory(const domain::ReferenceData& reference, DemoRandom& random);

  // A resident registering at `at` (id and age from it). `residence` null: drawn by
  // population. `family_name` non-empty: a household member who shares it.
  Resident Make(domain::Timestamp at, const domain::Municipality* residence,
                std::string_view family_name);

  // A Piedmont municipality drawn by population.
  const domain::Municipality& DrawMunicipality();

 private:
  domain::Date DrawBirthDate(domain::Date day);
  std::optional<domain::EnrolInSchool> SchoolFor(const domain::Municipality& m, domain::Date birth,
                                                 domain::Date day);
  const domain::Municipality& ProvinceSeat(const domain::Municipality& m) const;

  const domain::ReferenceData& reference_;
  DemoRandom& random_;
  std::vector<const domain::Municipality*> piedmont_;
  std::vector<int64_t> cumulative_population_;
  std::unordered_map<std::string, const domain::Municipality*> seats_;  // by province code
  // The tax codes made so far, each packed losslessly in 128 bits (16 characters of 7 bits):
  // 16 bytes a person instead of a string and a node.
  struct PackedHash {
    size_t operator()(unsigned __int128 v) const;
  };
  boost::unordered_flat_set<unsigned __int128, PackedHash> tax_codes_;
};

}  // namespace caseledger::workload
