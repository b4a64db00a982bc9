// Shared by the bad-input battery (bad_input_test.cc, bad_input_transport_test.cc): the
// checks every rejection must pass and valid request bodies to spoil.
#pragma once

#include "domain/tax_code.h"
#include "domain/time.h"
#include "tests/support/test_server.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <string>
#include <string_view>

namespace caseledger::testing {

// Asserts that `reply` is an RFC 9457 problem with `status`: content type, the four
// members, `errors[].field == field` when `field` is not empty, and nothing internal
// (exception text, storage engine, file paths, source locations) in the body.
inline void ExpectProblem(const HttpReply& reply, int status, std::string_view field = "") {
  EXPECT_EQ(reply.status, status) << reply.body;
  EXPECT_TRUE(reply.Header("content-type").starts_with("application/problem+json"))
      << "content-type: " << reply.Header("content-type");
  boost::json::value v = reply.Json();
  ASSERT_TRUE(v.is_object()) << "not a JSON object: " << reply.body;
  const auto& o = v.as_object();
  for (const char* key : {"type", "title", "detail"}) {
    const auto* m = o.if_contains(key);
    ASSERT_TRUE(m && m->is_string() && !m->as_string().empty()) << key << " in " << reply.body;
  }
  const auto* s = o.if_contains("status");
  ASSERT_TRUE(s && s->is_int64()) << reply.body;
  EXPECT_EQ(s->as_int64(), status);
  if (!field.empty()) {
    const auto* errors = o.if_contains("errors");
    ASSERT_TRUE(errors && errors->is_array()) << "no errors[] in " << reply.body;
    bool named = false;
    for (const auto& e : errors->as_array()) {
      const auto* f = e.is_object() ? e.as_object().if_contains("field") : nullptr;
      const auto* m = e.is_object() ? e.as_object().if_contains("message") : nullptr;
      EXPECT_TRUE(m && m->is_string() && !m->as_string().empty()) << reply.body;
      if (f && f->is_string() && f->as_string() == field) named = true;
    }
    EXPECT_TRUE(named) << "no error names field " << field << ": " << reply.body;
  }
  std::string lower = reply.body;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* leak : {"exception", "rocksdb", "what()", "std::", "/tmp/", "/work/", ".cc",
                           ".cpp", "stack", "terminate", "boost", "errno"}) {
    EXPECT_EQ(lower.find(leak), std::string::npos) << "leaks \"" << leak << "\": " << reply.body;
  }
}

// Today's civil date in Italy, as the server's validators see it.
inline domain::Date TodayInItaly() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return domain::Timestamp{std::chrono::duration_cast<std::chrono::microseconds>(now).count()}
      .ToDate();
}

// A valid registration for someone born in Torino; `tax_code` empty: derived from the rest.
struct Registration {
  std::string family = "Rossi";
  std::string given = "Mario";
  std::string birth = "1985-12-10";
  char sex = 'M';
  std::string istat = "001272";
  std::string tax_code;

  std::string ValidTaxCode() const {
    return domain::ComposeTaxCode(family, given, *domain::Date::Parse(birth), sex, "L219");
  }
  boost::json::object Object() const {
    return {{"tax_code", tax_code.empty() ? ValidTaxCode() : tax_code},
            {"family_name", family},
            {"given_names", given},
            {"birth_date", birth},
            {"sex", std::string(1, sex)},
            {"residence_istat", istat},
            {"address", "Via Roma 1"},
            {"phone", "+39 011 1234567"}};
  }
  std::string Body() const { return boost::json::serialize(Object()); }
};

}  // namespace caseledger::testing
