#include "workload/demo_people.h"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "workload/demo_series.h"
#include "domain/tax_code.h"

namespace caseledger::workload {
namespace {

using domain::Date;
using domain::Municipality;

// Surnames frequent in Piedmont, and Italian given names.
constexpr std::array<std::string_view, 64> kFamilyNames = {
    "Ferrero", "Bianco",   "Rossi",    "Gallo",    "Russo",    "Colombo",  "Costa",   "Bruno",
    "Ferrari", "Ricci",    "Marino",   "Greco",    "Giordano", "Conti",    "Romano",  "Martini",
    "Fontana", "Barbero",  "Rosso",    "Bertola",  "Bosio",    "Cravero",  "Garelli", "Giraudo",
    "Olivero", "Peano",    "Quaglia",  "Revelli",  "Rinaudo",  "Sola",     "Audisio", "Baudino",
    "Boero",   "Borgna",   "Cerutti",  "Chiesa",   "Dutto",    "Fenoglio", "Fissore", "Lerda",
    "Marengo", "Manera",   "Molinari", "Novarese", "Pautasso", "Perotti",  "Racca",   "Sacco",
    "Savio",   "Serra",    "Testa",    "Vaira",    "Allasia",  "Arnaudo",  "Bonino",  "Dalmasso",
    "Ellena",  "Ferraris", "Giacosa",  "Mondino",  "Negro",    "Oddone",   "Ravera",  "D'Agostino"};
constexpr std::array<std::string_view, 32> kMaleNames = {
    "Marco",    "Giuseppe", "Giovanni", "Luca",     "Andrea",  "Francesco", "Alessandro",
    "Matteo",   "Lorenzo",  "Stefano",  "Paolo",    "Roberto", "Davide",    "Simone",
    "Federico", "Mario",    "Pietro",   "Luigi",    "Antonio", "Carlo",     "Gabriele",
    "Riccardo", "Tommaso",  "Leonardo", "Enrico",   "Fabio",   "Massimo",   "Giorgio",
    "Franco",   "Sergio",   "Nicolò",   "Gian Luca"};
constexpr std::array<std::string_view, 32> kFemaleNames = {
    "Maria",    "Anna",      "Giulia",       "Francesca", "Chiara", "Sara",  "Laura",
    "Elena",    "Valentina", "Martina",      "Giorgia",   "Silvia", "Paola", "Federica",
    "Elisa",    "Roberta",   "Sofia",        "Aurora",    "Alice",  "Emma",  "Beatrice",
    "Cristina", "Marta",     "Giovanna",     "Rosa",      "Angela", "Lucia", "Teresa",
    "Carla",    "Daniela",   "Maria Grazia", "Noemi"};
constexpr std::array<std::string_view, 10> kStreets = {
    "Via Roma",         "Via Garibaldi",     "Corso Vittorio Emanuele II",
    "Via Mazzini",      "Via Cavour",        "Piazza Martiri della Libertà",
    "Via XX Settembre", "Strada del Mulino", "Via Po",
    "Via Dante"};

// Residents of Piedmont by five-year age band, 0-4 to 95-99, per mille (ISTAT, 2020, rounded).
constexpr std::array<int, 20> kAgeBands = {38, 43, 46, 46, 46, 49, 52, 58, 69, 79,
                                           83, 80, 69, 63, 62, 49, 40, 25, 10, 3};

template <size_t N>
std::string Pick(DemoRandom& random, const std::array<std::string_view, N>& names) {
  return std::string(names[random.Below(N)]);
}

// A tax code (16 ASCII characters) as one number, without loss.
unsigned __int128 PackTaxCode(std::string_view code) {
  if (code.size() > 17) throw std::logic_error("a tax code longer than 17 characters");
  unsigned __int128 v = code.size();
  for (char c : code) v = (v << 7) | static_cast<uint8_t>(c & 0x7f);
  return v;
}

// Digits of `n`, left-padded with zeros to `width`.
std::string Padded(int64_t n, size_t width) {
  std::string s = std::to_string(n);
  return std::string(width > s.size() ? width - s.size() : 0, '0') + s;
}

// The tenth character of our school codes: a letter from the first nine (not the
// ministry's own check, which is not public; ValidateSchoolCode does not check it).
char SchoolCheckLetter(std::string_view first9) {
  unsigned sum = 0;
  for (size_t i = 0; i < first9.size(); ++i) sum += (i + 1) * static_cast<unsigned char>(first9[i]);
  return static_cast<char>('A' + sum % 26);
}

}  // namespace

uint64_t DemoRandom::Next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t DemoRandom::Below(uint64_t n) {
  // Lemire's multiply-shift: bias below 2^-40 for the small n used here.
  return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
}

bool DemoRandom::Chance(double p) { return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p; }

std::string DemoUlid(domain::Timestamp at, DemoRandom& random) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  unsigned __int128 v = static_cast<uint64_t>(at.micros / 1000) & ((uint64_t{1} << 48) - 1);
  v = (v << 16) | (random.Next() & 0xffff);
  v = (v << 64) | random.Next();
  std::string out(26, '0');
  for (int i = 25; i >= 0; --i) {
    out[i] = kAlphabet[static_cast<int>(v & 31)];
    v >>= 5;
  }
  return out;
}

domain::Timestamp LocalTime(Date d, int minute_of_day) {
  const domain::Timestamp midnight = domain::Timestamp::StartOfDay(d);
  // 23, 24 or 25 hours: the clocks change at 02:00/03:00, before any time asked for here.
  const int64_t day_length = domain::Timestamp::StartOfDay(d + 1).micros - midnight.micros;
  const int64_t shift = day_length - 24LL * 3600 * 1'000'000;
  return {midnight.micros + int64_t{minute_of_day} * 60'000'000 + shift};
}

int AgeOn(Date birth, Date d) {
  auto b = birth.Ymd();
  auto t = d.Ymd();
  int age = int(t.year()) - int(b.year());
  if (std::pair(unsigned(t.month()), unsigned(t.day())) <
      std::pair(unsigned(b.month()), unsigned(b.day()))) {
    --age;
  }
  return age;
}

size_t ResidentFactory::PackedHash::operator()(unsigned __int128 v) const {
  const uint64_t x = static_cast<uint64_t>(v) ^ (static_cast<uint64_t>(v >> 64) * 0x9E3779B97F4A7C15ull);
  return x ^ (x >> 29);
}

ResidentFactory::ResidentFactory(const domain::ReferenceData& reference, DemoRandom& random)
    : reference_(reference), random_(random) {
  int64_t total = 0;
  for (const Municipality& m : reference.municipalities()) {
    if (m.region_code != "01" || m.population <= 0) continue;
    piedmont_.push_back(&m);
    cumulative_population_.push_back(total += m.population);
    const Municipality*& seat = seats_[m.province_code];
    if (seat == nullptr || seat->population < m.population) seat = &m;
  }
  if (piedmont_.empty())
    throw std::invalid_argument("reference data lists no Piedmont municipality");
}

const Municipality& ResidentFactory::DrawMunicipality() {
  const int64_t x = static_cast<int64_t>(random_.Below(uint64_t(cumulative_population_.back())));
  auto it = std::upper_bound(cumulative_population_.begin(), cumulative_population_.end(), x);
  return *piedmont_[size_t(it - cumulative_population_.begin())];
}

Date ResidentFactory::DrawBirthDate(Date day) {
  int total = 0;
  for (int w : kAgeBands) total += w;
  int x = static_cast<int>(random_.Below(uint64_t(total)));
  size_t band = 0;
  while (x >= kAgeBands[band]) x -= kAgeBands[band++];
  const int64_t years = 5 * int64_t(band) + random_.Between(0, 4);
  Date birth = day + -static_cast<int32_t>(years * 36525 / 100 + random_.Between(0, 364));
  while (AgeOn(birth, day) > 99) birth = birth + 365;
  return birth;
}

std::optional<domain::EnrolInSchool> ResidentFactory::SchoolFor(const Municipality& m, Date birth,
                                                                Date day) {
  // Italian classes go by the calendar year of birth: age reached by 31 December of the
  // year the school year starts (September).
  const int year = int(day.Ymd().year()), month = int(unsigned(day.Ymd().month()));
  const int age = (month >= 9 ? year : year - 1) - int(birth.Ymd().year());
  if (age < 6 || age > 18) return std::nullopt;
  const bool upper = age >= 14;
  // Comprehensive institutes (primary and lower secondary, "IC") in every municipality;
  // upper secondary institutes ("IS") in towns of 15,000 or more, else the province seat.
  const Municipality& site = upper && m.population < 15000 ? ProvinceSeat(m) : m;
  const int64_t per_school = upper ? 30000 : 8000;
  const int64_t schools = std::clamp<int64_t>(site.population / per_school, 1, 10);
  std::string code = site.province_abbr + (upper ? "IS0" : "IC8") + site.istat_code.substr(3) +
                     std::to_string(random_.Below(uint64_t(schools)));
  code.push_back(SchoolCheckLetter(code));
  const int grade = age <= 10 ? age - 5 : age <= 13 ? age - 10 : age - 13;
  const int64_t sections = 1 + std::min<int64_t>(3, site.population / (upper ? 40000 : 4000));
  std::string label = std::to_string(grade) + char('A' + random_.Below(uint64_t(sections)));
  return domain::EnrolInSchool{code, label, domain::SchoolRole::kStudent};
}

const Municipality& ResidentFactory::ProvinceSeat(const Municipality& m) const {
  return *seats_.at(m.province_code);
}

Resident ResidentFactory::Make(domain::Timestamp at, const Municipality* residence,
                               std::string_view family_name) {
  const Date day = at.ToDate();
  Resident r;
  r.id = DemoUlid(at, random_);
  r.residence = residence != nullptr ? residence : &DrawMunicipality();
  domain::RegisterPerson& reg = r.registration;
  for (int attempt = 0;; ++attempt) {
    const bool female = random_.Chance(0.515);
    reg.sex = female ? domain::Sex::kFemale : domain::Sex::kMale;
    reg.family_name = family_name.empty() ? Pick(random_, kFamilyNames) : std::string(family_name);
    reg.given_names = female ? Pick(random_, kFemaleNames) : Pick(random_, kMaleNames);
    reg.birth_date = DrawBirthDate(day);
    const Municipality& born = random_.Chance(0.75) ? *r.residence : DrawMunicipality();
    reg.tax_code = domain::ComposeTaxCode(reg.family_name, reg.given_names, reg.birth_date,
                                          female ? 'F' : 'M', born.cadastral_code);
    if (tax_codes_.insert(PackTaxCode(reg.tax_code)).second) break;
    if (attempt == 1000) throw std::runtime_error("cannot draw a unique tax code");
  }
  r.age = AgeOn(reg.birth_date, day);
  reg.residence_istat = r.residence->istat_code;
  reg.address = std::string(kStreets[random_.Below(kStreets.size())]) + " " +
                std::to_string(random_.Between(1, 120));
  if (random_.Chance(0.8))
    reg.phone = "+393" + Padded(random_.Between(200'000'000, 999'999'999), 9);
  const int64_t gps = std::max<int64_t>(1, RoundDiv(r.residence->population, 1200));
  r.gp.gp_id = "GP" + r.residence->istat_code + Padded(random_.Between(1, gps), 3);
  r.school = SchoolFor(*r.residence, reg.birth_date, day);
  return r;
}

}  // namespace caseledger::workload
