#include "api/json_text.h"

#include <boost/json/serialize.hpp>

#include <charconv>
#include <cmath>

namespace caseledger::api {
namespace {

void Write(const boost::json::value& v, std::string& out);

template <class Integer>
void AppendInteger(Integer n, std::string& out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

void WriteObject(const boost::json::object& o, std::string& out) {
  out += '{';
  bool first = true;
  for (const auto& [key, value] : o) {
    if (!first) out += ',';
    first = false;
    out += boost::json::serialize(boost::json::string_view(key));  // quoted and escaped
    out += ':';
    Write(value, out);
  }
  out += '}';
}

void Write(const boost::json::value& v, std::string& out) {
  switch (v.kind()) {
    case boost::json::kind::double_:
      out += DecimalText(v.get_double());
      return;
    case boost::json::kind::object:
      WriteObject(v.get_object(), out);
      return;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        Write(e, out);
      }
      out += ']';
      return;
    }
    case boost::json::kind::int64:
      AppendInteger(v.get_int64(), out);
      return;
    case boost::json::kind::uint64:
      AppendInteger(v.get_uint64(), out);
      return;
    case boost::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      return;
    case boost::json::kind::null:
      out += "null";
      return;
    case boost::json::kind::string:
      out += boost::json::serialize(boost::json::string_view(v.get_string()));  // quoted and escaped
      return;
  }
}

}  // namespace

std::string DecimalText(double d) {
  if (!std::isfinite(d)) return "null";
  if (d == 0) return "0";  // also -0
  char buf[400];           // the longest fixed double (~1.8e308) fits
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

std::string JsonText(const boost::json::value& v) {
  std::string out;
  Write(v, out);
  return out;
}

std::string JsonText(const boost::json::object& o) {
  std::string out;
  WriteObject(o, out);
  return out;
}

}  // namespace caseledger::api
