// gzip of the views' answers: only what the client accepts, only bodies worth it, the
// ETag made weak and still matched by If-None-Match.
#include "api/content_coding.h"

#include "api/route_helpers.h"

#include <gtest/gtest.h>
#include <zlib.h>

namespace caseledger::api {
namespace {

std::string Gunzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

std::string Rows(int n) {
  std::string s = "{\"daily\":[";
  for (int i = 0; i < n; ++i) s += (i ? "," : "") + std::string("{\"data\":\"2020-10-") + std::to_string(i % 28 + 1) + "\",\"nuovi_positivi\":" + std::to_string(i * 7) + "}";
  return s + "]}";
}

TEST(ContentCodingTest, AcceptsGzipUnlessRefused) {
  EXPECT_TRUE(AcceptsGzip("gzip, deflate, br"));
  EXPECT_TRUE(AcceptsGzip("br, GZIP;q=0.8"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0, identity"));
  EXPECT_FALSE(AcceptsGzip("deflate"));
  EXPECT_FALSE(AcceptsGzip(""));
}

TEST(ContentCodingTest, CompressesLargeJsonAndItInflatesToTheSameBytes) {
  Response r;
  r.body = Rows(200);
  r.Set("ETag", "\"p42\"");
  const std::string plain = r.body;
  CompressAnswer(r);
  EXPECT_EQ(r.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(r.Header("Vary"), "Accept-Encoding");
  EXPECT_EQ(r.Header("ETag"), "W/\"p42\"");
  EXPECT_LT(r.body.size() * 4, plain.size()) << r.body.size() << " of " << plain.size();
  EXPECT_EQ(Gunzip(r.body), plain);
}

// A person's kept answer is held by the response rather than copied into its body: it is
// compressed all the same, and the response then holds only the compressed bytes.
TEST(ContentCodingTest, CompressesAKeptAnswerAsItCompressesABody) {
  auto kept = std::make_shared<const std::string>(Rows(200));
  Request req;
  Response r = JsonRead(req, kept, "\"p42\"", 42);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.kept_body, kept);
  EXPECT_EQ(r.Body(), *kept);
  CompressAnswer(r);
  EXPECT_EQ(r.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(r.Header("ETag"), "W/\"p42\"");
  EXPECT_EQ(r.kept_body, nullptr);
  EXPECT_EQ(r.Body(), r.body);
  EXPECT_LT(r.body.size() * 4, kept->size());
  EXPECT_EQ(Gunzip(r.body), *kept);
  EXPECT_EQ(*kept, Rows(200));  // the kept answer itself is untouched
  // A 304 holds no body of either kind.
  req.headers.Add("if-none-match", "\"p42\"");
  Response not_modified = JsonRead(req, kept, "\"p42\"", 42);
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_EQ(not_modified.kept_body, nullptr);
  EXPECT_TRUE(not_modified.Body().empty());
}

TEST(ContentCodingTest, LeavesSmallErrorStreamAndCodedAnswersAlone) {
  Response small;
  small.body = "{\"position\":1}";
  CompressAnswer(small);
  EXPECT_EQ(small.Header("Content-Encoding"), "");

  Response error;
  error.status = 404;
  error.content_type = "application/problem+json";
  error.body = Rows(100);
  CompressAnswer(error);
  EXPECT_EQ(error.Header("Content-Encoding"), "");

  Response font;
  font.content_type = "font/woff2";
  font.body = std::string(4096, 'x');
  CompressAnswer(font);
  EXPECT_EQ(font.body, std::string(4096, 'x'));

  Response csv;
  csv.content_type = "text/csv; charset=utf-8";
  csv.body = std::string(4096, 'x');
  CompressAnswer(csv);
  EXPECT_EQ(csv.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(Gunzip(csv.body), std::string(4096, 'x'));
}

TEST(ContentCodingTest, IfNoneMatchComparesWeakly) {
  EXPECT_TRUE(WeakMatch("W/\"p42\"", "\"p42\""));
  EXPECT_TRUE(WeakMatch("\"p42\"", "\"p42\""));
  EXPECT_TRUE(WeakMatch("\"p1\", W/\"p42\"", "\"p42\""));
  EXPECT_TRUE(WeakMatch("*", "\"p42\""));
  EXPECT_FALSE(WeakMatch("\"p4\"", "\"p42\""));
  EXPECT_FALSE(WeakMatch("", "\"p42\""));

  Request req;
  req.headers = {{"if-none-match", "W/\"p42\""}};
  EXPECT_EQ(JsonRead(req, Rows(3), "\"p42\"", 42).status, 304);
  req.headers = {{"if-none-match", "W/\"p41\""}};
  EXPECT_EQ(JsonRead(req, Rows(3), "\"p42\"", 42).status, 200);
}

}  // namespace
}  // namespace caseledger::api
