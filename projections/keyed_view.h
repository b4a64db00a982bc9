// The one shape of this module's views (STYLE.md point 6): a table of entries by key (a
// municipality, a school, a GP) that Apply changes; Persist writes what changed, the keys
// that changed announce the batch, and Publish hands readers a frozen copy of the table.
// A view writes its Apply, its table (key layout, encoding, what a change dirties) and its
// readers; KeyedView makes the View calls that are the same for every view out of them.
//
// Threads: everything but the readers runs on the runner's thread (View). Readers call
// Snapshot(), from any thread: one atomic load (cow.h), never blocked by the writer.
#pragma once

#include "projections/cow.h"
#include "projections/view.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace caseledger::projections {

// A keyed view's working state. Runner thread only.
class KeyedTable {
 public:
  virtual ~KeyedTable() = default;
  // Restores one persisted entry ("<key>" without the view's prefix) before any change.
  // Restoring is not a change: neither ChangedKeys nor the next Persist include it.
  // False: the bytes do not decode (View::Load).
  virtual bool Load(std::string_view key, std::string_view value) = 0;
  // Writes (or deletes) every entry changed since the last Persist, each once.
  virtual void Persist(PersistSink& sink) = 0;
  // An immutable copy of the table as it is now, sharing what did not change since the
  // last Freeze; forgets the changed keys. The type is the table's own (KeyedView::Frozen).
  virtual std::shared_ptr<const void> Freeze() = 0;
  // Keys changed since the last Freeze, sorted (View::ChangedKeys).
  virtual std::vector<std::string> ChangedKeys() const = 0;
  // Forgets every entry (View::Reset); readers keep the snapshot they hold.
  virtual void Clear() = 0;
};

class KeyedView : public View {
 public:
  ~KeyedView() override;
  KeyedView(const KeyedView&) = delete;
  KeyedView& operator=(const KeyedView&) = delete;

  std::string_view name() const final { return name_; }
  bool Load(std::string_view key, std::string_view value) final { return table_->Load(key, value); }
  void Persist(PersistSink& sink) final { table_->Persist(sink); }
  void Publish(uint64_t position) final;
  // Always true: a keyed view is rebuilt from the log by the runner.
  bool Reset() final;
  std::vector<std::string> ChangedKeys() const final { return table_->ChangedKeys(); }

  // Position of the last Publish (0 before the first). Thread-safe.
  uint64_t position() const;

 protected:
  // `name`: a literal (View::name); publishes the empty table at position 0.
  KeyedView(std::string_view name, std::unique_ptr<KeyedTable> table);
  // The table given at construction (a view keeps a typed pointer to it for Apply).
  KeyedTable& table() { return *table_; }

  // What one Publish handed out: its position and the table's frozen copy. A reader holds
  // it for as long as it reads; the writer never changes it.
  template <class T>
  struct Frozen {
    uint64_t position = 0;
    std::shared_ptr<const T> table;
  };
  // The last Publish. REQUIRES: T is the type the view's KeyedTable::Freeze makes.
  template <class T>
  Frozen<T> Snapshot() const {
    std::shared_ptr<const Frozen<void>> p = published_.Get();
    return {p->position, std::shared_ptr<const T>(p, static_cast<const T*>(p->table.get()))};
  }

 private:
  std::string_view name_;
  std::unique_ptr<KeyedTable> table_;
  cow::Published<Frozen<void>> published_;
};

}  // namespace caseledger::projections
