// Private to projections/: a person id held inline (person ids are 26-character ULIDs), for
// the keys of tables with an entry per person: copying or comparing one touches no other
// memory, where a std::string of more than 15 characters points to a heap block of its own
// (a cache miss at every look-up that hits, in a table of millions).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace caseledger::projections {

class PersonKey {
 public:
  // Throws std::length_error for an id longer than 39 characters.
  explicit PersonKey(std::string_view id) : size_(static_cast<uint8_t>(id.size())) {
    if (id.size() > data_.size()) throw std::length_error("person id too long: " + std::string(id));
    std::copy(id.begin(), id.end(), data_.begin());
  }
  std::string_view view() const { return {data_.data(), size_}; }
  explicit operator std::string_view() const { return view(); }

 private:
  std::array<char, 39> data_{};
  uint8_t size_;
};

// A person id with its hash (PersonKeyHash's), for a caller that looks one person up several
// times: the tables take it in place of the id and hash nothing. Why: a catch-up's fold
// hashed each event's person id four or five times (prefetches, the cache's stamp, the
// batch's new people, the step), ~80 instructions each (docs/benchmarks.md, session 27).
struct HashedId {
  std::string_view id;
  size_t hash = 0;
  static HashedId Of(std::string_view id) { return {id, std::hash<std::string_view>{}(id)}; }
};

// Hash and equality of PersonKey looked up by std::string_view or HashedId (a Swiss table's
// transparent functors): the same hash for a key, its view and its HashedId.
struct PersonKeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
  size_t operator()(const PersonKey& k) const { return (*this)(k.view()); }
  size_t operator()(const HashedId& h) const { return h.hash; }
};
struct PersonKeyEq {
  using is_transparent = void;
  static std::string_view View(std::string_view id) { return id; }
  static std::string_view View(const PersonKey& k) { return k.view(); }
  static std::string_view View(const HashedId& h) { return h.id; }
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return View(a) == View(b);
  }
};

}  // namespace caseledger::projections
