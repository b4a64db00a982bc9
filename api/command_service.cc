#include "api/command_service.h"

#include "api/api_logger.h"
#include "api/authz.h"
#include "api/command_answer.h"
#include "api/person_cache.h"
#include "api/problem.h"
#include "api/school_registry.h"
#include "api/tax_code_claims.h"
#include "domain/event_codec.h"
#include "domain/validation.h"
#include "eventstore/access_log.h"

#include <charconv>
#include <memory>
#include <type_traits>

namespace caseledger::api {
namespace {

constexpr int kMaxAttempts = 5;
constexpr size_t kMaxStreamEvents = 100'000;

template <class State>
domain::Result<State> Fold(const eventstore::EventStore& store, const std::string& stream,
                           State state, const AsOf& as_of) {
  auto events = store.ReadStream(stream, 1, kMaxStreamEvents);
  if (!events) return domain::Error::Invalid("stream", "cannot read " + stream + ": " + events.error().message);
  for (const auto& env : *events) {
    if (as_of.recorded && env.recorded_at > *as_of.recorded) break;
    if (as_of.effective && env.effective_at > *as_of.effective) continue;
    auto event = domain::Decode(env.type, env.schema_version, env.body, env.personal);
    if (!event) {
      throw std::runtime_error("undecodable event at position " + std::to_string(env.position));
    }
    domain::Evolve(state, *event);
    state.version = env.version;
    // A past state folded after an erasure has no personal data to show either: say why.
    if constexpr (requires { state.erased; }) {
      if (env.personal_form == domain::PersonalForm::kErased) state.erased = true;
    }
  }
  return state;
}

// "If-Match: \"7\"" (or 7, or W/"7") -> 7. nullopt when absent; error text when malformed.
std::optional<uint64_t> ParseIfMatch(std::string_view h, bool& malformed) {
  malformed = false;
  if (h.empty()) return std::nullopt;
  if (h.starts_with("W/")) h.remove_prefix(2);
  if (h.size() >= 2 && h.front() == '"' && h.back() == '"') h = h.substr(1, h.size() - 2);
  uint64_t v = 0;
  auto r = std::from_chars(h.data(), h.data() + h.size(), v);
  if (r.ec != std::errc{} || r.ptr != h.data() + h.size()) {
    malformed = true;
    return std::nullopt;
  }
  return v;
}

// The events of a replayed answer, read back from the log, when `subject` is the actor that
// wrote them (empty otherwise: the answer is not the caller's to replay).
std::vector<domain::Event> EventsAt(const eventstore::EventStore& store, const eventstore::AppendResult& r,
                                    const std::string& subject) {
  std::vector<domain::Event> out;
  auto envs = store.ReadLog(r.first_position, r.last_position - r.first_position + 1);
  if (!envs) return out;
  for (const auto& env : *envs) {
    if (env.actor.id != subject) return {};
    if (auto e = domain::Decode(env.type, env.schema_version, env.body, env.personal)) out.push_back(*e);
  }
  return out;
}

// The first answer the caller itself got for this key, under the length-prefixed key or,
// for keys recorded before it, the old "http/<subject>/<key>" form. An old-form record is
// only the caller's when its events name the caller as actor: "http/team/alice/k1" may have
// been written by subject "team/alice" with key "k1" or by "team" with key "alice/k1".
eventstore::StoreResult<std::optional<eventstore::EventStore::IdempotentAnswer>> OwnAnswer(
    const eventstore::EventStore& store, const std::string& key, const std::string& legacy_key,
    const std::string& subject) {
  for (const std::string* k : {&key, &legacy_key}) {
    auto found = store.FindIdempotencyKey(*k);
    if (!found || !*found) {
      if (!found) return found.error();
      continue;
    }
    if (EventsAt(store, (*found)->result, subject).empty()) continue;
    return found;
  }
  return std::optional<eventstore::EventStore::IdempotentAnswer>();
}

struct Target {
  std::string stream;
  std::string person_id;
  bool creates = false;
  // A swab command's: the swab named in the detail of every 404 its deferred answer gives;
  // empty: each 404 its own. A view of the request's path parameter (the run's `req_`
  // outlives it): the detail is made only for a 404, not for every command.
  std::string_view not_found_swab;
};

std::string SwabNotFound(std::string_view swab_id) {
  return "swab " + std::string(swab_id) + " not found";
}

// One command, from its idempotency check to its answer, for any aggregate `State` with
// Load() and Decide; an aggregate's run says how to load, authorize and amend (PersonRun,
// SchoolRun: virtual functions, where std::functions set per command were an allocation
// each). Authorize() names the role the caller acts in on the loaded state, or nullopt
// (answered 404 for an existing aggregate, 403 for a creation). Reauthorize() says
// whether the caller may still have the first answer to its idempotency key (the stream
// that answer names, as it is now). The state is decided on where Load() keeps it (a
// person's: the cache's shared state, immutable, which readers may hold meanwhile), not on
// a copy: the state after the command is made once the append succeeded, from it and the
// events (a copy to decide on, then moved three times, was ~3 k instructions a command).
//
// No thread waits for the append: Start() answers what it can at once and otherwise
// returns a deferred answer; the dispatcher then calls it with a Reply, an attempt (load,
// decide) hands the append to the store's group commit, and the store's completion, on its
// sync thread, passes the outcome through Reply::post to the connection's thread. There a
// conflict (someone wrote the stream between our read and our append) makes another
// attempt, and anything else is the answer. The run keeps itself alive through the
// callbacks that hold it; `req` is kept alive by whoever waits for the answer.
template <class State, class Command>
class CommandRun : public std::enable_shared_from_this<CommandRun<State, Command>> {
 public:
  CommandRun(const ApiContext& ctx, const RouteRequest& req, Command command)
      : ctx_(ctx), req_(req), command_(std::move(command)) {}
  virtual ~CommandRun() = default;

  const Command& command() const { return command_; }
  Target target;

  Response Start() {
    const eventstore::EventStore& store = *ctx_.store;
    if (std::string_view k = req_.http.Header("idempotency-key"); !k.empty()) {
      if (k.size() > 200) return BadField("Idempotency-Key", "must be at most 200 characters");
      key_ = IdempotencyKeyOf(req_.principal.subject, k);
      // Keyed by the store (a body may hold a tax code; the digest outlives its erasure).
      const std::string request =
          std::string(ToString(req_.http.method)) + " " + req_.http.path + "\n" + std::string(req_.http.body);
      digest_ = store.RequestDigest(request);
      auto found = OwnAnswer(store, key_, "http/" + req_.principal.subject + "/" + std::string(k),
                             req_.principal.subject);
      if (!found) return FromStoreError(found.error());
      if (*found) {
        if (!store.RequestDigestMatches((*found)->digest, request)) {
          return FromStoreError({eventstore::StoreErrorCode::kIdempotencyKeyReused, ""});
        }
        // A replay is an answer like any other: given only while the caller may still act
        // on what it names (a revoked operator gets what an outsider gets).
        if (!Reauthorize((*found)->result)) return Problem(404, "not-found", "Not found", "not found");
        auto events = EventsAt(store, (*found)->result, req_.principal.subject);
        if (events.empty()) return Problem(500, "internal", "Internal error", "cannot replay answer");
        return CommandAnswer((*found)->result, events, target.person_id);
      }
    }
    bool malformed = false;
    if_match_ = ParseIfMatch(req_.http.Header("if-match"), malformed);
    if (malformed) return BadField("If-Match", "must be a quoted stream version, e.g. \"3\"");
    Response deferred;
    deferred.deferred = [self = this->shared_from_this()](Reply reply) {
      self->reply_ = std::move(reply);
      if (auto answer = self->Attempt()) self->SendAnswer(std::move(*answer));
    };
    return deferred;
  }

 protected:
  // The aggregate as it is now: a shared state, never changed.
  virtual domain::Result<std::shared_ptr<const State>> Load() = 0;
  virtual std::optional<domain::Role> Authorize(const State& state) = 0;
  virtual bool Reauthorize(const eventstore::AppendResult& first) = 0;
  // Adjusts an authorized decision before it is appended (api/tax_code_claims.h), and may
  // hand the store the reads it made of the decision's claims.
  virtual void Amend(domain::Decision&, std::vector<eventstore::ClaimRead>&) {}
  // Called after the append, not for a replay.
  virtual void Appended() {}

  const ApiContext& ctx_;
  const RouteRequest& req_;

 private:
  void SendAnswer(Response res) {
    if (res.status == 404 && !target.not_found_swab.empty()) {
      res = Problem(404, "not-found", "Not found", SwabNotFound(target.not_found_swab));
    }
    reply_.respond(std::move(res));
  }

  // Loads, decides and hands the append to the store; an answer when it cannot.
  std::optional<Response> Attempt() {
    if (++attempts_ > kMaxAttempts) {
      return Problem(503, "busy", "Too much contention", "the resource changed too often; retry");
    }
    domain::Result<std::shared_ptr<const State>> loaded = Load();
    if (!loaded) return FromDomainError(loaded.error());
    const State* state = loaded->get();
    // Scope before deciding, so that a 422 never tells an outsider anything about the
    // object; a creation has no object yet, so its input is validated first (400 before 403).
    std::optional<domain::Role> role;
    if (!target.creates) {
      role = Authorize(*state);
      if (!role) return Problem(404, "not-found", "Not found", "not found");
    }
    if (if_match_ && *if_match_ != state->version) {
      return PreconditionFailed(state->version);
    }
    domain::DecideContext dc{ctx_.clock(), ctx_.reference.get(), target.creates ? target.person_id : ""};
    auto decision = domain::Decide(*state, command_, dc);
    if (!decision) return FromDomainError(decision.error());
    if (target.creates) {
      role = Authorize(*state);
      if (!role) return Problem(403, "forbidden", "Forbidden", "none of your grants covers this");
    }
    std::vector<eventstore::ClaimRead> claim_reads;
    Amend(*decision, claim_reads);

    eventstore::AppendRequest append;
    append.stream = target.stream;
    append.expected = target.creates ? eventstore::ExpectedVersion::NoStream()
                                     : eventstore::ExpectedVersion::Exactly(state->version);
    append.actor = {req_.principal.subject, domain::ToString(*role)};
    append.correlation_id = std::string(req_.http.Header("x-correlation-id"));
    append.causation_id = std::string(req_.http.Header("x-causation-id"));
    append.idempotency_key = key_;
    append.request_digest = digest_;
    // The decision is this attempt's own: its vectors are moved, not copied.
    append.claims = std::move(decision->claims);
    append.released_claims = std::move(decision->released_claims);
    append.claim_reads = std::move(claim_reads);
    append.erase_personal_data = decision->erases_personal_data;
    erases_ = append.erase_personal_data;
    events_.clear();
    events_.reserve(decision->events.size());
    append.events.reserve(decision->events.size());
    for (auto& d : decision->events) {
      domain::EncodedEvent enc = domain::Encode(d.event);
      append.events.push_back({std::move(enc.type), enc.schema_version, std::move(enc.body),
                               std::move(enc.personal), d.effective_at});
      events_.push_back(std::move(d.event));
    }
    decided_on_ = std::move(*loaded);
    ctx_.store->AppendAsync(std::move(append), [self = this->shared_from_this()](
                                                   eventstore::StoreResult<eventstore::AppendResult> r) {
      self->reply_.post([self, r = std::move(r)]() mutable { self->Appended(std::move(r)); });
    });
    return std::nullopt;
  }

  // On the connection's thread, after the group commit holding the append was synced.
  void Appended(eventstore::StoreResult<eventstore::AppendResult> result) {
    try {
      // Someone else wrote the stream between our read and our append: decide again on the
      // new state, unless the client pinned the version it saw.
      if (!result && result.error().code == eventstore::StoreErrorCode::kWrongExpectedVersion &&
          !if_match_ && !target.creates) {
        if (auto answer = Attempt()) SendAnswer(std::move(*answer));
        return;
      }
      SendAnswer(Outcome(std::move(result)));
    } catch (const std::exception& e) {
      ApiLog()->error("{} {}: {}", ToString(req_.http.method), req_.http.path, e.what());
      SendAnswer(Problem(500, "internal", "Internal error", "the server could not complete the request"));
    }
  }

  Response Outcome(eventstore::StoreResult<eventstore::AppendResult> result) {
    if (result && !result->replayed) Appended();
    if (result) {
      if (result->replayed) {
        events_ = EventsAt(*ctx_.store, *result, req_.principal.subject);
      } else if constexpr (std::is_same_v<State, domain::PersonState>) {
        // The person after this command is the state it was decided on plus its events
        // (the append checked the version): the next command or read need not fold them.
        if (ctx_.people && !erases_) {
          auto next = std::make_shared<domain::PersonState>(*decided_on_);
          for (const auto& e : events_) domain::Evolve(*next, e);
          next->version = result->version;
          ctx_.people->Remember(target.person_id, std::move(next));
        }
      }
      return CommandAnswer(*result, events_, target.person_id);
    }
    if (result.error().code == eventstore::StoreErrorCode::kWrongExpectedVersion && if_match_) {
      return PreconditionFailed(result.error().current_version);
    }
    return FromStoreError(result.error());
  }

  const Command command_;
  Reply reply_;
  std::string key_, digest_;
  std::optional<uint64_t> if_match_;
  int attempts_ = 0;
  std::shared_ptr<const State> decided_on_;  // the state the append in flight was decided on
  std::vector<domain::Event> events_;  // its events
  bool erases_ = false;
};

// A command on a person: their cached state, the scope of their residence, the tax code's
// claim of a registration.
class PersonRun final : public CommandRun<domain::PersonState, domain::PersonCommand> {
 public:
  using CommandRun::CommandRun;

 private:
  domain::Result<std::shared_ptr<const domain::PersonState>> Load() override {
    // Never changed (shared states are immutable): one for every registration.
    static const auto kUnregistered = std::make_shared<const domain::PersonState>();
    if (target.creates) return kUnregistered;
    return CurrentPerson(ctx_, target.person_id);
  }
  std::optional<domain::Role> Authorize(const domain::PersonState& state) override {
    // A person never registered is "not found" for everyone, before any scope check.
    if (!target.creates && !state.registered) return std::nullopt;
    return PersonCommandRole(req_.principal, state, command(), *ctx_.reference);
  }
  bool Reauthorize(const eventstore::AppendResult& first) override {
    if (!first.stream.starts_with("person-")) return false;
    auto now = CurrentPerson(ctx_, first.stream.substr(7));
    return now && (*now)->registered &&
           PersonCommandRole(req_.principal, **now, command(), *ctx_.reference).has_value();
  }
  void Amend(domain::Decision& d, std::vector<eventstore::ClaimRead>& reads) override {
    if (const auto* registration = std::get_if<domain::RegisterPerson>(&command())) {
      // A record the caller may not read holds the tax code.
      TaxCodeInScope in_scope = ClaimTaxCodeInScope(ctx_, req_.principal, *registration, d);
      registered_before_ = std::move(in_scope.registered_before);
      if (in_scope.read) reads.push_back(std::move(*in_scope.read));
    } else if (std::holds_alternative<domain::ErasePersonalData>(command())) {
      ReleaseTaxCodeEverywhere(*ctx_.reference, d);
    }
  }
  void Appended() override {
    // The earlier record's access report says its tax code was registered again, for its
    // ASL's operators and the auditors to reconcile (docs/security.md, finding 8).
    if (registered_before_ && ctx_.access_log) {
      ctx_.access_log->Record(
          {ctx_.clock(), req_.principal.subject, "operator", *registered_before_,
           "POST /v1/people (tax code registered again: person " + target.person_id + ")", 201});
    }
  }

  // A registration's: the person already holding its tax code, if any.
  std::optional<std::string> registered_before_;
};

// A command on a school, in the scope of the municipality the school registry places it in.
class SchoolRun final : public CommandRun<domain::SchoolState, domain::SchoolCommand> {
 public:
  SchoolRun(const ApiContext& ctx, const RouteRequest& req, domain::SchoolCommand command, std::string code,
            std::string place)
      : CommandRun(ctx, req, std::move(command)), code_(std::move(code)), place_(std::move(place)) {}

 private:
  domain::Result<std::shared_ptr<const domain::SchoolState>> Load() override {
    auto school = LoadSchool(*ctx_.store, code_);
    if (!school) return school.error();
    return std::make_shared<const domain::SchoolState>(std::move(*school));
  }
  std::optional<domain::Role> Authorize(const domain::SchoolState&) override {
    return SchoolCommandRole(req_.principal, place_, *ctx_.reference);
  }
  bool Reauthorize(const eventstore::AppendResult&) override {
    return SchoolCommandRole(req_.principal, place_, *ctx_.reference).has_value();
  }

  const std::string code_, place_;
};

// RunPersonCommand, every 404 of a deferred answer saying the swab `not_found_swab` was not
// found (empty: each its own). REQUIRES: `not_found_swab` outlives the answer (a path
// parameter of `req`).
Response RunPerson(const ApiContext& ctx, const RouteRequest& req, const std::string& person_id,
                   domain::PersonCommand command, std::string_view not_found_swab) {
  const bool creates = std::holds_alternative<domain::RegisterPerson>(command);
  // Checked as ValidatePersonId checks it, without its upper-cased copy: the id is used as
  // the client wrote it.
  if (!creates && !domain::IsPersonId(person_id)) {
    return Problem(404, "not-found", "Not found", "person not found");
  }
  if (!MayIssue(req.principal, command)) {
    return Problem(403, "forbidden", "Forbidden", "your role may not issue this command");
  }
  auto run = std::make_shared<PersonRun>(ctx, req, std::move(command));
  Target& target = run->target;
  target.creates = creates;
  target.person_id = creates ? ctx.new_id() : person_id;
  target.stream = domain::PersonStream(target.person_id);
  target.not_found_swab = not_found_swab;
  return run->Start();
}

}  // namespace

std::string IdempotencyKeyOf(std::string_view subject, std::string_view key) {
  return "http2/" + std::to_string(subject.size()) + ":" + std::string(subject) + "/" + std::string(key);
}

domain::Result<domain::PersonState> LoadPerson(const eventstore::EventStore& store,
                                               const std::string& person_id, const AsOf& as_of) {
  return Fold(store, domain::PersonStream(person_id), domain::PersonState{}, as_of);
}

domain::Result<std::shared_ptr<const domain::PersonState>> CurrentPerson(const ApiContext& ctx,
                                                                         const std::string& person_id) {
  if (ctx.people) return ctx.people->Current(*ctx.store, person_id);
  auto state = LoadPerson(*ctx.store, person_id);
  if (!state) return state.error();
  return std::make_shared<const domain::PersonState>(std::move(*state));
}

domain::Result<domain::SchoolState> LoadSchool(const eventstore::EventStore& store,
                                               const std::string& school) {
  domain::SchoolState s;
  s.school = school;
  return Fold(store, domain::SchoolStream(school), std::move(s), {});
}

Response RunPersonCommand(const ApiContext& ctx, const RouteRequest& req,
                          const std::string& person_id, domain::PersonCommand command) {
  return RunPerson(ctx, req, person_id, std::move(command), {});
}

Response RunSchoolCommand(const ApiContext& ctx, const RouteRequest& req, const std::string& school,
                          domain::SchoolCommand command) {
  auto code = domain::ValidateSchoolCode(school, "school");
  if (!code) return FromDomainError(code.error());
  if (!HoldsAny(req.principal, {domain::Role::kOperator})) {
    return Problem(403, "forbidden", "Forbidden", "your role may not issue this command");
  }
  // Where the school is, from the registry: a school code names only its province, and
  // ASLs cross province borders (docs/security.md, audit finding 4).
  const std::string place = ctx.schools ? ctx.schools->MunicipalityOf(*code) : "";
  if (place.empty()) {
    return Problem(422, "school-not-registered", "School not registered",
                   "school " + *code + " is not in the school registry (the server's schools.csv)");
  }
  auto run = std::make_shared<SchoolRun>(ctx, req, std::move(command), *code, place);
  run->target.stream = domain::SchoolStream(*code);
  return run->Start();
}

Response RunSwabCommand(const ApiContext& ctx, const RouteRequest& req, const std::string& swab_id,
                        domain::PersonCommand command) {
  // The role gate first, the barcode second: a caller who may never do this learns nothing
  // about which swabs exist (403 for every id), and one who may gets the same 404 for a swab
  // that does not exist and for one outside its scope.
  if (!MayIssue(req.principal, command)) {
    return Problem(403, "forbidden", "Forbidden", "your role may not issue this command");
  }
  auto person = PersonOfClaim(*ctx.store, "swab/" + swab_id);
  if (!person) return Problem(404, "not-found", "Not found", SwabNotFound(swab_id));
  // A deferred answer's 404s are given that detail by the run itself (Then() was three
  // closures and four moves of the answer per command). The answer returned as it is
  // (moved), not copied: a conditional expression with the lvalue `res` as one branch was a
  // copy of its body and headers per command.
  Response res = RunPerson(ctx, req, *person, std::move(command), swab_id);
  if (res.status == 404) return Problem(404, "not-found", "Not found", SwabNotFound(swab_id));
  return res;
}

std::optional<std::string> PersonOfClaim(const eventstore::EventStore& store, const std::string& claim) {
  auto owner = store.ClaimOwner(claim);
  if (!owner || !*owner || !(*owner)->starts_with("person-")) return std::nullopt;
  return (*owner)->substr(7);
}

}  // namespace caseledger::api
