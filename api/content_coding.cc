#include "api/content_coding.h"

#include <strings.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <stdexcept>

namespace caseledger::api {

bool AcceptsGzip(std::string_view header) {
  std::string lower(header);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t at = lower.find("gzip");
  if (at == std::string::npos) return false;
  size_t end = lower.find(',', at);
  std::string params = lower.substr(at + 4, end == std::string::npos ? std::string::npos : end - at - 4);
  params.erase(std::remove(params.begin(), params.end(), ' '), params.end());
  if (params.rfind(";q=", 0) != 0) return true;
  return std::strtod(params.c_str() + 3, nullptr) > 0;
}

std::string Gzip(std::string_view in, int level) {
  z_stream z{};
  // windowBits 15 + 16: a gzip header and trailer around the deflate stream.
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("zlib: deflateInit2 failed");
  }
  std::string out(deflateBound(&z, static_cast<uLong>(in.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("zlib: deflate did not finish");
  return out;
}

namespace {

bool Compressible(std::string_view content_type) {
  return content_type.starts_with("application/json") || content_type.starts_with("application/problem+json") ||
         content_type.starts_with("text/");
}

}  // namespace

void CompressAnswer(Response& res) {
  if (res.status < 200 || res.status >= 300 || res.events || res.Body().size() < kMinCompressedBody) return;
  if (!Compressible(res.content_type) || !res.Header("Content-Encoding").empty()) return;
  // Level 4: about half of level 9's CPU for JSON within a few per cent of its size.
  res.body = Gzip(res.Body(), 4);
  res.kept_body.reset();
  res.Set("Content-Encoding", "gzip");
  res.Set("Vary", "Accept-Encoding");
  for (auto& [name, value] : res.headers) {
    if (strncasecmp(name.c_str(), "etag", 5) == 0 && value.starts_with('"')) value = "W/" + value;
  }
}

}  // namespace caseledger::api
