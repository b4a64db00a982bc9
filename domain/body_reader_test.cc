// BodyReader against cereal's bounded archive: the same outcome and the same value for every
// event type's body and personal part, whole, cut short at every length and with each byte
// changed.
#include "domain/body_reader.h"

#include "domain/bounded_archive.h"
#include "domain/event_codec.h"
#include "domain/event_samples_test_support.h"
#include "domain/string_archive.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>

namespace caseledger::domain {
namespace {

// ReadBody and DecodeCereal of `bytes`, each into a copy of `start` (a used slot): the same
// outcome, and on success the same value. Returns whether they decoded.
template <class T>
bool ExpectSameAsCereal(std::string_view bytes, const T& start, const std::string& what) {
  T ours = start;
  T theirs = start;
  const bool read = ReadBody(bytes, ours);
  const bool decoded = DecodeCereal(bytes, theirs);
  EXPECT_EQ(read, decoded) << what;
  if (read && decoded) {
    EXPECT_TRUE(ours == theirs) << what;
  }
  return read;
}

// Every length short of `bytes`, and every byte replaced by a few others.
template <class T>
void ExpectSameAsCerealWhenDamaged(const std::string& bytes, const T& start, const std::string& what) {
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(ExpectSameAsCereal(std::string_view(bytes).substr(0, n), start, what + " cut at " + std::to_string(n)));
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (unsigned char b : {0x00, 0x01, 0x02, 0x7f, 0x80, 0xff}) {
      std::string changed = bytes;
      changed[i] = static_cast<char>(b);
      ExpectSameAsCereal(changed, start, what + " byte " + std::to_string(i) + " = " + std::to_string(b));
    }
  }
  EXPECT_FALSE(ExpectSameAsCereal(bytes + '\0', start, what + " with a byte more"));
}

TEST(BodyReaderTest, EveryEventsBodyReadsAsCerealReadsIt) {
  for (const Event& event : EveryEvent()) {
    std::visit(
        [](const auto& original) {
          using T = std::decay_t<decltype(original)>;
          const std::string bytes = EncodeCereal(original);
          const std::string what(T::kType);
          // Into a fresh event and into one that held other values.
          T fresh{};
          ASSERT_TRUE(ExpectSameAsCereal(bytes, fresh, what));
          T read{};
          ASSERT_TRUE(ReadBody(bytes, read));
          T expected = original;
          if constexpr (requires { expected.personal; }) expected.personal = {};  // not in the body
          EXPECT_TRUE(read == expected) << what;
          ASSERT_TRUE(ExpectSameAsCereal(bytes, original, what + " into a used slot"));
          ExpectSameAsCerealWhenDamaged(bytes, fresh, what);
        },
        event);
  }
}

TEST(BodyReaderTest, APersonalPartReadsAsCerealReadsIt) {
  const Personal personal = Anna().personal;
  const std::string bytes = EncodeCereal(personal);
  Personal read;
  ASSERT_TRUE(ReadBody(bytes, read));
  EXPECT_EQ(read, personal);
  ExpectSameAsCerealWhenDamaged(bytes, Personal{}, "Personal");
}

TEST(BodyReaderTest, AnAbsentOptionalReadsAsAbsentIntoASlotThatHeldOne) {
  const IsolationOrdered without{3, Nov(10), "positive", std::nullopt};
  const std::string bytes = EncodeCereal(without);
  IsolationOrdered slot{1, Nov(1), "symptomatic", Nov(11)};
  ASSERT_TRUE(ReadBody(bytes, slot));
  EXPECT_EQ(slot, without);
  ExpectSameAsCerealWhenDamaged(bytes, IsolationOrdered{}, "IsolationOrdered without an end");
}

TEST(BodyReaderTest, AStringLongerThanTheBytesLeftIsRefused) {
  std::string bytes = EncodeCereal(GpAssigned{"GP1", "GP2"});
  bytes[7] = 0x10;  // the first length's top byte: 2^60 characters claimed
  GpAssigned read;
  EXPECT_FALSE(ReadBody(bytes, read));
  EXPECT_FALSE(DecodeCereal(bytes, read));
}

}  // namespace
}  // namespace caseledger::domain
