#include "projections/person_entry.h"

#include <stdexcept>
#include <vector>

namespace caseledger::projections {
namespace {

constexpr size_t kMaxParts = 32;  // as the runner's folds (a bit each)

void PutLength(std::string& out, size_t n) {
  while (n >= 0x80) {
    out.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
}

// Reads a length and that many bytes from the front of `in`.
bool TakePiece(std::string_view& in, std::string_view& piece) {
  uint64_t n = 0;
  for (int shift = 0;; shift += 7) {
    if (in.empty() || shift > 28) return false;
    const auto byte = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    n |= uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80u) == 0) break;
  }
  if (n > in.size()) return false;
  piece = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}

}  // namespace

std::string EncodePersonEntry(const PersonRecord& record, std::span<const FoldState> states,
                              std::span<PersonFold* const> folds) {
  std::string out;
  EncodePersonEntryTo(record, states, folds, out);
  return out;
}

void EncodePersonEntryTo(const PersonRecord& record, std::span<const FoldState> states,
                         std::span<PersonFold* const> folds, std::string& out) {
  if (states.size() != folds.size()) throw std::logic_error("a person entry with another number of fold states");
  // The record's bytes in a buffer of the thread's, kept: encoded into a new string, a
  // record of a few hundred bytes grew it by doubling five or six times, then was copied
  // (docs/benchmarks.md, session 27).
  thread_local std::string bytes;
  bytes.clear();
  PersonDirectory::EncodeTo(record, bytes);
  out.clear();
  out.push_back(kPersonEntryFormat);
  PutLength(out, bytes.size());
  out.append(bytes);
  for (size_t k = 0; k < folds.size(); ++k) {
    const std::string part = folds[k]->Part(record, states[k]);
    PutLength(out, part.size());
    out.append(part);
  }
}

bool SplitPersonEntry(std::string_view bytes, std::string_view& record, std::span<std::string_view> parts) {
  if (bytes.empty() || bytes.front() != kPersonEntryFormat) return false;
  bytes.remove_prefix(1);
  if (!TakePiece(bytes, record)) return false;
  for (std::string_view& part : parts) {
    if (!TakePiece(bytes, part)) return false;
  }
  return bytes.empty();
}

bool DecodePersonRecord(std::string_view bytes, size_t folds, PersonRecord& out) {
  if (folds > kMaxParts) return false;
  std::string_view record, parts[kMaxParts];
  return SplitPersonEntry(bytes, record, std::span(parts, folds)) && PersonDirectory::Decode(record, out);
}

bool LoadPersonEntry(std::string_view person_id, std::string_view bytes, PersonDirectory& directory,
                     std::span<PersonFold* const> folds) {
  if (folds.size() > kMaxParts) return false;
  std::string_view record, parts[kMaxParts];
  if (!SplitPersonEntry(bytes, record, std::span(parts, folds.size()))) return false;
  if (!directory.Load(person_id, record)) return false;
  const PersonRecord& loaded = *directory.Find(person_id);
  const std::span<FoldState> states = directory.FoldStates(person_id);
  if (states.size() != folds.size()) return false;
  for (size_t k = 0; k < folds.size(); ++k) {
    if (!folds[k]->Restore(loaded, parts[k], states[k])) return false;
  }
  return true;
}

}  // namespace caseledger::projections
