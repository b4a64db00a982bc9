// The record body's and the keys' bytes as FORMAT.md lays them out, byte for byte: the
// encoders write in place (AppendRecordBodyUpToPersonal, PutFixed64BE), and a store written
// before must read the same after any change to how they write.
#include "eventstore/record_format.h"

#include <gtest/gtest.h>

#include <string>

namespace caseledger::eventstore::format {
namespace {

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

TEST(RecordFormatTest, ARecordBodyIsItsLayoutByteThenItsFieldsAfterWhatTheStringHeld) {
  const std::string body(300, 'x');  // a length of two varint bytes
  std::string out = "held";
  AppendRecordBodyUpToPersonal(out, {5, "s", 2, "T", 1, domain::Timestamp{3}, domain::Timestamp{1}, "a", "",
                                     "corr", "", "idem", body});
  const std::string expected = "held" + Bytes({4, 1, 's', 2, 1, 'T', 1, 6, 3, 1, 'a', 0, 4}) + "corr" +
                               Bytes({0, 4}) + "idem" + Bytes({0xac, 0x02}) + body;
  EXPECT_EQ(out, expected);
  EXPECT_EQ(out.size(), expected.size());  // cut to what the fields took

  std::string anchor;  // every kAnchorEvery-th position stores its whole hash: layout 3
  AppendRecordBodyUpToPersonal(anchor, {kAnchorEvery, "", 0, "", 0, {}, {}, "", "", "", "", "", ""});
  EXPECT_EQ(anchor, Bytes({3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(RecordFormatTest, ARecordBodyDecodesToItsFields) {
  domain::Envelope e;
  e.position = 7;
  e.stream = "person-01HXYZ";
  e.version = 300;
  e.type = "SwabCollected";
  e.schema_version = 2;
  e.recorded_at = domain::Timestamp{1'700'000'000'000'000};
  e.effective_at = domain::Timestamp{1'600'000'000'000'000};  // before: a negative difference
  e.actor = {"demo-admin", "admin"};
  e.correlation_id = "c";
  e.idempotency_key = "k";
  e.body = std::string(1000, 'b');
  domain::Envelope back;
  ASSERT_TRUE(DecodeRecordBody(EncodeRecordBody(e), back));
  EXPECT_EQ(back.stream, e.stream);
  EXPECT_EQ(back.version, e.version);
  EXPECT_EQ(back.type, e.type);
  EXPECT_EQ(back.schema_version, e.schema_version);
  EXPECT_EQ(back.recorded_at, e.recorded_at);
  EXPECT_EQ(back.effective_at, e.effective_at);
  EXPECT_EQ(back.actor, e.actor);
  EXPECT_EQ(back.correlation_id, e.correlation_id);
  EXPECT_EQ(back.causation_id, "");
  EXPECT_EQ(back.idempotency_key, e.idempotency_key);
  EXPECT_EQ(back.body, e.body);
}

TEST(RecordFormatTest, AViewsDecodeSetsWhatViewsReadAndEmptiesTheRest) {
  domain::Envelope e;
  e.position = 9;
  e.stream = "person-01HXYZ";
  e.version = 4;
  e.type = "PersonRegistered";
  e.schema_version = 1;
  e.recorded_at = domain::Timestamp{1'700'000'000'000'000};
  e.effective_at = domain::Timestamp{1'600'000'000'000'000};
  e.actor = {"demo-admin", "admin"};
  e.correlation_id = "c";
  e.causation_id = "d";
  e.idempotency_key = "k";
  e.body = std::string(40, 'b');
  e.personal = std::string(70, 'p');  // stands for the sealed bytes
  const std::string record = EncodeRecordBody(e);
  domain::Envelope all;
  ASSERT_TRUE(DecodeRecordBody(record, all, EnvelopeFields::kAll));
  // Into an envelope that held longer strings in every field (a recycled batch's).
  domain::Envelope views;
  for (std::string* s : {&views.actor.id, &views.actor.role, &views.correlation_id,
                         &views.causation_id, &views.idempotency_key, &views.personal}) {
    *s = std::string(50, 'x');
  }
  ASSERT_TRUE(DecodeRecordBody(record, views, EnvelopeFields::kViews));
  domain::Envelope expected = all;
  expected.actor = {};
  expected.correlation_id.clear();
  expected.causation_id.clear();
  expected.idempotency_key.clear();
  expected.personal.clear();
  EXPECT_EQ(views, expected);
  EXPECT_EQ(views.personal_form, domain::PersonalForm::kSealed);  // recorded, not read

  e.personal.clear();  // none recorded
  ASSERT_TRUE(DecodeRecordBody(EncodeRecordBody(e), views, EnvelopeFields::kViews));
  EXPECT_EQ(views.personal_form, domain::PersonalForm::kOpen);
  // Bytes that do not decode are refused whichever fields are read.
  for (size_t cut : {record.size() - 1, record.size() - 75, size_t{20}}) {
    EXPECT_FALSE(DecodeRecordBody(record.substr(0, cut), views, EnvelopeFields::kViews)) << cut;
    EXPECT_FALSE(DecodeRecordBody(record.substr(0, cut), all, EnvelopeFields::kAll)) << cut;
  }
  EXPECT_FALSE(DecodeRecordBody(record + "z", views, EnvelopeFields::kViews));
}

// The record's numbers read with ten bytes or more left (no check of the end at each byte)
// and with fewer (the heads' and the index's short values): every length of varint, the
// extremes, and an eleventh byte refused.
TEST(RecordFormatTest, NumbersOfEveryLengthDecodeWithAnyBytesLeft) {
  for (int64_t micros : {int64_t{0}, int64_t{-1}, int64_t{1} << 40, int64_t{1'700'000'000'000'000},
                         INT64_MAX, INT64_MIN, -(int64_t{1} << 50)}) {
    for (uint64_t version : {uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{1} << 35, UINT64_MAX}) {
      domain::Envelope e;
      e.position = 9;
      e.stream = "s";
      e.version = version;
      e.type = "T";
      e.recorded_at = domain::Timestamp{micros};
      e.effective_at = domain::Timestamp{-micros};
      domain::Envelope back;
      ASSERT_TRUE(DecodeRecordBody(EncodeRecordBody(e), back)) << micros << " " << version;
      EXPECT_EQ(back.version, version);
      EXPECT_EQ(back.recorded_at, e.recorded_at);
      EXPECT_EQ(back.effective_at, e.effective_at);
    }
  }
  for (uint64_t n = 1; n != 0; n <<= 1) {  // every varint length, in a value shorter than ten bytes
    for (uint64_t v : {n - 1, n, n + 1}) {
      const Head h{v, UINT64_MAX - v};
      const auto back = DecodeHead(EncodeHead(h));
      ASSERT_TRUE(back) << v;
      EXPECT_EQ(back->version, h.version);
      EXPECT_EQ(back->last_position, h.last_position);
    }
  }
  // Eleven bytes of varint: past the tenth, refused, with ten bytes or more left and with fewer.
  std::string record = Bytes({4, 1, 's', 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01});
  record += std::string(40, '\0');
  domain::Envelope back;
  EXPECT_FALSE(DecodeRecordBody(record, back));
  EXPECT_FALSE(DecodeHead(Bytes({1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0})));
  EXPECT_FALSE(DecodeHead(Bytes({1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80})));  // ends inside
}

// A read that trusts the chain takes the body as Split does, without the hash.
TEST(RecordFormatTest, TheRecordBodyOfAValueIsSplitsWithoutTheHash) {
  domain::Hash hash{};
  for (size_t i = 0; i < hash.size(); ++i) hash[i] = static_cast<uint8_t>(100 + i);
  for (uint64_t position : {kAnchorEvery, kAnchorEvery + 1}) {  // whole hash, then a check of it
    domain::Envelope e;
    e.position = position;
    e.stream = "person-1";
    e.body = "b";
    const std::string value = EncodeValue(EncodeRecordBody(e), hash);
    const auto split = Split(value);
    ASSERT_TRUE(split);
    EXPECT_EQ(RecordBodyOf(value), split->record_body) << position;
  }
  EXPECT_FALSE(RecordBodyOf(""));
  EXPECT_FALSE(RecordBodyOf(Bytes({4, 1, 2, 3})));  // shorter than a check and one byte
  EXPECT_FALSE(Split(Bytes({4, 1, 2, 3})));
}

TEST(RecordFormatTest, KeysEndInTheirNumberBigEndian) {
  std::string out = "p";
  PutFixed64BE(out, 0x0102030405060708ULL);
  EXPECT_EQ(out, "p" + Bytes({1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(PositionKey(0x1ff), Bytes({0, 0, 0, 0, 0, 0, 1, 0xff}));
  EXPECT_EQ(StreamKey("s", 2), "s" + Bytes({0, 0, 0, 0, 0, 0, 0, 0, 2}));
  EXPECT_EQ(DecodeFixed64BE(PositionKey(UINT64_MAX - 1).data()), UINT64_MAX - 1);
}

// The chain hash is SHA-256(prev ‖ BE64(position) ‖ body) (FORMAT.md), whatever computes it:
// digests from Python's hashlib, so that a store's chain checks the same after a change of
// how the hash is called (the EVP context until session 30, SHA256_* since).
TEST(RecordFormatTest, TheChainHashIsSha256OfThePreviousHashThePositionAndTheBody) {
  auto hex = [](const domain::Hash& h) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (uint8_t b : h) out += {kDigits[b >> 4], kDigits[b & 15]};
    return out;
  };
  domain::Hash prev{};
  for (size_t i = 0; i < prev.size(); ++i) prev[i] = static_cast<uint8_t>(i);
  const std::string body = "\x04" + std::string(300, 'x');  // five blocks and a bit
  EXPECT_EQ(hex(ChainHash(prev, 0x0102030405060708ULL, body)),
            "ddaa36b3d54ec06a15caac261e98880626e2219d783d755f1a3b8dee7075fcba");
  EXPECT_EQ(hex(ChainHash(domain::Hash{}, 0, "")),
            "2c34ce1df23b838c5abf2a7f6437cca3d3067ed509ff25f11df6b11b582b51eb");
  // One call after another on a thread: no state carried from the one before.
  EXPECT_EQ(hex(ChainHash(prev, 0x0102030405060708ULL, body)),
            "ddaa36b3d54ec06a15caac261e98880626e2219d783d755f1a3b8dee7075fcba");
}

}  // namespace
}  // namespace caseledger::eventstore::format
