// The traffic `caseledger-loadgen` sends (see http_load.h for how it is sent).
//
// CaseCommands: what a testing centre does all day, one command per request. It registers
// people of Piedmont (synthetic names, birth dates and sexes, residence spread over the
// municipalities by population, born there, with the valid tax code for all of that),
// then for each person it registered requests a swab, records its collection and records
// the lab result. Follow-up steps go first, so the mix settles at one registration to three
// swab commands. Swab ids embed the seed, the thread and a counter, so runs with different
// seeds against the same store never collide; tax codes are unique within a process.
//
// PersonQueries: GET /v1/people/{id} of people chosen uniformly from a fixed list (those a
// CaseCommands setup phase took through the whole flow).
//
// Both are deterministic for a seed and thread, apart from what the server answers.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "workload/http_load.h"
#include "domain/reference.h"

namespace caseledger::workload {

// Synthetic residents of Piedmont with valid tax codes. Not thread-safe.
class PersonGenerator {
 public:
  struct Person {
    std::string family_name, given_names, birth_date, tax_code, residence_istat, municipality;
    char sex = 'M';
  };

  // REQUIRES: `reference` lists Piedmont's municipalities (region "01") with population.
  PersonGenerator(const domain::ReferenceData& reference, uint64_t seed);
  Person Next();
  // The POST /v1/people body for `p`.
  static std::string RegisterBody(const Person& p);

 private:
  std::mt19937_64 rng_;
  std::vector<const domain::Municipality*> municipalities_;
  std::discrete_distribution<size_t> by_population_;
  std::unordered_set<std::string> tax_codes_;  // issued, to never register one twice
};

class CaseCommands : public Workload {
 public:
  // `people_limit`: register at most this many people, then finish when their flows are
  // done (a setup phase); 0: no limit.
  CaseCommands(const domain::ReferenceData& reference, uint64_t seed, int thread,
               uint64_t people_limit = 0);

  std::optional<LoadRequest> Next() override;
  void Completed(const LoadRequest& request, int status, std::string_view body) override;
  bool Finished() const override;

  // Share of results that are positive, in thousandths (default 120); the next 10 are
  // inconclusive, the rest negative.
  void set_positive_permille(uint32_t permille) { positive_permille_ = permille; }

  // People whose four commands all succeeded, in completion order.
  const std::vector<std::string>& completed_people() const { return completed_; }

 private:
  enum class Step { kRegister, kRequestSwab, kCollect, kResult, kDone };
  struct Flow {
    Step step = Step::kRegister;
    std::string person_id, swab_id, municipality;
  };

  LoadRequest Build(uint64_t id, const Flow& flow);
  static std::string LabOf(const std::string& swab_id);
  std::string NextSwabId();

  PersonGenerator people_;
  std::mt19937_64 rng_;
  std::string swab_prefix_;
  uint64_t swabs_ = 0;
  uint64_t people_limit_;
  uint64_t started_ = 0;
  uint64_t next_flow_ = 0;
  std::unordered_map<uint64_t, Flow> flows_;  // started and not yet done or failed
  std::deque<uint64_t> ready_;                // flows whose next step can be sent
  uint64_t in_flight_ = 0;
  uint32_t positive_permille_ = 120;
  std::vector<std::string> completed_;
};

class PersonQueries : public Workload {
 public:
  // REQUIRES: `people` is not empty and outlives the workload.
  PersonQueries(const std::vector<std::string>& people, uint64_t seed);
  std::optional<LoadRequest> Next() override;
  void Completed(const LoadRequest&, int, std::string_view) override {}

 private:
  const std::vector<std::string>& people_;
  std::mt19937_64 rng_;
};

}  // namespace caseledger::workload
