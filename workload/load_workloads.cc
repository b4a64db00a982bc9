#include "workload/load_workloads.h"

#include <array>
#include <boost/json.hpp>
#include <chrono>

#include "domain/tax_code.h"
#include "domain/time.h"

namespace caseledger::workload {
namespace {

// Surnames common in Piedmont, and Italian given names.
constexpr std::array kFamilyNames = {
    "Ferrero",   "Bianco",     "Rossi",      "Gallo",    "Russo",     "Colombo",    "Costa",
    "Bruno",     "Ferrari",    "Ricci",      "Marino",   "Greco",     "Giordano",   "Conti",
    "Romano",    "Martini",    "Fontana",    "Rizzo",    "Barbero",   "Gili",       "Rosso",
    "Bertola",   "Bosio",      "Cravero",    "Garelli",  "Ghione",    "Giraudo",    "Margaria",
    "Olivero",   "Peano",      "Quaglia",    "Revelli",  "Rinaudo",   "Roggero",    "Sola",
    "Tosco",     "Vigna",      "Audisio",    "Baudino",  "Bergese",   "Boero",      "Borgna",
    "Cerutti",   "Chiesa",     "Coppo",      "Dutto",    "Fenoglio",  "Fissore",    "Gamba",
    "Lerda",     "Marengo",    "Manera",     "Molinari", "Novarese",  "Operti",     "Pautasso",
    "Perotti",   "Pons",       "Rabino",     "Racca",    "Sacco",     "Sandrone",   "Savio",
    "Serra",     "Testa",      "Tarditi",    "Vaira",    "Zanetti",   "Allasia",    "Arnaudo",
    "Bellino",   "Bonino",     "Caffaro",    "Dalmasso", "Ellena",    "Ferraris",   "Giacosa",
    "Lingua",    "Massa",      "Mondino",    "Mosca",    "Negro",     "Oddone",     "Pellegrino",
    "Ravera",    "Ribero",     "Ruffino",    "Tomatis",  "Viale",     "Ghigo",      "Cavallo",
    "Ferrua",    "D'Agostino", "Esposito",   "De Luca",  "Lombardi",  "Moretti",    "Barbieri",
    "Santoro",   "Mariani",    "Rinaldi",    "Caruso",   "Ferrara",   "Galli",      "Leone",
    "Longo",     "Gentile",    "Martinelli", "Vitale",   "Lombardo",  "Coppola",    "De Santis",
    "Marchetti", "Parisi",     "Villa",      "Conte",    "Ferraro",   "Ferri",      "Fabbri",
    "Marini",    "Grasso",     "Valentini",  "Messina",  "Sala",      "Gatti",      "Pellegrini",
    "Palumbo",   "Sanna",      "Farina",     "Rizzi",    "Monti",     "Cattaneo",   "Morelli",
    "Amato",     "Silvestri",  "Mazza",      "Grassi",   "Carbone",   "Giuliani",   "Benedetti",
    "Barone",    "Caputo",     "Montanari",  "Guerra",   "Palmieri",  "Bernardi",   "Fiore",
    "De Rosa",   "Bellini",    "Basile",     "Riva",     "Donati",    "Piras",      "Vitali",
    "Battaglia", "Sartori",    "Neri",       "Milani",   "Pagano",    "Ruggiero",   "Orlando",
    "Bassi",     "Cirillo",    "Bianchi",    "Pace",     "Bertolino", "Chiabrando", "Cornaglia",
    "Demaria",   "Faccenda",   "Gribaudo",   "Lanza",    "Mellano",   "Nasi",       "Oberto",
    "Panero",    "Rolfo",      "Sibona",     "Trucco",   "Valfre",    "Zoppi",      "Aimar",
    "Brero",     "Ceirano"};
constexpr std::array kMaleNames = {
    "Marco",   "Giuseppe", "Giovanni", "Luca",    "Andrea",   "Francesco", "Alessandro", "Matteo",
    "Lorenzo", "Stefano",  "Paolo",    "Roberto", "Davide",   "Simone",    "Federico",   "Mario",
    "Pietro",  "Luigi",    "Antonio",  "Carlo",   "Gabriele", "Riccardo",  "Tommaso",    "Leonardo",
    "Enrico",  "Fabio",    "Massimo",  "Giorgio", "Franco",   "Sergio",    "Michele",    "Daniele",
    "Alberto", "Claudio",  "Emanuele", "Filippo", "Nicola",   "Vittorio",  "Edoardo",    "Gianni"};
constexpr std::array kFemaleNames = {
    "Maria",     "Anna",       "Giulia",  "Francesca", "Chiara", "Sara",     "Laura",    "Elena",
    "Valentina", "Alessandra", "Martina", "Giorgia",   "Silvia", "Paola",    "Federica", "Elisa",
    "Roberta",   "Sofia",      "Aurora",  "Alice",     "Emma",   "Beatrice", "Cristina", "Marta",
    "Giovanna",  "Rosa",       "Angela",  "Lucia",     "Teresa", "Carla",    "Daniela",  "Simona",
    "Barbara",   "Monica",     "Ilaria",  "Camilla",   "Irene",  "Caterina", "Nadia",    "Luisa"};
constexpr std::array kStreets = {"Via Roma",
                                 "Corso Francia",
                                 "Via Garibaldi",
                                 "Via Po",
                                 "Piazza Castello",
                                 "Via Cavour",
                                 "Corso Vittorio Emanuele II",
                                 "Via Mazzini",
                                 "Strada del Mulino",
                                 "Via XX Settembre"};
constexpr std::array kSwabReasons = {"screening", "symptoms", "contact", "travel"};

template <class Array>
const char* Pick(std::mt19937_64& rng, const Array& names) {
  return names[std::uniform_int_distribution<size_t>(0, names.size() - 1)(rng)];
}

bool IsBelfiore(const std::string& code) {
  return code.size() == 4 && code[0] >= 'A' && code[0] <= 'Z' &&
         std::all_of(code.begin() + 1, code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Now minus `minutes`, to the second, as RFC 3339.
std::string MinutesAgo(int minutes) {
  auto now = std::chrono::system_clock::now() - std::chrono::minutes(minutes);
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return domain::Timestamp{seconds * 1'000'000}.ToString();
}

std::string Base36(uint64_t v) {
  std::string out;
  do {
    out.insert(out.begin(), "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[v % 36]);
    v /= 36;
  } while (v);
  return out;
}

}  // namespace

PersonGenerator::PersonGenerator(const domain::ReferenceData& reference, uint64_t seed)
    : rng_(seed) {
  std::vector<double> weights;
  for (const auto& m : reference.municipalities()) {
    if (m.region_code != "01" || m.population <= 0 || !IsBelfiore(m.cadastral_code)) continue;
    municipalities_.push_back(&m);
    weights.push_back(static_cast<double>(m.population));
  }
  by_population_ = std::discrete_distribution<size_t>(weights.begin(), weights.end());
}

PersonGenerator::Person PersonGenerator::Next() {
  static const domain::Date kFirst = domain::Date::FromYmd(1930, 1, 1);
  static const domain::Date kLast = domain::Date::FromYmd(2020, 12, 31);
  for (;;) {
    Person p;
    p.sex = rng_() % 2 ? 'F' : 'M';
    p.family_name = Pick(rng_, kFamilyNames);
    const bool female = p.sex == 'F';
    p.given_names = female ? Pick(rng_, kFemaleNames) : Pick(rng_, kMaleNames);
    if (rng_() % 5 == 0)
      p.given_names +=
          std::string(" ") + (female ? Pick(rng_, kFemaleNames) : Pick(rng_, kMaleNames));
    domain::Date birth{std::uniform_int_distribution<int32_t>(kFirst.days, kLast.days)(rng_)};
    p.birth_date = birth.ToString();
    const domain::Municipality* m =
        municipalities_.empty() ? nullptr : municipalities_[by_population_(rng_)];
    p.residence_istat = m ? m->istat_code : "001272";
    p.municipality = m ? m->name : "Torino";
    // Born where they live: a Piedmont Belfiore code (Torino is L219).
    p.tax_code = domain::ComposeTaxCode(p.family_name, p.given_names, birth, p.sex,
                                        m ? m->cadastral_code : "L219");
    if (tax_codes_.insert(p.tax_code).second) return p;
  }
}

std::string PersonGenerator::RegisterBody(const Person& p) {
  boost::json::object o{
      {"tax_code", p.tax_code},
      {"family_name", p.family_name},
      {"given_names", p.given_names},
      {"birth_date", p.birth_date},
      {"sex", std::string(1, p.sex)},
      {"residence_istat", p.residence_istat},
      {"address", std::string(kStreets[p.tax_code[15] % kStreets.size()]) + " " +
                      std::to_string(1 + p.tax_code[14] % 90)},
      {"phone", "+39 011 " + p.tax_code.substr(9, 2) + p.tax_code.substr(12, 3) + "42"}};
  return boost::json::serialize(o);
}

CaseCommands::CaseCommands(const domain::ReferenceData& reference, uint64_t seed, int thread,
                           uint64_t people_limit)
    : people_(reference, seed * 1'000'003 + static_cast<uint64_t>(thread)),
      rng_(seed * 7'919 + static_cast<uint64_t>(thread)),
      swab_prefix_("LG" + Base36(seed) + "T" + std::to_string(thread) + "-"),
      people_limit_(people_limit) {}

std::string CaseCommands::NextSwabId() { return swab_prefix_ + std::to_string(++swabs_); }

std::optional<LoadRequest> CaseCommands::Next() {
  if (!ready_.empty()) {
    uint64_t id = ready_.front();
    ready_.pop_front();
    ++in_flight_;
    return Build(id, flows_.at(id));
  }
  if (people_limit_ != 0 && started_ >= people_limit_) return std::nullopt;
  PersonGenerator::Person person = people_.Next();
  uint64_t id = next_flow_++;
  flows_[id].municipality = person.municipality;
  ++started_;
  ++in_flight_;
  return LoadRequest{true, "/v1/people", PersonGenerator::RegisterBody(person), id};
}

// The laboratory that takes a sample and, holding it, reports it.
std::string CaseCommands::LabOf(const std::string& swab_id) {
  return "LAB-TO" + std::to_string(1 + std::hash<std::string>()(swab_id) % 4);
}

LoadRequest CaseCommands::Build(uint64_t id, const Flow& flow) {
  LoadRequest r{true, "", "", id};
  switch (flow.step) {
    case Step::kRequestSwab: {
      r.target = "/v1/people/" + flow.person_id + "/swabs";
      boost::json::object o{{"swab_id", flow.swab_id},
                            {"kind", rng_() % 10 < 7 ? "molecular" : "antigen"},
                            {"reason", Pick(rng_, kSwabReasons)}};
      r.body = boost::json::serialize(o);
      break;
    }
    case Step::kCollect: {
      r.target = "/v1/swabs/" + flow.swab_id + "/collection";
      // Taken a few minutes ago, after the request (a collection may not precede it).
      boost::json::object o{{"collected_at", MinutesAgo(5)},
                            {"site", "drive-in " + flow.municipality},
                            {"lab_id", LabOf(flow.swab_id)}};
      r.body = boost::json::serialize(o);
      break;
    }
    case Step::kResult: {
      r.target = "/v1/swabs/" + flow.swab_id + "/result";
      uint64_t roll = rng_() % 1000;
      boost::json::object o{{"outcome", roll < positive_permille_        ? "positive"
                                        : roll < positive_permille_ + 10 ? "inconclusive"
                                                                         : "negative"},
                            {"lab_id", LabOf(flow.swab_id)},
                            {"reported_at", MinutesAgo(1)}};
      r.body = boost::json::serialize(o);
      break;
    }
    case Step::kRegister:
    case Step::kDone:
      break;  // not queued in these steps
  }
  return r;
}

void CaseCommands::Completed(const LoadRequest& request, int status, std::string_view body) {
  --in_flight_;
  auto it = flows_.find(request.tag);
  if (it == flows_.end()) return;
  Flow& flow = it->second;
  if (status < 200 || status > 299) {
    flows_.erase(it);  // a failed step ends the person's flow; the error is counted by the engine
    return;
  }
  switch (flow.step) {
    case Step::kRegister: {
      boost::system::error_code ec;
      boost::json::value v = boost::json::parse(body, ec);
      const boost::json::value* id =
          !ec && v.is_object() ? v.as_object().if_contains("person_id") : nullptr;
      if (!id || !id->is_string()) {
        flows_.erase(it);
        return;
      }
      flow.person_id = std::string(id->as_string());
      flow.swab_id = NextSwabId();
      flow.step = Step::kRequestSwab;
      break;
    }
    case Step::kRequestSwab:
      flow.step = Step::kCollect;
      break;
    case Step::kCollect:
      flow.step = Step::kResult;
      break;
    case Step::kResult:
    case Step::kDone:
      // Only setup phases need the list; an unlimited run would grow it without end.
      if (people_limit_ != 0) completed_.push_back(flow.person_id);
      flows_.erase(it);
      return;
  }
  ready_.push_back(request.tag);
}

bool CaseCommands::Finished() const {
  return people_limit_ != 0 && started_ >= people_limit_ && in_flight_ == 0 && ready_.empty();
}

PersonQueries::PersonQueries(const std::vector<std::string>& people, uint64_t seed)
    : people_(people), rng_(seed) {}

std::optional<LoadRequest> PersonQueries::Next() {
  const std::string& id =
      people_[std::uniform_int_distribution<size_t>(0, people_.size() - 1)(rng_)];
  return LoadRequest{false, "/v1/people/" + id, "", 0};
}

}  // namespace caseledger::workload
