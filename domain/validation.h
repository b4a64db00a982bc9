// Field validators used at the edge of the domain. Each is pure: it returns the normalised
// value, or a kInvalidArgument Error carrying exactly one FieldError for `field` whose message
// says what is wrong. Surrounding ASCII whitespace is trimmed before checking strings.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/error.h"
#include "domain/reference.h"
#include "domain/time.h"

namespace caseledger::domain {

// Earliest effective date accepted for events (the registry starts with the pandemic).
inline constexpr int kEarliestEffectiveYear = 2020;
// Earliest birth date accepted.
inline constexpr int kEarliestBirthYear = 1890;

// Six digits that name a municipality present in `ref`.
Result<std::string> ValidateIstatCode(std::string_view text, const ReferenceData& ref,
                                      std::string_view field);
// Codice meccanografico (TOIC81200X, TOPS01000B, TOEE123456): 2-letter province, 2-letter
// school type, 5 alphanumerics, 1 alphanumeric check; returned upper case.
Result<std::string> ValidateSchoolCode(std::string_view text, std::string_view field);
// Class label ("3B", "1A", "5AS", "2"): year 1..8 in one or two digits, then up to 3 letters;
// returned upper case without a leading zero ("03b" -> "3B").
Result<std::string> ValidateClassLabel(std::string_view text, std::string_view field);
// Regional GP/paediatrician code: 4-16 of [A-Z0-9] with at least one digit; upper-cased.
Result<std::string> ValidateGpId(std::string_view text, std::string_view field);
// Laboratory registry code: 3-16 of [A-Z0-9_-]; upper-cased.
Result<std::string> ValidateLabId(std::string_view text, std::string_view field);
// Sample barcode: 6-40 of [A-Za-z0-9-]; case is kept (barcodes are case sensitive).
Result<std::string> ValidateSwabId(std::string_view text, std::string_view field);
// Server-assigned person id: a ULID, 26 Crockford base32 characters (no I, L, O, U), first
// character 0-7; lower case accepted, returned upper case.
Result<std::string> ValidatePersonId(std::string_view text, std::string_view field);
// Whether ValidatePersonId accepts `text`, without making the upper-cased copy (a heap
// string per person query that only asked whether the id is one).
bool IsPersonId(std::string_view text);

// Not after the Italian civil day of `now + kMaxClockSkewMicros`, not before 2020-01-01.
Result<Date> ValidateEffectiveDate(Date d, Timestamp now, std::string_view field);
// Not after `now + kMaxClockSkewMicros`, not before midnight of 2020-01-01 in Italy.
Result<Timestamp> ValidateEffectiveInstant(Timestamp t, Timestamp now, std::string_view field);
// Not after the Italian civil day of `now + kMaxClockSkewMicros`, not before 1890-01-01.
Result<Date> ValidateBirthDate(Date d, Timestamp now, std::string_view field);

// A person's name: after trimming, 1-100 bytes of valid UTF-8 without control characters.
Result<std::string> ValidateName(std::string_view text, std::string_view field);
// Phone number: optional leading '+', then 6-16 digits; spaces are removed.
Result<std::string> ValidatePhone(std::string_view text, std::string_view field);

// Collects the field errors of a whole command so the caller reports all of them at once:
//
//   FieldErrors errors;
//   auto istat = errors.Take(ValidateIstatCode(cmd.istat, ref, "residence.istat"));
//   auto phone = errors.Take(ValidatePhone(cmd.phone, "phone"));
//   if (!errors.empty()) return errors.ToError();
//
// Not thread-safe; meant to live on the stack of one validation.
class FieldErrors {
 public:
  bool empty() const { return fields_.empty(); }
  const std::vector<FieldError>& fields() const { return fields_; }

  void Add(std::string field, std::string message) {
    fields_.push_back({std::move(field), std::move(message)});
  }

  // The value of `r`, or nullopt after appending its field errors (its message, under an
  // empty field name, when it has none).
  template <class T>
  std::optional<T> Take(Result<T> r) {
    if (r) return std::move(*r);
    Error e = std::move(r).error();  // error() returns by value: keep one copy
    if (e.fields.empty()) {
      Add({}, std::move(e.message));
    } else {
      for (FieldError& f : e.fields) fields_.push_back(std::move(f));
    }
    return std::nullopt;
  }

  // A kInvalidArgument Error with every collected field error, its message the first one's.
  // Check empty() first: with nothing collected it is a bare "invalid input".
  Error ToError() const { return Error::Invalid(fields_); }

 private:
  std::vector<FieldError> fields_;
};

// Same as `out.Take(std::move(r))`.
template <class T>
std::optional<T> Check(Result<T> r, FieldErrors& out) {
  return out.Take(std::move(r));
}

}  // namespace caseledger::domain
