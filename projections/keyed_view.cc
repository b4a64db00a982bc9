#include "projections/keyed_view.h"

#include <utility>

namespace caseledger::projections {

KeyedView::KeyedView(std::string_view name, std::unique_ptr<KeyedTable> table)
    : name_(name), table_(std::move(table)) {
  Publish(0);
}

KeyedView::~KeyedView() = default;

void KeyedView::Publish(uint64_t position) {
  published_.Set(std::make_shared<const Frozen<void>>(Frozen<void>{position, table_->Freeze()}));
}

bool KeyedView::Reset() {
  table_->Clear();
  return true;
}

uint64_t KeyedView::position() const { return published_.Get()->position; }

}  // namespace caseledger::projections
