// The access log's record bytes (access_record.h): formats 1 to 3 and the writer's queue.
#include "eventstore/access_record.h"

#include "domain/string_archive.h"

#include <cereal/types/string.hpp>

#include <gtest/gtest.h>

#include <vector>

namespace caseledger::eventstore {
namespace {

// An access record's fields as cereal serializes them (access_record.cc's format 1).
struct CerealFields {
  int64_t at;
  std::string subject, role, person_id, endpoint;
  int32_t status;
  template <class A> void serialize(A& ar) { ar(at, subject, role, person_id, endpoint, status); }
};

std::string Format1Bytes(const AccessRecord& r) {
  return std::string(1, '\x01') +
         domain::EncodeCereal(CerealFields{r.at.micros, r.subject, r.role, r.person_id, r.endpoint, r.status});
}

// Format 2, byte by byte: a server's read record in 54 bytes (format 1 took 111), appended
// after what the buffer held; the returned offset is where the person's id starts.
TEST(AccessRecordTest, Format2IsVarintsSizedStringsAndCodes) {
  const AccessRecord r{domain::Timestamp{1'700'000'000'123'456}, "bench-loadgen", "operator",
                       "01HZXK8J9Q2W3E4R5T6Y7U8I9O", "GET /v1/people/{id}", 200};
  std::string out = "prefix";
  const size_t person_at = AppendAccessRecord(r, out);
  std::string expected = "\x02";
  uint64_t at = uint64_t{1'700'000'000'123'456} * 2;  // zigzag of a positive number
  while (at >= 0x80) {
    expected.push_back(static_cast<char>(at | 0x80));
    at >>= 7;
  }
  expected.push_back(static_cast<char>(at));
  expected += "\x0d" "bench-loadgen";
  expected += "\x01";  // operator
  expected += "\x1a" "01HZXK8J9Q2W3E4R5T6Y7U8I9O";
  expected += std::string(1, '\0');  // GET /v1/people/{id}
  expected += "\x90\x03";  // zigzag(200) = 400
  EXPECT_EQ(out, "prefix" + expected);
  EXPECT_EQ(expected.size(), 54u);
  EXPECT_EQ(Format1Bytes(r).size(), 111u);
  EXPECT_EQ(out.substr(person_at, r.person_id.size()), r.person_id);
  EXPECT_EQ(EncodeAccessRecord(r), expected);
  auto decoded = DecodeAccessRecord(expected);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, r);
}

// Texts without a code go literally; negative numbers and empty strings come back as
// they were; every role a server records and every endpoint has its one-byte code.
TEST(AccessRecordTest, Format2RoundTripsLiteralsAndEdgeValues) {
  const std::string long_endpoint(300, 'e');
  std::vector<AccessRecord> records = {
      {domain::Timestamp{-5}, "", "", "P", long_endpoint, -1},
      {domain::Timestamp{0}, std::string(200, 's'), "superuser", "", "GET /v1/people/{id}/access-log", 0},
      {domain::Timestamp{INT64_MIN}, "x", "auditor", "P2", "", INT32_MIN},
      {domain::Timestamp{INT64_MAX}, "y", "admin", "P3", "GET /v1/people?tax_code", INT32_MAX}};
  for (const char* role : {"operator", "lab", "gp", "school", "mayor", "auditor", "admin"}) {
    records.push_back({domain::Timestamp{1}, "z", role, "P", "GET /v1/people/{id}/history", 304});
  }
  for (const AccessRecord& r : records) {
    const std::string bytes = EncodeAccessRecord(r);
    auto decoded = DecodeAccessRecord(bytes);
    ASSERT_TRUE(decoded) << r.role << " " << r.endpoint.size();
    EXPECT_EQ(*decoded, r);
    std::string out;
    const size_t person_at = AppendAccessRecord(r, out);
    EXPECT_EQ(out, bytes);
    EXPECT_EQ(out.substr(person_at, r.person_id.size()), r.person_id);
  }
  EXPECT_EQ(EncodeAccessRecord(records[4]).size(), 1 + 1 + 2 + 1 + 2 + 1 + 2u);  // operator and history coded
}

// Records written before format 2 (cereal's bytes, format byte 1) read as they were.
TEST(AccessRecordTest, Format1RecordsAreStillRead) {
  for (const AccessRecord& r : {AccessRecord{domain::Timestamp{1'700'000'000'123'456}, "bench-loadgen", "operator",
                                             "01HZXK8J9Q2W3E4R5T6Y7U8I9O", "GET /v1/people/{id}", 200},
                                AccessRecord{domain::Timestamp{-5}, "", "", "P", std::string(300, 'e'), -1}}) {
    const std::string old = Format1Bytes(r);
    EXPECT_EQ(EncodeAccessRecord(r, 1), old);
    auto decoded = DecodeAccessRecord(old);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, r);
  }
}

// One encoding per record: anything the encoder would not have written is refused.
TEST(AccessRecordTest, Format2RefusesWhatTheEncoderNeverWrites) {
  const AccessRecord r{domain::Timestamp{7}, "s", "operator", "P", "GET /v1/people/{id}", 200};
  const std::string good = EncodeAccessRecord(r);
  ASSERT_EQ(good, std::string("\x02\x0e\x01s\x01\x01P\x00\x90\x03", 10));
  ASSERT_TRUE(DecodeAccessRecord(good));
  auto refused = [](std::string bytes) { return !DecodeAccessRecord(bytes).has_value(); };
  EXPECT_TRUE(refused(""));
  EXPECT_TRUE(refused("\x03"));
  EXPECT_TRUE(refused(good + "x"));                                     // bytes left over
  EXPECT_TRUE(refused(good.substr(0, good.size() - 1)));                // short
  EXPECT_TRUE(refused(std::string("\x02\x8e\x00\x01s\x01\x01P\x00\x90\x03", 11)));  // at in two bytes
  EXPECT_TRUE(refused(std::string("\x02\x0e\x01s\x08\x01P\x00\x90\x03", 10)));      // role code 8
  EXPECT_TRUE(refused(std::string("\x02\x0e\x01s\x01\x01P\x04\x90\x03", 10)));      // endpoint code 4
  EXPECT_TRUE(refused(std::string("\x02\x0e\x01s\xff\x08operator\x01P\x00\x90\x03", 19)));  // a coded text literally
  EXPECT_TRUE(refused(std::string("\x02\x0e\x01s\x01\x05P\x00\x90\x03", 10)));      // person longer than the bytes
  // status 2^31: zigzag 2^32, beyond an int
  EXPECT_TRUE(refused(std::string("\x02\x0e\x01s\x01\x01P\x00\x80\x80\x80\x80\x10", 13)));
  EXPECT_TRUE(refused(std::string("\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02\x01s\x01\x01P\x00\x90\x03", 19)));  // 65 bits
  const std::string literal = EncodeAccessRecord({domain::Timestamp{7}, "s", "nurse", "P", "GET /x", 200});
  ASSERT_TRUE(DecodeAccessRecord(literal));
  EXPECT_EQ(DecodeAccessRecord(literal)->role, "nurse");
}

// The writer's queue: each record's bytes and person as they were added; a write that could
// not be made puts its records back before the ones queued meanwhile (Append), in order.
TEST(AccessRecordQueueTest, RecordsComeBackInOrderAfterAHeldWriteIsPutBeforeTheLaterOnes) {
  const std::vector<AccessRecord> records = {
      {domain::Timestamp{1}, "alice", "operator", "01HZXK8J9Q2W3E4R5T6Y7U8I9O", "GET /v1/people/{id}", 200},
      {domain::Timestamp{2}, "bob", "gp", "P2", "GET /v1/people/{id}/history", 404},
      {domain::Timestamp{3}, "carol", "", "", "GET /v1/people?tax_code", 200},
      {domain::Timestamp{4}, "dave", "auditor", "P4", "GET /v1/people/{id}/access-log", 200}};
  AccessRecordQueue held, later;
  held.Add(records[0]);
  held.Add(records[1]);
  later.Add(records[2]);
  later.Add(records[3]);
  held.Append(later);
  ASSERT_EQ(held.size(), 4u);
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(held.Body(i), EncodeAccessRecord(records[i])) << i;
    EXPECT_EQ(held.Person(i), records[i].person_id) << i;
    // The instant kept beside the bytes (the writer's merge and spans) is the one in them.
    EXPECT_EQ(held.At(i), records[i].at.micros) << i;
    EXPECT_EQ(held.At(i), AccessRecordAt(held.Body(i))) << i;
  }
  AccessRecordQueue one;
  one.AppendOne(held, 2);
  EXPECT_EQ(one.Body(0), EncodeAccessRecord(records[2]));
  EXPECT_EQ(one.At(0), records[2].at.micros);
  held.Clear();
  EXPECT_TRUE(held.empty());
  held.Add(records[3]);
  EXPECT_EQ(held.Body(0), EncodeAccessRecord(records[3]));
}

// Format 3's entry: a count, then format-2 records back to back; split exactly into its
// count or refused.
TEST(AccessRecordTest, Format3EntriesSplitIntoTheirCountOfRecords) {
  const std::vector<AccessRecord> records = {
      {domain::Timestamp{1}, "alice", "operator", "01HZXK8J9Q2W3E4R5T6Y7U8I9O", "GET /v1/people/{id}", 200},
      {domain::Timestamp{2}, std::string(200, 's'), "nurse", "P2", "GET /x", 404},
      {domain::Timestamp{-3}, "", "", "", "GET /v1/people?tax_code", 0}};
  std::string entry;
  AppendAccessEntryHeader(entry, records.size());
  for (const AccessRecord& r : records) entry += EncodeAccessRecord(r);
  EXPECT_EQ(entry.substr(0, 2), "\x03\x03");
  EXPECT_EQ(AccessRecordsIn(entry), 3u);
  auto split = SplitAccessRecords(entry);
  ASSERT_TRUE(split);
  ASSERT_EQ(split->size(), 3u);
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ((*split)[i], EncodeAccessRecord(records[i]));
    EXPECT_EQ(AccessRecordAt((*split)[i]), records[i].at.micros);
  }
  const std::string one = EncodeAccessRecord(records[0]);
  EXPECT_EQ(AccessRecordsIn(one), 1u);
  ASSERT_TRUE(SplitAccessRecords(one));
  EXPECT_EQ(SplitAccessRecords(one)->front(), one);
  auto refused = [](const std::string& bytes) { return !SplitAccessRecords(bytes).has_value(); };
  EXPECT_TRUE(refused(""));
  EXPECT_TRUE(refused("\x04"));
  EXPECT_TRUE(refused(entry.substr(0, entry.size() - 1)));       // the last record cut short
  EXPECT_TRUE(refused(entry + one));                             // a record beyond the count
  EXPECT_TRUE(refused("\x03\x04" + entry.substr(2)));            // a count beyond the records
  EXPECT_TRUE(refused(std::string("\x03\x00", 2)));              // no record
  EXPECT_EQ(AccessRecordsIn(std::string("\x03\x00", 2)), 0u);
  EXPECT_TRUE(refused("\x03\x81\x00" + entry.substr(2)));       // a count in two bytes
  EXPECT_TRUE(refused("\x03\x01" + Format1Bytes(records[0])));  // format 1 inside
}

}  // namespace
}  // namespace caseledger::eventstore
