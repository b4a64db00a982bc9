#include "projections/swab_history.h"

#include <algorithm>

namespace caseledger::projections {

SwabHistory::SwabHistory(std::vector<SwabRecord> swabs) {
  if (swabs.size() <= kTail) {
    std::copy(swabs.begin(), swabs.end(), tail_.begin());
    tail_size_ = static_cast<uint32_t>(swabs.size());
    return;
  }
  sealed_ = static_cast<uint32_t>(swabs.size());
  // Not const: changed in place while no other copy holds it (Mutable, Seal).
  prefix_ = std::make_shared<std::vector<SwabRecord>>(std::move(swabs));
}

SwabRecord& SwabHistory::Mutable(size_t i) {
  if (i >= sealed_) return tail_[i - sealed_];
  if (prefix_.use_count() == 1) {
    // No other copy holds the prefix: it is ours to change.
    return const_cast<std::vector<SwabRecord>&>(*prefix_)[i];
  }
  const size_t moved = sealed_ - i;
  if (moved + tail_size_ <= kTail) {
    // The prefix's end comes back into the tail: the prefix stays shared, shorter.
    std::copy_backward(tail_.begin(), tail_.begin() + tail_size_, tail_.begin() + tail_size_ + moved);
    std::copy(prefix_->begin() + i, prefix_->begin() + sealed_, tail_.begin());
    tail_size_ += static_cast<uint32_t>(moved);
    sealed_ = static_cast<uint32_t>(i);
    if (sealed_ == 0) prefix_.reset();
    return tail_[0];
  }
  // A swab far back (a correction of an old result): a prefix of our own.
  auto own = std::make_shared<std::vector<SwabRecord>>();
  own->reserve(sealed_ + kTail);
  own->assign(prefix_->begin(), prefix_->begin() + sealed_);
  SwabRecord& s = (*own)[i];
  prefix_ = std::move(own);
  return s;
}

void SwabHistory::Seal() {
  constexpr size_t kMoved = kTail / 2;
  if (prefix_ && prefix_.use_count() == 1 && prefix_->size() == sealed_) {
    auto& own = const_cast<std::vector<SwabRecord>&>(*prefix_);
    own.insert(own.end(), tail_.begin(), tail_.begin() + kMoved);
  } else {
    auto next = std::make_shared<std::vector<SwabRecord>>();
    next->reserve(sealed_ + kMoved + kTail);
    if (prefix_) next->assign(prefix_->begin(), prefix_->begin() + sealed_);
    next->insert(next->end(), tail_.begin(), tail_.begin() + kMoved);
    prefix_ = std::move(next);
  }
  sealed_ += kMoved;
  std::copy(tail_.begin() + kMoved, tail_.begin() + tail_size_, tail_.begin());
  tail_size_ -= kMoved;
}

void SwabHistory::push_back(const SwabRecord& s) {
  if (tail_size_ == kTail) Seal();
  tail_[tail_size_++] = s;
}

size_t SwabHistory::HeapBytes(size_t (*allocated)(size_t)) const {
  if (!prefix_) return 0;
  // std::make_shared: the control block and the vector in one allocation, then its buffer.
  return allocated(sizeof(std::vector<SwabRecord>) + 16) + allocated(prefix_->capacity() * sizeof(SwabRecord));
}

bool SwabHistory::operator==(const SwabHistory& o) const {
  if (size() != o.size()) return false;
  for (size_t i = 0; i < size(); ++i) {
    if (!((*this)[i] == o[i])) return false;
  }
  return true;
}

}  // namespace caseledger::projections
