#include "api/response_head.h"

#include <boost/beast/http/status.hpp>

#include <charconv>
#include <cstring>

namespace caseledger::api {

namespace {

// The head is written into room sized for it beforehand, a copy per piece: appending the
// pieces one by one (four per field) checked and grew the string each time, ~1,200
// instructions per person answer.
char* Put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

char* PutNumber(char* p, uint64_t n) { return std::to_chars(p, p + 20, n).ptr; }

// At most name.size() + value.size() + 4 bytes.
char* PutField(char* p, std::string_view name, std::string_view value) {
  p = Put(p, name);
  *p++ = ':';
  *p++ = ' ';
  // Two memchr passes: find_first_of("\r\n") looked up each character in the set.
  if (value.empty() ||
      (!std::memchr(value.data(), '\r', value.size()) && !std::memchr(value.data(), '\n', value.size()))) {
    p = Put(p, value);
  } else {
    for (char c : value) {
      if (c != '\r' && c != '\n') *p++ = c;
    }
  }
  *p++ = '\r';
  *p++ = '\n';
  return p;
}

constexpr std::string_view kServer = "\r\nServer: caseledger\r\n";
constexpr std::string_view kClose = "Connection: close\r\n";
constexpr std::string_view kKeepAlive = "Connection: keep-alive\r\n";
constexpr std::string_view kLength = "Content-Length: ";

}  // namespace

void AppendResponseHead(std::string& out, const Response& res, unsigned version, bool keep_alive,
                        size_t content_length) {
  namespace http = boost::beast::http;
  const std::string_view reason = http::obsolete_reason(static_cast<http::status>(res.status));
  // An upper bound: the status line, Server, Content-Type, the fields, Connection,
  // Content-Length and the blank line.
  size_t size = 9 + 20 + 1 + reason.size() + kServer.size() + 12 + 4 + res.content_type.size() +
                kKeepAlive.size() + kLength.size() + 20 + 4;
  for (const auto& [name, value] : res.headers) size += name.size() + value.size() + 4;
  const size_t at = out.size();
  out.resize(at + size);
  char* const begin = out.data() + at;
  char* p = Put(begin, version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  p = PutNumber(p, static_cast<uint64_t>(res.status));
  *p++ = ' ';
  p = Put(p, reason);
  p = Put(p, kServer);
  if (!res.content_type.empty()) p = PutField(p, "Content-Type", res.content_type);
  for (const auto& [name, value] : res.headers) p = PutField(p, name, value);
  // As Beast's keep_alive(): HTTP/1.1 is persistent unless told to close, HTTP/1.0 closes
  // unless told to keep alive.
  if (version >= 11 && !keep_alive) p = Put(p, kClose);
  if (version < 11 && keep_alive) p = Put(p, kKeepAlive);
  p = Put(p, kLength);
  p = PutNumber(p, content_length);
  p = Put(p, "\r\n\r\n");
  out.resize(at + static_cast<size_t>(p - begin));
}

std::string ResponseHead(const Response& res, unsigned version, bool keep_alive, size_t content_length) {
  std::string out;
  AppendResponseHead(out, res, version, keep_alive, content_length);
  return out;
}

}  // namespace caseledger::api
