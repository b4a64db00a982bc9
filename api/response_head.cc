#include "api/response_head.h"

#include <boost/beast/http/status.hpp>

#include <charconv>
#include <cstring>

namespace caseledger::api {

namespace {

void AppendField(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  // Two memchr passes: find_first_of("\r\n") looked up each character in the set, a few
  // hundred instructions per header.
  if (value.empty() ||
      (!std::memchr(value.data(), '\r', value.size()) && !std::memchr(value.data(), '\n', value.size()))) {
    out.append(value);
  } else {
    for (char c : value) {
      if (c != '\r' && c != '\n') out.push_back(c);
    }
  }
  out.append("\r\n");
}

void AppendNumber(std::string& out, uint64_t n) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
}

}  // namespace

std::string ResponseHead(const Response& res, unsigned version, bool keep_alive, size_t content_length) {
  namespace http = boost::beast::http;
  std::string out;
  size_t size = 96 + res.content_type.size();
  for (const auto& [name, value] : res.headers) size += name.size() + value.size() + 4;
  out.reserve(size);
  out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  AppendNumber(out, static_cast<uint64_t>(res.status));
  out.push_back(' ');
  out.append(http::obsolete_reason(static_cast<http::status>(res.status)));
  out.append("\r\nServer: caseledger\r\n");
  if (!res.content_type.empty()) AppendField(out, "Content-Type", res.content_type);
  for (const auto& [name, value] : res.headers) AppendField(out, name, value);
  // As Beast's keep_alive(): HTTP/1.1 is persistent unless told to close, HTTP/1.0 closes
  // unless told to keep alive.
  if (version >= 11 && !keep_alive) out.append("Connection: close\r\n");
  if (version < 11 && keep_alive) out.append("Connection: keep-alive\r\n");
  out.append("Content-Length: ");
  AppendNumber(out, content_length);
  out.append("\r\n\r\n");
  return out;
}

}  // namespace caseledger::api
