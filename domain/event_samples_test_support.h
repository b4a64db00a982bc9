// Test support: one instance of every event type (domain/*_test.cc), for the codec's tests.
#pragma once

#include "domain/events.h"

#include <string>
#include <string_view>
#include <vector>

namespace caseledger::domain {

inline constexpr std::string_view kPersonId = "01HF8Z3K4M5N6P7Q8R9S0T1V2W";
inline constexpr std::string_view kContactId = "01HF8Z3K4M5N6P7Q8R9S0T1V2X";

inline Date Nov(unsigned day) { return Date::FromYmd(2020, 11, day); }
inline Timestamp At(std::string_view rfc3339) { return *Timestamp::Parse(rfc3339); }

inline PersonRegistered Anna() {
  return {std::string(kPersonId), Sex::kFemale, "001156",
          Personal{"Quaglierini", "Anna Maria", "QGLNMR90D65L219X", "1990-04-25", "Via Roma 1",
                   "+390111234567"}};
}

// One instance of every event type, every field set to a value other than its default.
inline std::vector<Event> EveryEvent() {
  const Timestamp t = At("2020-11-10T09:15:30.123456Z");
  return {
      Anna(),
      ResidenceChanged{"001272", "001156", Personal{"", "", "", "", "Corso Trieste 5", ""}},
      GpAssigned{"GP67890", "GP12345"},
      SchoolEnrolled{"TOIC81200X", "3B", SchoolRole::kStaff},
      SchoolLeft{"TOPS01000B", "1A", SchoolRole::kStaff},
      SwabRequested{"SW-000001", SwabKind::kAntigen, "symptoms", "GP12345", At("2020-11-09T17:00:00Z")},
      SwabCollected{"SW-000001", t, "Drive-in Parco Dora", "LAB02"},
      SampleHandedOver{"SW-000001", "LAB02", "LAB01", At("2020-11-10T12:00:00Z")},
      ResultRecorded{"SW-000001", Outcome::kInconclusive, "LAB01", At("2020-11-11T08:00:00Z")},
      ResultCorrected{"SW-000001", Outcome::kInconclusive, Outcome::kPositive, "retest", "LAB02",
                      At("2020-11-12T08:00:00Z")},
      IsolationOrdered{3, Nov(10), "positive", Nov(20)},
      QuarantineOrdered{4, Nov(9), "close_contact", std::string(kContactId), Nov(23)},
      MeasureEnded{4, Nov(12), MeasureEndReason::kCaseClosed},
      ContactReported{std::string(kPersonId), Nov(8)},
      VaccinationRecorded{3, Date::FromYmd(2021, 12, 1), "Spikevax"},
      Hospitalized{t, "Molinette"},
      IcuAdmitted{At("2020-11-13T02:00:00Z"), "Mauriziano"},
      Discharged{At("2020-11-20T11:00:00Z"), "San Luigi"},
      CaseClosed{CaseOutcome::kDeceased, Nov(14)},
      PersonalDataErased{"GDPR art. 17"},
      ClassQuarantineOrdered{"3B", Nov(10), "positive_in_class", Nov(20)},
      RulesAdopted{"2020-10-12", Date::FromYmd(2020, 10, 12), R"({"isolation":{"days":10}})"},
      AccessGranted{"mrossi", "operator", "TO5"},
      AccessRevoked{"lbianchi", "lab", "LAB01"},
  };
}

}  // namespace caseledger::domain
