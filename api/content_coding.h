// Content codings of answers (RFC 9110 §8.4): gzip for the large JSON and CSV bodies of the
// views, when the client accepts it. Personal data is compressed too: nothing the client
// sends is reflected into a body beside a secret, so there is no BREACH-style oracle.
#pragma once

#include "api/http.h"

#include <string>
#include <string_view>

namespace caseledger::api {

// True when an Accept-Encoding header lists gzip without q=0 (enough of RFC 9110 §12.5.3).
bool AcceptsGzip(std::string_view accept_encoding);

// gzip (RFC 1952) of `in` at zlib level `level` (1 fastest .. 9 smallest).
std::string Gzip(std::string_view in, int level);

// Bodies below this are sent as they are: a packet either way.
inline constexpr size_t kMinCompressedBody = 1024;

// Compresses a 2xx answer's body in place when it is JSON, CSV or text of at least
// kMinCompressedBody bytes and not already encoded: sets Content-Encoding and Vary, and turns
// a strong ETag weak (the coded bytes differ; If-None-Match compares weakly).
void CompressAnswer(Response& res);

}  // namespace caseledger::api
