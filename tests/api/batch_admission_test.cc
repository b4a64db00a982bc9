// Audit 2026-12, finding 1: results:batch did its work before authorization (the whole
// body parsed before any role check) and copied the whole request, 16 MB body included,
// for each row. A caller who may not upload gets 403 for nothing; an allowed one costs
// one pass over the body and memory bounded by the row cap, whatever the body holds.
#include "tests/api/bad_input_support.h"
#include "tests/support/allocation_probe.h"
#include "tests/support/process_probe.h"

#include <boost/json.hpp>

#include <iostream>

namespace caseledger::testing {
namespace {

constexpr size_t kBodyLimit = 16 * 1024 * 1024;

// `rows` result rows for swabs no one requested, each padded with an unknown member so
// that the JSON body is just under the 16 MiB batch limit.
std::string PaddedJsonBatch(size_t rows) {
  const size_t pad = (kBodyLimit - 64) / rows - 140;
  std::string body = "{\"results\":[";
  for (size_t i = 0; i < rows; ++i) {
    if (i) body += ",";
    body += "{\"swab_id\":\"NOSUCH-" + std::to_string(i) +
            "\",\"outcome\":\"positive\",\"lab_id\":\"LAB-TO1\",\"reported_at\":\"2020-10-21T15:00:00Z\","
            "\"pad\":\"" + std::string(pad, 'p') + "\"}";
  }
  body += "]}";
  return body;
}

// A header line, then one line of commas: millions of empty cells.
std::string CommaCsvBatch() {
  std::string body = "swab_id,outcome,lab_id,reported_at\n";
  body.append(kBodyLimit - body.size() - 16, ',');
  return body;
}

struct Cost {
  HttpReply reply;
  double cpu_seconds = 0;
  double peak_growth_mib = 0;
  double large_allocated_mib = 0;  // in blocks of 1 MiB and more, client and server
};

class BatchAdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Grant("lab-1", "lab", "LAB-TO1");
    ASSERT_TRUE(ResetPeakRss()) << "cannot reset VmHWM through /proc/self/clear_refs";
  }

  // Posts `body` and measures what the whole process (server and this client) spent.
  Cost Post(const std::string& subject, const std::string& body, const std::string& type) {
    HttpClient http(server_.port());
    Cost cost;
    const double rss = RssMiB();
    ResetPeakRss();
    const double cpu = ProcessCpuSeconds();
    const uint64_t large = LargeAllocatedBytes();
    cost.reply = http.Send("POST", "/v1/results:batch", body,
                           {{"Authorization", "Bearer " + server_.Token(subject)}, {"Content-Type", type}});
    cost.cpu_seconds = ProcessCpuSeconds() - cpu;
    cost.peak_growth_mib = PeakRssMiB() - rss;
    cost.large_allocated_mib = double(LargeAllocatedBytes() - large) / (1 << 20);
    std::cout << "[ cost     ] " << subject << " " << type << ": status " << cost.reply.status << ", "
              << cost.cpu_seconds << " s CPU, peak RSS +" << cost.peak_growth_mib << " MiB, "
              << cost.large_allocated_mib << " MiB in large blocks\n";
    return cost;
  }

  TestServer server_;
};

// The audit: 1,000 rows padded to 16 MB from a token without any grant cost 9.5 s of
// server CPU. Now the answer is 403 and the cost is reading the bytes.
TEST_F(BatchAdmissionTest, CallerWithoutGrantGets403AtNoCost) {
  const uint64_t before = server_.service().store().CommittedPosition();
  const std::string json = PaddedJsonBatch(1000);
  const std::string csv = CommaCsvBatch();
  for (const auto& [body, type] : {std::pair{&json, "application/json"}, std::pair{&csv, "text/csv"}}) {
    SCOPED_TRACE(type);
    Cost cost = Post("nobody", *body, type);
    ExpectProblem(cost.reply, 403);
    EXPECT_LT(cost.large_allocated_mib, 160);
    EXPECT_LT(cost.cpu_seconds, 1.0);
    EXPECT_LT(cost.peak_growth_mib, 96 + kSanitizerSlackMiB);
  }
  EXPECT_EQ(server_.service().store().CommittedPosition(), before);
}

// An allowed caller's padded rows are read without copying the request per row: 1,000
// rows of a 16 MB body answered one by one (all unknown swabs) in well under a second.
TEST_F(BatchAdmissionTest, PaddedRowsAreNotCopiedPerRow) {
  const uint64_t before = server_.service().store().CommittedPosition();
  Cost cost = Post("lab-1", PaddedJsonBatch(1000), "application/json");
  ASSERT_EQ(cost.reply.status, 200) << cost.reply.body.substr(0, 300);
  boost::json::value v = cost.reply.Json();
  EXPECT_EQ(v.at("accepted").as_int64(), 0);
  EXPECT_EQ(v.at("rejected").as_int64(), 1000);
  EXPECT_EQ(v.at("results").as_array().at(999).at("status").as_int64(), 404);
  // The client's request and the server's body, buffer and parse: a few copies of 16 MB,
  // not one per row (1,000 rows: 16 GB).
  EXPECT_LT(cost.large_allocated_mib, 160);
  EXPECT_LT(cost.cpu_seconds, 2.0);
  EXPECT_LT(cost.peak_growth_mib, 96 + kSanitizerSlackMiB);
  EXPECT_EQ(server_.service().store().CommittedPosition(), before);
}

// The audit: a 16 MB body of commas peaked at 624 MB (one string per empty cell). It is
// one row now, read in place.
TEST_F(BatchAdmissionTest, BodyOfCommasIsReadInBoundedMemory) {
  Cost cost = Post("lab-1", CommaCsvBatch(), "text/csv");
  ASSERT_EQ(cost.reply.status, 200) << cost.reply.body.substr(0, 300);
  EXPECT_EQ(cost.reply.Json().at("rejected").as_int64(), 1);
  EXPECT_LT(cost.cpu_seconds, 1.0);
  EXPECT_LT(cost.peak_growth_mib, 96 + kSanitizerSlackMiB);
}

// A JSON body that is one huge array of numbers stops at the row cap (413) instead of
// building a document of millions of values.
TEST_F(BatchAdmissionTest, HugeJsonArrayStopsAtTheRowCap) {
  std::string body = "{\"results\":[0";
  while (body.size() < kBodyLimit - 16) body += ",0";
  body += "]}";
  Cost cost = Post("lab-1", body, "application/json");
  ExpectProblem(cost.reply, 413);
  EXPECT_LT(cost.peak_growth_mib, 96 + kSanitizerSlackMiB);
}

}  // namespace
}  // namespace caseledger::testing
