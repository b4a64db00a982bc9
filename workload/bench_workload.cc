#include "workload/bench_workload.h"

#include <array>
#include <chrono>

#include "domain/event_codec.h"
#include "domain/events.h"

namespace caseledger::workload {
namespace {

using namespace domain;

constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::string_view kUpperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
constexpr uint64_t kHistoryLength = 6;
constexpr std::array<std::string_view, 4> kFamilyNames = {"Rossi", "Bianchi", "Ferrero", "Colombo"};
constexpr std::array<std::string_view, 4> kGivenNames = {"Maria Grazia", "Giuseppe", "Chiara",
                                                         "Luca Alberto"};

size_t VarintBytes(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) v >>= 7, ++n;
  return n;
}
size_t LengthPrefixed(const std::string& s) { return VarintBytes(s.size()) + s.size(); }

Timestamp Now() {
  auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return {std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count()};
}

}  // namespace

PersonHistoryWriter::Random::Random(uint64_t seed) {
  // The state from splitmix64 of the seed, as the generator's authors advise: nearby seeds
  // (the bench's writers differ in a few bits) start far apart.
  for (uint64_t& s : s_) {
    uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    s = z ^ (z >> 31);
  }
}

uint64_t PersonHistoryWriter::Random::operator()() {
  const auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

PersonHistoryWriter::PersonHistoryWriter(uint64_t seed) : rng_(seed) {
  actor_ = {"operator-asl-to3-0042", "operator"};
  StartPerson();
}

std::string PersonHistoryWriter::RandomCode(size_t length, std::string_view alphabet) {
  // Four characters from each 64-bit draw, 16 bits each (a bias below alphabet size / 2^16):
  // a draw per character made the Mersenne Twister a seventh of the bench's client CPU,
  // work a server that parses its requests never does (issue #16, session 31).
  std::string out(length, ' ');
  const uint64_t n = alphabet.size();
  uint64_t bits = 0;
  for (size_t i = 0; i < length; ++i) {
    if (i % 4 == 0) bits = rng_();
    out[i] = alphabet[((bits & 0xffff) * n) >> 16];
    bits >>= 16;
  }
  return out;
}

void PersonHistoryWriter::StartPerson() {
  person_id_ = RandomCode(26, kCrockford);
  // One swab per history, so that its collection and result name the swab requested (the
  // views' directory refuses a result for a swab never requested: bench lag applies these).
  swab_id_ = "SW" + RandomCode(10, kUpperDigits);
  version_ = 0;
  stream_ = PersonStream(person_id_);
}

eventstore::AppendRequest PersonHistoryWriter::Next() {
  Timestamp now = Now();
  Date today = now.ToDate();
  const std::string& swab_id = swab_id_;
  Event event;
  switch (version_) {
    case 0: {
      PersonRegistered e{person_id_, Sex::kFemale, "001272", {}};
      e.personal = {std::string(kFamilyNames[rng_() % 4]),
                    std::string(kGivenNames[rng_() % 4]),
                    RandomCode(16, kUpperDigits),
                    "1957-03-21",
                    "Via Garibaldi " + std::to_string(rng_() % 200) + ", 10122 Torino",
                    "+39 333 " + RandomCode(7, "0123456789")};
      event = e;
      break;
    }
    case 1:
      event = SwabRequested{swab_id, SwabKind::kMolecular, "symptoms",
                            "gp-000" + RandomCode(4, "0123456789"), {}};
      break;
    case 2:
      event = SwabCollected{swab_id, now, "Torino Valentino drive-in", "lab-0012"};
      break;
    case 3:
      event = ResultRecorded{swab_id, Outcome::kPositive, "lab-0012", now};
      break;
    case 4:
      event = IsolationOrdered{1, today, "positive", std::nullopt};
      break;
    default:
      event = MeasureEnded{1, today + 10, MeasureEndReason::kNegativeTest};
      break;
  }
  EncodedEvent enc = Encode(event);
  Timestamp effective{now.micros - static_cast<int64_t>(rng_() % 86'400'000'000ULL)};
  eventstore::AppendRequest request;
  request.stream = stream_;
  request.expected = eventstore::ExpectedVersion::Exactly(version_);
  request.actor = actor_;
  request.events.push_back({std::move(enc.type), enc.schema_version, std::move(enc.body), std::move(enc.personal),
                            effective});
  request.correlation_id = RandomCode(26, kCrockford);
  return request;
}

void PersonHistoryWriter::Appended() {
  if (++version_ == kHistoryLength) StartPerson();
}

size_t PersonHistoryWriter::RecordBytes(const eventstore::AppendRequest& r) {
  const eventstore::NewEvent& e = r.events.at(0);
  constexpr size_t kTimestamps = 8 + 6;  // recorded-at, effective-at delta (zig-zag varints)
  // The chain hash: whole (32 bytes) at one position in 16, a 4-byte check at the others
  // (record layouts 3-4, eventstore/FORMAT.md): about 6 bytes a record.
  constexpr size_t kHash = 6;
  return 1 + LengthPrefixed(r.stream) + VarintBytes(1) + LengthPrefixed(e.type) +
         VarintBytes(e.schema_version) + kTimestamps + LengthPrefixed(r.actor.id) +
         LengthPrefixed(r.actor.role) + LengthPrefixed(r.correlation_id) +
         LengthPrefixed(r.causation_id) + LengthPrefixed(r.idempotency_key) +
         LengthPrefixed(e.body) + LengthPrefixed(e.personal) + kHash;
}

double PersonHistoryWriter::MeanRecordBytes() {
  PersonHistoryWriter writer(1);
  constexpr int kSamples = 10 * kHistoryLength;
  size_t total = 0;
  for (int i = 0; i < kSamples; ++i) {
    total += RecordBytes(writer.Next());
    writer.Appended();
  }
  return static_cast<double>(total) / kSamples;
}

}  // namespace caseledger::workload
