#include "projections/people_spill.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

namespace caseledger::projections {
namespace {

using eventstore::StoreError;
using eventstore::StoreErrorCode;

constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// Each character's value in kCrockford, -1 for the others: a look-up, where a search of
// kCrockford per letter (memchr) made PackUlid ~400 instructions an id, once per person
// written to the spill and per read back (docs/benchmarks.md, session 27).
constexpr std::array<int8_t, 256> kCrockfordValues = [] {
  std::array<int8_t, 256> values{};
  values.fill(-1);
  for (size_t i = 0; i < kCrockford.size(); ++i) values[static_cast<unsigned char>(kCrockford[i])] = static_cast<int8_t>(i);
  return values;
}();

int CrockfordValue(char c) { return kCrockfordValues[static_cast<unsigned char>(c)]; }

StoreError IoError(const std::string& what, const std::string& path) {
  return StoreError(StoreErrorCode::kIo, what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

bool PeopleSpill::PackUlid(std::string_view id, std::array<uint64_t, 2>& out) {
  if (id.size() != 26) return false;
  unsigned __int128 bits = 0;
  for (size_t i = 0; i < id.size(); ++i) {
    const int v = CrockfordValue(id[i]);
    if (v < 0 || (i == 0 && v > 7)) return false;
    bits = (bits << 5) | static_cast<unsigned>(v);
  }
  out = {static_cast<uint64_t>(bits >> 64), static_cast<uint64_t>(bits)};
  return true;
}

std::string PeopleSpill::UnpackUlid(const std::array<uint64_t, 2>& k) {
  unsigned __int128 bits = (static_cast<unsigned __int128>(k[0]) << 64) | k[1];
  std::string id(26, '0');
  for (size_t i = 26; i-- > 0;) {
    id[i] = kCrockford[static_cast<size_t>(bits & 31)];
    bits >>= 5;
  }
  return id;
}

PeopleSpill::Result<std::unique_ptr<PeopleSpill>> PeopleSpill::Create(std::string path) {
  std::unique_ptr<PeopleSpill> spill(new PeopleSpill());
  spill->fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (spill->fd_ < 0) return IoError("cannot create", path);
  spill->path_ = std::move(path);
  return spill;
}

PeopleSpill::~PeopleSpill() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
}

uint64_t PeopleSpill::Locate(std::string_view value) {
  const uint64_t where = ((end_ + pending_.size()) << kLengthBits) | value.size();
  pending_.append(value);
  return where;
}

void PeopleSpill::Put(std::string_view id, std::string_view value) {
  if (value.size() >= (uint64_t{1} << kLengthBits)) throw std::length_error("person entry over 16 MiB");
  std::array<uint64_t, 2> key;
  if (PackUlid(id, key)) {
    ulids_.insert_or_assign(key, Locate(value));
  } else {
    others_.insert_or_assign(std::string(id), Locate(value));
  }
}

PeopleSpill::Result<void> PeopleSpill::Write() {
  size_t done = 0;
  while (done < pending_.size()) {
    const ssize_t n = ::pwrite(fd_, pending_.data() + done, pending_.size() - done, static_cast<off_t>(end_ + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot write", path_);
    }
    done += static_cast<size_t>(n);
  }
  end_ += pending_.size();
  pending_.clear();
  return {};
}

PeopleSpill::Result<void> PeopleSpill::ReadAt(uint64_t where, std::string& value) const {
  const uint64_t offset = where >> kLengthBits;
  const size_t length = where & ((uint64_t{1} << kLengthBits) - 1);
  value.resize(length);
  if (offset >= end_) {  // put since the last Write
    value.assign(pending_, offset - end_, length);
    return {};
  }
  size_t done = 0;
  while (done < length) {
    const ssize_t n = ::pread(fd_, value.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? IoError("cannot read", path_) : StoreError(StoreErrorCode::kCorruption, "short read of " + path_);
    done += static_cast<size_t>(n);
  }
  return {};
}

PeopleSpill::Result<bool> PeopleSpill::Get(std::string_view id, std::string& value) const {
  std::array<uint64_t, 2> key;
  uint64_t where = 0;
  if (PackUlid(id, key)) {
    auto it = ulids_.find(key);
    if (it == ulids_.end()) return false;
    where = it->second;
  } else {
    auto it = others_.find(id);
    if (it == others_.end()) return false;
    where = it->second;
  }
  if (auto read = ReadAt(where, value); !read) return read.error();
  return true;
}

PeopleSpill::Sorted PeopleSpill::TakeSorted() {
  // ULIDs sort as their bits do (the alphabet is in ASCII order); the others (none but in
  // tests) are merged in by their text.
  Sorted sorted(*this);
  auto packed = std::make_shared<Sorted::Packed>(ulids_.begin(), ulids_.end());
  ulids_ = {};
  std::sort(packed->begin(), packed->end());
  auto others = std::make_shared<Sorted::Others>(others_.begin(), others_.end());
  others_ = {};
  std::sort(others->begin(), others->end());
  sorted.packed_end_ = packed->size();
  sorted.others_end_ = others->size();
  sorted.packed_ = std::move(packed);
  sorted.others_ = std::move(others);
  sorted.Settle();
  return sorted;
}

void PeopleSpill::Sorted::Settle() {
  if (Done()) return;
  if (packed_at_ < packed_end_) id_ = UnpackUlid((*packed_)[packed_at_].first);
  other_ = others_at_ < others_end_ && (packed_at_ == packed_end_ || (*others_)[others_at_].first < id_);
  if (other_) {
    id_ = (*others_)[others_at_].first;
    where_ = (*others_)[others_at_].second;
  } else {
    where_ = (*packed_)[packed_at_].second;
  }
}

void PeopleSpill::Sorted::Next() {
  if (Done()) return;
  ++(other_ ? others_at_ : packed_at_);
  Settle();
}

std::string PeopleSpill::Sorted::Middle() const {
  if (packed_end_ - packed_at_ >= others_end_ - others_at_) {
    return packed_at_ == packed_end_ ? std::string() : UnpackUlid((*packed_)[(packed_at_ + packed_end_) / 2].first);
  }
  return (*others_)[(others_at_ + others_end_) / 2].first;
}

PeopleSpill::Sorted PeopleSpill::Sorted::SplitAt(const std::string& from) {
  // By the ids' text, as Settle merges them (a pivot need not be a ULID).
  const auto packed_from = std::partition_point(
      packed_->begin() + static_cast<ptrdiff_t>(packed_at_), packed_->begin() + static_cast<ptrdiff_t>(packed_end_),
      [&](const auto& entry) { return UnpackUlid(entry.first) < from; });
  const auto others_from = std::partition_point(
      others_->begin() + static_cast<ptrdiff_t>(others_at_), others_->begin() + static_cast<ptrdiff_t>(others_end_),
      [&](const auto& entry) { return entry.first < from; });
  Sorted upper(*spill_);
  upper.packed_ = packed_;
  upper.others_ = others_;
  upper.packed_at_ = static_cast<size_t>(packed_from - packed_->begin());
  upper.packed_end_ = packed_end_;
  upper.others_at_ = static_cast<size_t>(others_from - others_->begin());
  upper.others_end_ = others_end_;
  packed_end_ = upper.packed_at_;
  others_end_ = upper.others_at_;
  upper.Settle();
  Settle();
  return upper;
}

size_t PeopleSpill::IndexBytes() const {
  return ulids_.capacity() * (sizeof(std::pair<std::array<uint64_t, 2>, uint64_t>) + 1) +
         others_.capacity() * (sizeof(std::pair<std::string, uint64_t>) + 1);
}

}  // namespace caseledger::projections
