// Small pieces shared by the route files: parse a JSON body into a command with field
// errors, and the common answers of read routes.
#pragma once

#include "api/command_service.h"
#include "api/http.h"
#include "api/json_body.h"
#include "api/problem.h"
#include "api/router.h"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>

#include <functional>
#include <optional>

namespace caseledger::api {

// Parses the body as a JSON object and runs `read` over its fields; answers 400 with every
// field error (including unknown fields) or nullopt when the command is complete.
// The 400 answer to a body ParseJsonObject refused with `error`; a key given twice is also
// named as a field error.
Response MalformedBody(std::string_view body, const std::string& error);

template <class Command>
using CommandReader = std::function<void(JsonFields&, Command&, domain::FieldErrors&)>;

template <class Command>
std::optional<Response> ReadCommand(const Request& req, Command& out, const CommandReader<Command>& read) {
  std::string error;
  // The body's values in a buffer of this frame while they fit (a command body of a few
  // hundred bytes: ~8 allocations fewer), then in blocks freed at once on return.
  unsigned char room[2048];
  boost::json::monotonic_resource memory(room, sizeof room);
  auto object = ParseJsonObject(req.body, &error, &memory);
  if (!object) return MalformedBody(req.body, error);
  domain::FieldErrors errors;
  JsonFields fields(*object, errors);
  read(fields, out, errors);
  fields.RejectUnknown();
  if (!errors.empty()) return FromDomainError(errors.ToError());
  return std::nullopt;
}

// Parses an enum field with `parse`; records "must be one of ..." on failure.
template <class E, class Parse>
std::optional<E> EnumField(JsonFields& f, domain::FieldErrors& errors, std::string_view name,
                           Parse parse, std::string_view allowed, bool required = true) {
  auto s = f.StringView(name, required);
  if (!s) return std::nullopt;
  auto v = parse(*s);
  if (!v) errors.Add(std::string(name), "must be one of " + std::string(allowed));
  return v;
}

// Registers one POST route that reads `Command` from the body and runs it on the person.
template <class Command>
void AddPersonCommand(Router& router, const ApiContext& ctx, std::string pattern,
                      CommandReader<Command> read) {
  router.Add({Method::kPost, std::move(pattern), RouteKind::kDeferredCommand, true,
              [&ctx, read](const RouteRequest& req) {
                Command command;
                if (auto bad = ReadCommand<Command>(req.http, command, read)) return *bad;
                const std::string* id = req.params.Find("id");
                return RunPersonCommand(ctx, req, id ? *id : std::string(),
                                        domain::PersonCommand{std::move(command)});
              }});
}

// A JSON answer for a read route with ETag and X-Position; 304 when If-None-Match matches.
// If-None-Match against an ETag, compared weakly (W/"x" matches "x"); "*" matches any.
bool WeakMatch(std::string_view if_none_match, std::string_view etag);

Response JsonRead(const Request& req, std::string body, std::string etag, uint64_t position);
// The same with an answer kept elsewhere (Response::kept_body), held rather than copied.
Response JsonRead(const Request& req, std::shared_ptr<const std::string> body, std::string etag, uint64_t position);

// The position a read must reflect (?min_position=N): 0 when absent; error answer when bad.
std::optional<Response> ReadMinPosition(const Request& req, uint64_t& min_position);

}  // namespace caseledger::api
