// Decide for registry data (registration, residence, GP, school, erasure). The clinical
// commands are in person_decide_clinical.cc.
#include "domain/person_decide_internal.h"

#include "domain/tax_code.h"
#include "domain/validation.h"

namespace caseledger::domain {
namespace internal {

Result<Decision> One(Event event, Timestamp effective_at, std::vector<std::string> claims) {
  Decision d;
  d.events.push_back({std::move(event), effective_at});
  d.claims = std::move(claims);
  return d;
}

Result<Decision> DecideRegister(const PersonState& s, const RegisterPerson& c,
                                const DecideContext& ctx) {
  if (s.registered) return Error::Conflict("person is already registered");
  FieldErrors errors;
  PersonRegistered e;
  e.person_id = ctx.new_person_id;
  e.sex = c.sex;
  if (auto v = errors.Take(ValidateName(c.family_name, "family_name"))) e.personal.family_name = *v;
  if (auto v = errors.Take(ValidateName(c.given_names, "given_names"))) e.personal.given_names = *v;
  if (auto v = errors.Take(ValidateBirthDate(c.birth_date, ctx.now, "birth_date"))) {
    e.personal.birth_date = v->ToString();
  }
  if (c.sex == Sex::kUnknown) errors.Add("sex", "sex must be M or F");
  if (ctx.reference == nullptr) return Error::Invalid("residence_istat", "no reference table loaded");
  if (auto v = errors.Take(ValidateIstatCode(c.residence_istat, *ctx.reference, "residence_istat"))) {
    e.residence_istat = *v;
  }
  if (!c.address.empty()) {
    if (auto v = errors.Take(ValidateName(c.address, "address"))) e.personal.address = *v;
  }
  if (!c.phone.empty()) {
    if (auto v = errors.Take(ValidatePhone(c.phone, "phone"))) e.personal.phone = *v;
  }
  std::vector<std::string> claims;
  if (!c.tax_code.empty()) {
    if (auto tc = errors.Take(ParseTaxCode(c.tax_code, ctx.now.ToDate(), "tax_code"))) {
      e.personal.tax_code = tc->code;
      // The given birth date decides the century; the code must agree with the rest.
      const char sex = c.sex == Sex::kFemale ? 'F' : c.sex == Sex::kMale ? 'M' : tc->sex;
      for (FieldError& f : TaxCodeDisagreements(*tc, c.birth_date, sex)) errors.Add(f.field, f.message);
      claims.push_back(std::string(kTaxCodeClaimPrefix) + tc->code);
    }
  }
  if (!IsPersonId(ctx.new_person_id)) {
    return Error::Invalid("id", "server assigned an invalid person id");
  }
  if (!errors.empty()) return errors.ToError();
  return One(std::move(e), ctx.now, std::move(claims));
}

Result<Decision> DecideResidence(const PersonState& s, const ChangeResidence& c,
                                 const DecideContext& ctx) {
  if (ctx.reference == nullptr) return Error::Invalid("istat", "no reference table loaded");
  FieldErrors errors;
  ResidenceChanged e;
  e.from_istat = s.residence_istat;
  if (auto v = errors.Take(ValidateIstatCode(c.istat, *ctx.reference, "istat"))) e.to_istat = *v;
  if (!c.address.empty()) {
    if (auto v = errors.Take(ValidateName(c.address, "address"))) e.personal.address = *v;
  }
  if (!errors.empty()) return errors.ToError();
  if (s.erased && !e.personal.address.empty()) {
    return Error::Rule("personal data of this person was erased; no address is recorded again");
  }
  if (e.to_istat == s.residence_istat && e.personal.address.empty()) {
    return Error::Rule("person already resides in " + e.to_istat);
  }
  return One(std::move(e), ctx.now, {});
}

Result<Decision> DecideGp(const PersonState& s, const AssignGp& c, const DecideContext& ctx) {
  auto gp = ValidateGpId(c.gp_id, "gp_id");
  if (!gp) return gp.error();
  if (*gp == s.gp_id) return Error::Rule("GP " + *gp + " is already assigned");
  return One(GpAssigned{*gp, s.gp_id}, ctx.now, {});
}

Result<Decision> DecideEnrol(const PersonState& s, const EnrolInSchool& c,
                             const DecideContext& ctx) {
  FieldErrors errors;
  SchoolEnrolled e;
  e.role = c.role;
  if (auto v = errors.Take(ValidateSchoolCode(c.school, "school"))) e.school = *v;
  if (auto v = errors.Take(ValidateClassLabel(c.class_label, "class"))) e.class_label = *v;
  if (!errors.empty()) return errors.ToError();
  for (const Enrolment& en : s.enrolments) {
    if (en.school == e.school && en.class_label == e.class_label) {
      return Error::Rule("already enrolled in " + e.school + " class " + e.class_label);
    }
  }
  if (s.deceased()) return Error::Rule("person is deceased");
  return One(std::move(e), ctx.now, {});
}

Result<Decision> DecideLeave(const PersonState& s, const LeaveSchool& c, const DecideContext& ctx) {
  FieldErrors errors;
  auto school = errors.Take(ValidateSchoolCode(c.school, "school"));
  auto label = errors.Take(ValidateClassLabel(c.class_label, "class"));
  if (!errors.empty()) return errors.ToError();
  for (const Enrolment& en : s.enrolments) {
    if (en.school == *school && en.class_label == *label) {
      return One(SchoolLeft{en.school, en.class_label, en.role}, ctx.now, {});
    }
  }
  return Error::Rule("not enrolled in " + *school + " class " + *label);
}

Result<Decision> DecideErase(const PersonState& s, const ErasePersonalData& c,
                             const DecideContext& ctx) {
  if (s.erased) return Error::Rule("personal data already erased");
  if (c.legal_reason.size() < 3) return Error::Invalid("legal_reason", "a legal reason is required");
  auto d = One(PersonalDataErased{c.legal_reason}, ctx.now, {});
  // The tax code lookup goes with the data: keeping it would keep the code itself
  // (as a keyed hash) and let anyone holding the master key test for it.
  if (!s.personal.tax_code.empty()) {
    d->released_claims.push_back(std::string(kTaxCodeClaimPrefix) + s.personal.tax_code);
  }
  d->erases_personal_data = true;
  return d;
}

}  // namespace internal

Result<Decision> Decide(const PersonState& state, const PersonCommand& command,
                        const DecideContext& context) {
  using namespace internal;
  if (!std::holds_alternative<RegisterPerson>(command) && !state.registered) {
    return Error::NotFound("person not found");
  }
  return std::visit(
      [&](const auto& c) -> Result<Decision> {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, RegisterPerson>) return DecideRegister(state, c, context);
        else if constexpr (std::is_same_v<C, ChangeResidence>) return DecideResidence(state, c, context);
        else if constexpr (std::is_same_v<C, AssignGp>) return DecideGp(state, c, context);
        else if constexpr (std::is_same_v<C, EnrolInSchool>) return DecideEnrol(state, c, context);
        else if constexpr (std::is_same_v<C, LeaveSchool>) return DecideLeave(state, c, context);
        else if constexpr (std::is_same_v<C, ErasePersonalData>) return DecideErase(state, c, context);
        else return DecideClinical(state, c, context);
      },
      command);
}

}  // namespace caseledger::domain
