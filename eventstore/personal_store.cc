// The store's side of crypto-shredding: opening the vault with the master key, finding a
// stream's data key, opening sealed personal parts on reads, and purging a destroyed key
// from the files after an erasure, and the keyed digests of idempotent requests; an
// append's personal parts sealed before it takes the write lock (PreSeal). The rest of the
// append side is in group_commit.cc.
#include "eventstore/rocks_event_store.h"

#include "eventstore/store_logger.h"

#include <sodium.h>

#include <algorithm>

namespace caseledger::eventstore {

StoreResult<void> RocksEventStore::OpenVault(const std::string& master_key_path) {
  std::string check;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), format::kMasterKeyCheck, &check);
  if (!s.ok() && !s.IsNotFound()) {
    return StoreError{StoreErrorCode::kIo, "read master key check: " + s.ToString()};
  }
  // A key file is only ever created for a store that never had one: a store whose key
  // file went missing must not silently get a new key (its data would be lost).
  std::string error;
  auto master = LoadMasterKeyFile(master_key_path, s.IsNotFound(), &error);
  if (!master) return StoreError{StoreErrorCode::kInvalidArgument, error};
  vault_ = std::make_unique<PersonalVault>(*master);
  sodium_memzero(master->data(), master->size());
  const std::string expected = vault_->CheckValue();
  if (s.IsNotFound()) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = db_->Put(wo, format::kMasterKeyCheck, expected);
    if (!s.ok()) return StoreError{StoreErrorCode::kIo, "write master key check: " + s.ToString()};
  } else if (check != expected) {
    vault_.reset();
    return StoreError{StoreErrorCode::kInvalidArgument,
                      "master key " + master_key_path + " is not the key of this store"};
  }
  return {};
}

StoreResult<RocksEventStore::KeyLookup> RocksEventStore::LoadKey(const std::string& stream) const {
  KeyLookup out;
  if (auto cached = vault_->CachedKey(stream)) {
    out.state = KeyLookup::State::kKey;
    out.key = *cached;
    return out;
  }
  // Format 3 keeps the seed beside the stream's index entries; earlier formats kept a
  // wrapped key in the keys family.
  auto wrapped = Get(streams_, format::KeySeedKey(stream));
  if (wrapped && !*wrapped) wrapped = Get(keys_, stream);
  if (!wrapped) return wrapped.error();
  if (!*wrapped) return out;
  if ((*wrapped)->empty()) {  // the tombstone an erasure leaves
    out.state = KeyLookup::State::kErased;
    return out;
  }
  auto key = vault_->Unwrap(stream, **wrapped);
  if (!key) return StoreError{StoreErrorCode::kCorruption, "the key of " + stream + " does not unwrap"};
  vault_->CacheKey(stream, *key);
  out.state = KeyLookup::State::kKey;
  out.key = *key;
  sodium_memzero(key->data(), key->size());
  return out;
}

RocksEventStore::PreSealed::~PreSealed() {
  sodium_memzero(key.data(), key.size());
  if (fresh) sodium_memzero(fresh->key.data(), fresh->key.size());
}

void RocksEventStore::PreSeal(const AppendRequest& r, PreSealed& out) const {
  // A guess of what Prepare will find, made without write_mu_: Prepare compares the versions
  // and the key and seals again when they differ (a concurrent append, an erasure, a
  // request whose expected version is wrong). Parts sealed for nothing are never written,
  // so their nonces cannot repeat one on disk.
  using Kind = ExpectedVersion::Kind;
  if (!vault_ || r.expected.kind == Kind::kAny) return;
  if (std::none_of(r.events.begin(), r.events.end(),
                   [](const NewEvent& e) { return !e.personal.empty(); })) {
    return;
  }
  const uint64_t version = r.expected.kind == Kind::kNoStream ? 0 : r.expected.version;
  if (version == 0) {
    out.fresh = vault_->NewStreamKey(r.stream);
  } else {
    auto found = LoadKey(r.stream);  // the vault's cache, usually
    if (!found || found->state == KeyLookup::State::kErased) return;
    if (found->state == KeyLookup::State::kNone) {
      out.fresh = vault_->NewStreamKey(r.stream);  // a stream whose events had no personal part
    } else {
      out.key = found->key;
      sodium_memzero(found->key.data(), found->key.size());
    }
  }
  const DataKey& key = out.fresh ? out.fresh->key : out.key;
  size_t bytes = 0;
  for (const NewEvent& ev : r.events)
    bytes += ev.personal.empty() ? 0 : kSealOverhead + ev.personal.size();
  out.bytes.reserve(bytes);
  uint64_t v = version;
  for (const NewEvent& ev : r.events) {
    ++v;
    if (!ev.personal.empty()) PersonalVault::SealTo(out.bytes, key, r.stream, v, ev.personal);
  }
  out.first_version = version + 1;
  out.ready = true;
}

StoreResult<void> RocksEventStore::OpenPersonal(Envelope& e) const {
  if (!vault_) {
    e.personal.clear();  // stays kSealed: this store was opened without the master key
    return {};
  }
  auto key = LoadKey(e.stream);
  if (!key) return key.error();
  StoreError bad{StoreErrorCode::kCorruption, "", 0, e.position};
  switch (key->state) {
    case KeyLookup::State::kErased:
      e.personal.clear();
      e.personal_form = domain::PersonalForm::kErased;
      return {};
    case KeyLookup::State::kNone:
      bad.message = "no key for the personal data at position " + std::to_string(e.position);
      return bad;
    case KeyLookup::State::kKey: break;
  }
  auto plain = PersonalVault::Open(key->key, e.stream, e.version, e.personal);
  sodium_memzero(key->key.data(), key->key.size());
  if (!plain) {
    bad.message = "personal data at position " + std::to_string(e.position) + " does not open";
    return bad;
  }
  e.personal = std::move(*plain);
  e.personal_form = domain::PersonalForm::kOpen;
  return {};
}

void RocksEventStore::PurgeErased(const AppendRequest& request) {
  // Flushing every family retires the WAL files that still hold the key's Put; the
  // compactions then rewrite the SST files holding its old value, without it.
  rocksdb::FlushOptions fo;
  rocksdb::Status s = db_->Flush(fo, handles_);
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  if (s.ok()) {
    rocksdb::Slice key(request.stream);
    s = db_->CompactRange(co, keys_, &key, &key);
  }
  if (s.ok()) {
    const std::string seed_key = format::KeySeedKey(request.stream);
    rocksdb::Slice key(seed_key);
    s = db_->CompactRange(co, streams_, &key, &key);
  }
  for (const std::string& claim : request.released_claims) {
    if (!s.ok()) break;
    std::string stored = vault_->BlindClaim(claim);
    rocksdb::Slice key(stored);
    s = db_->CompactRange(co, claims_, &key, &key);
  }
  if (!s.ok()) {
    // The key is deleted and unreadable through the store; only its bytes may linger in
    // files until the next compaction of their range.
    StoreLog()->error("erasure of {}: purging the key from the files failed: {}", request.stream,
                      s.ToString());
  }
}

namespace {

// What stores wrote before digests were keyed: SHA-256 of the request, 64 hex digits.
std::string UnkeyedDigest(std::string_view request) {
  unsigned char hash[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(hash, reinterpret_cast<const unsigned char*>(request.data()), request.size());
  return Hex(hash, sizeof hash);
}

}  // namespace

std::string RocksEventStore::RequestDigest(std::string_view request) const {
  return vault_ ? vault_->RequestDigest(request) : UnkeyedDigest(request);
}

bool RocksEventStore::RequestDigestMatches(std::string_view stored, std::string_view request) const {
  // A keyed digest needs the key it was made with; without the vault it matches nothing.
  if (stored.starts_with(kRequestDigestPrefix)) return vault_ && stored == vault_->RequestDigest(request);
  return stored == UnkeyedDigest(request);
}

}  // namespace caseledger::eventstore
