// Private to projections/: a person's entry in the views database ("people/<id>"), the
// state of everyone who folds that person, each part encoded and decoded by its owner: the
// directory's record (PersonDirectory::Encode) and the part of each view's person fold
// (PersonFold::Part of its state, in the order of the views: meta/views fixes it).
//
// Why one entry: a catch-up within the memory budget reads back most of the people a batch
// touches (their record and, for a GP's patient, the GP view's row), one point read each,
// a block read and decompressed per read. With the fold's part beside the record, the one
// read of the record serves the row too (docs/benchmarks.md, 2026-12-03, session 9). The
// row is still written under the view's own key as well, for the readers of the view.
#pragma once

#include "projections/person_directory.h"
#include "projections/view.h"

#include <span>
#include <string>
#include <string_view>

namespace caseledger::projections {

// Format byte 0x03, then the record's length (varint) and bytes, then each fold's part:
// its length (varint; 0 for a fold that keeps nothing for the person) and bytes.
inline constexpr char kPersonEntryFormat = 0x03;

// A person's entry after a batch: the record and every fold's part of its state (`states`:
// the person's in the directory, one per fold).
std::string EncodePersonEntry(const PersonRecord& record, std::span<const FoldState> states,
                              std::span<PersonFold* const> folds);
// The same into `out` (replaced), for a writer of many entries that reuses one buffer.
void EncodePersonEntryTo(const PersonRecord& record, std::span<const FoldState> states,
                         std::span<PersonFold* const> folds, std::string& out);

// Splits an entry into the record's bytes and `parts.size()` parts (views of `bytes`).
// False for another format byte, short input, another number of parts or bytes left over.
bool SplitPersonEntry(std::string_view bytes, std::string_view& record, std::span<std::string_view> parts);

// The record alone (FindPerson); false as SplitPersonEntry or when the record does not decode.
bool DecodePersonRecord(std::string_view bytes, size_t folds, PersonRecord& out);

// Caches the record in `directory` (Load) with each fold's state restored from its part
// (Restore). False: the entry or one of its parts does not decode.
bool LoadPersonEntry(std::string_view person_id, std::string_view bytes, PersonDirectory& directory,
                     std::span<PersonFold* const> folds);

}  // namespace caseledger::projections
