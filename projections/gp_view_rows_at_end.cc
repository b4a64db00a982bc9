// The GP view's patient rows made at the end of a catch-up from scratch, from every
// person's last entry (gp_view_rows.h: RowsAtEnd; view.h says when).
//
// A person with a GP is a patient of that GP and of no other, and has exactly one row,
// "<gp>/p/<person>": their fold part (the status, encoded as Persist encodes it) or, for an
// idle patient (no part), an idle status. So the rows are a regrouping of the people, who
// come in id order, by GP: each GP's rows are kept in id order in one buffer of their own
// (no allocation per patient: ~4 M patients at 1:1), and the GPs are sorted once, at the
// first Next (or TakeUpperHalf: the GPs cut in two ranges, written to two table files at
// once, for the end of a catch-up is serial wall time). The rows of the other merge thread
// (Append: people after all of these) are kept as a second buffer per GP and handed out
// after the first: copied into the first, each GP's buffer grew again (a copy of every row
// and up to twice its bytes) at the end's peak of memory.
#include "projections/gp_view_rows.h"

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace caseledger::projections::gp_rows {
namespace {

void PutLength(std::string& out, size_t n) {
  while (n >= 0x80) {
    out.push_back(static_cast<char>(n | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
}

size_t TakeLength(std::string_view bytes, size_t& at) {
  size_t n = 0;
  for (int shift = 0;; shift += 7) {
    const auto b = static_cast<uint8_t>(bytes[at++]);
    n |= static_cast<size_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return n;
  }
}

// Whether "<a>/..." sorts before "<b>/..." (a GP id holds no '/': GpView::Impl::Load).
bool GpKeyBefore(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  if (const int c = a.substr(0, n).compare(b.substr(0, n)); c != 0) return c < 0;
  if (a.size() == b.size()) return false;
  return a.size() < b.size() ? '/' < b[n] : a[n] < '/';
}

class PatientRowsAtEnd final : public PersonRowsAtEnd {
 public:
  void Add(std::string_view person_id, std::string_view record, std::string_view part) override {
    std::string_view gp;
    if (!PersonDirectory::DecodeGpId(record, gp)) {
      throw std::runtime_error("the record of " + std::string(person_id) + " does not decode");
    }
    if (gp.empty()) return;  // not a patient
    auto it = gps_.find(gp);
    if (it == gps_.end()) it = gps_.emplace(std::string(gp), Rows()).first;
    std::string& rows = it->second[0];
    PutLength(rows, person_id.size());
    rows.append(person_id);
    PutLength(rows, part.size());  // 0: idle
    rows.append(part);
  }

  void Append(PersonRowsAtEnd& after) override {
    auto& other = static_cast<PatientRowsAtEnd&>(after);
    for (auto& [gp, rows] : other.gps_) {
      Rows& mine = gps_[gp];
      for (std::string& chunk : rows) {
        if (chunk.empty()) continue;
        if (mine[1].empty()) {
          mine[1] = std::move(chunk);  // the usual case: one Append of the upper merge's rows
        } else {
          mine[1].append(chunk);
        }
      }
    }
    other.gps_.clear();
  }

  // By GP: the GPs in key order, cut where the rows before come to half of the bytes.
  std::unique_ptr<PersonRowsAtEnd> TakeUpperHalf() override {
    Order();
    size_t total = 0;
    for (const auto* gp : order_) total += Bytes(gp->second);
    size_t cut = 0, below = 0;
    while (cut < order_.size() && 2 * below < total) below += Bytes(order_[cut++]->second);
    if (cut == 0 || cut == order_.size()) return nullptr;
    auto upper = std::make_unique<PatientRowsAtEnd>();
    for (size_t g = cut; g < order_.size(); ++g) upper->gps_.emplace(order_[g]->first, std::move(order_[g]->second));
    order_.resize(cut);  // the GPs moved out stay in gps_, empty, and are not handed out
    return upper;
  }

  bool Next(std::string& key, std::string& value) override {
    Order();
    while (gp_ < order_.size() && at_ == order_[gp_]->second[chunk_].size()) {
      std::string().swap(order_[gp_]->second[chunk_]);  // done with: its memory back at once
      at_ = 0;
      if (++chunk_ == 2) {
        chunk_ = 0;
        ++gp_;
      }
    }
    if (gp_ == order_.size()) return false;
    const std::string& gp = order_[gp_]->first;
    const std::string_view rows = order_[gp_]->second[chunk_];
    const size_t id_size = TakeLength(rows, at_);
    key.assign(gp).append("/p/").append(rows.substr(at_, id_size));
    at_ += id_size;
    const size_t part_size = TakeLength(rows, at_);
    if (part_size == 0) {
      value.assign(idle_);
    } else {
      value.assign(rows.substr(at_, part_size));
    }
    at_ += part_size;
    return true;
  }

 private:
  void Order() {
    if (ordered_) return;
    ordered_ = true;
    for (auto& gp : gps_) order_.push_back(&gp);
    std::sort(order_.begin(), order_.end(), [](const auto* a, const auto* b) { return GpKeyBefore(a->first, b->first); });
  }

  // By GP: its rows, people in id order, each its id's length, its id, its part's length
  // and its part; those Added here first, then those Appended (people after them all).
  using Rows = std::array<std::string, 2>;
  static size_t Bytes(const Rows& rows) { return rows[0].size() + rows[1].size(); }
  absl::flat_hash_map<std::string, Rows, KeyHash, std::equal_to<>> gps_;
  std::vector<std::pair<const std::string, Rows>*> order_;  // the GPs in key order (Next)
  bool ordered_ = false;
  size_t gp_ = 0, chunk_ = 0, at_ = 0;  // Next's place: in order_, in its Rows, in that chunk
  const std::string idle_ = Encode(PatientStatus{});
};

}  // namespace

std::unique_ptr<PersonRowsAtEnd> MakeRowsAtEnd() { return std::make_unique<PatientRowsAtEnd>(); }

}  // namespace caseledger::projections::gp_rows
