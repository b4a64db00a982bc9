// Italian codice fiscale of a natural person (DM 23/12/1976): parsing with check letter and
// omocodia, the surname/name cross-check, and composition for generated people.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "domain/error.h"
#include "domain/time.h"

namespace caseledger::domain {

// A parsed, checked codice fiscale.
struct TaxCode {
  std::string code;        // normalised: upper case, as given (omocodia letters kept)
  Date birth_date;         // decoded (century: the latest date that is not after `today`)
  int year_digits = 0;     // the birth year's last two digits as written, 0-99
  unsigned month = 1;      // 1-12
  unsigned day = 1;        // 1-31 (without the 40 added for women)
  char sex = 'M';          // 'M' or 'F' (day + 40 means F)
  std::string birthplace;  // Belfiore code with omocodia letters restored to digits, e.g. "L219"
  bool operator==(const TaxCode&) const = default;
};

// Layout (0-based): [0,6) letters of surname and name, [6,8) year, 8 month letter
// (ABCDEHLMPRST), [9,11) day (01-31, +40 for women), 11 Belfiore letter, [12,15) Belfiore
// digits, 15 check letter. Omocodia: any digit position (6,7,9,10,12,13,14) may hold
// L M N P Q R S T U V for 0..9; the check letter is computed on the code as written.
//
// Surrounding whitespace is ignored and lower case accepted. On failure returns an
// kInvalidArgument Error with exactly one FieldError for `field` saying what is wrong. The
// century is the one that puts the birth date latest without being after `today`, so a person
// can never be born in the future nor be more than 100 years old according to the code alone.
Result<TaxCode> ParseTaxCode(std::string_view text, Date today,
                             std::string_view field = "tax_code");

// Where the code disagrees with a person's given birth date and sex: at most one FieldError
// for "birth_date" (naming the year's last two digits, the month or the day that differ)
// and one for "sex"; empty when they agree. The code cannot tell a century (a code with
// year 23 is 1923 or 2023 alike), so the given birth date is authoritative for it: people
// born 1900-1926 and centenarians register with their real birth date. Whether that date
// is plausible (not in the future, not before kEarliestBirthYear) is ValidateBirthDate's.
std::vector<FieldError> TaxCodeDisagreements(const TaxCode& tc, Date birth_date, char sex);

// The check letter of the first 15 characters of a code (upper case letters and digits).
// REQUIRES: `first15.size() >= 15` and characters in [A-Z0-9]; only the first 15 are read
// (shorter input or other characters give a defined but meaningless letter).
char TaxCodeCheckCharacter(std::string_view first15);

// Three letters of a surname: consonants, then vowels, then 'X' padding.
std::string EncodeFamilyName(std::string_view family_name);
// Three letters of given names: 1st, 3rd and 4th consonant when there are more than three
// consonants, otherwise as for the surname. Names are UTF-8; accented Latin letters count as
// their base letter, other characters (spaces, apostrophes) are ignored.
std::string EncodeGivenNames(std::string_view given_names);

// True when the first six letters of `tc` match the encoding of the names. A mismatch is not
// proof of a wrong code (the Agenzia delle Entrate sometimes assigns codes by hand), so callers
// use this as a warning, not a rejection.
bool TaxCodeMatchesNames(const TaxCode& tc, std::string_view family_name,
                         std::string_view given_names);

// The code the algorithm gives to a person (no omocodia). Used by the load generator.
// REQUIRES: `sex` is 'M' or 'F'; `belfiore` is a letter followed by three digits.
std::string ComposeTaxCode(std::string_view family_name, std::string_view given_names,
                           Date birth_date, char sex, std::string_view belfiore);

}  // namespace caseledger::domain
