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

// Hash and equality of PersonKey looked up by std::string_view (a Swiss table's transparent
// functors): the same hash for a key and its view.
struct PersonKeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
  size_t operator()(const PersonKey& k) const { return (*this)(k.view()); }
};
struct PersonKeyEq {
  using is_transparent = void;
  static std::string_view View(std::string_view id) { return id; }
  static std::string_view View(const PersonKey& k) { return k.view(); }
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return View(a) == View(b);
  }
};

}  // namespace caseledger::projections
