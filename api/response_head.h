// The status line and header fields of an answer, written as one string: what Beast's
// serializer wrote for a `response<string_body>` after prepare_payload() (Server,
// Content-Type, the route's headers in order, Connection as keep-alive asks, then
// Content-Length), without building a `basic_fields` (an allocation per field) and
// walking it as a buffer sequence per write: that was a tenth of an I/O thread's time on
// person queries. The session writes it and the body in one gather write.
#pragma once

#include "api/http.h"

#include <string>

namespace caseledger::api {

// `version` is the request's (10 or 11); `content_length` the body's size, also for an
// answer to HEAD, which carries no body. A CR or LF in a route's header value is dropped
// (it would end the field): values are the server's own, never echoed client bytes.
std::string ResponseHead(const Response& res, unsigned version, bool keep_alive, size_t content_length);
// The same, appended to `out`: a buffer kept from one answer to the next takes no
// allocation per answer.
void AppendResponseHead(std::string& out, const Response& res, unsigned version, bool keep_alive,
                        size_t content_length);

}  // namespace caseledger::api
