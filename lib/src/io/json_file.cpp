#include "flowood/io/json_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "flowood/core/error.hpp"
#include "flowood/io/atomic_file.hpp"

namespace flowood::io {
namespace {

std::string kind_of(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "a bool";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a number";
    case Json::value_t::string: return "a string";
    case Json::value_t::array: return "an array";
    case Json::value_t::object: return "an object";
    default: return "not a JSON value";
  }
}

[[noreturn]] void wrong_type(const Json& v, const char* expected) {
  throw DataError("", "JSON value is " + kind_of(v) + ", expected " + expected);
}

/// "line L, column C" (both 1-based) of the character at the 1-based byte offset `byte`, where
/// the parser stopped.
std::string position(const std::string& text, std::size_t byte) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

}  // namespace

Json parse_json(const std::string& text, const std::string& source) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at …: REASON"; keep the reason.
    std::string reason = e.what();
    if (const auto colon = reason.find(": "); colon != std::string::npos) reason = reason.substr(colon + 2);
    throw IoError(source, position(text, e.byte) + ": " + reason);
  } catch (const Json::exception& e) {  // e.g. out_of_range.406: a number beyond a double's range
    throw IoError(source, std::string("not readable JSON: ") + e.what());
  }
}

Json read_json_file(const std::string& path) { return parse_json(read_file(path), path); }

void write_json_file(const std::string& path, const Json& value, int indent) {
  write_file_atomic(path, value.dump(indent) + "\n");
}

const Json& json_at(const Json& object, const std::string& key) {
  if (!object.is_object()) throw DataError("", "cannot look up key '" + key + "' in JSON " + kind_of(object));
  const auto it = object.find(key);
  if (it != object.end()) return *it;
  std::string present;
  for (auto m = object.begin(); m != object.end(); ++m) present += (present.empty() ? "" : ", ") + m.key();
  throw DataError("", "JSON object has no key '" + key + "' (present: " + (present.empty() ? "none" : present) + ")");
}

const Json& json_at(const Json& array, std::size_t index) {
  if (!array.is_array()) throw DataError("", "cannot index JSON " + kind_of(array));
  if (index >= array.size())
    throw DataError("", "JSON array index " + std::to_string(index) + " out of range (size " +
                            std::to_string(array.size()) + ")");
  return array[index];
}

std::vector<std::string> json_keys(const Json& object) {
  std::vector<std::string> keys;
  if (object.is_object())
    for (auto m = object.begin(); m != object.end(); ++m) keys.push_back(m.key());
  return keys;
}

double json_number(const Json& value) {
  if (value.is_number()) return value.get<double>();
  if (value.is_null()) return std::numeric_limits<double>::quiet_NaN();
  wrong_type(value, "a number");
}

std::int64_t json_int(const Json& value) {
  if (value.is_number_integer()) {
    if (value.is_number_unsigned() && value.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
      wrong_type(value, "an integer below 2^63");
    return value.get<std::int64_t>();
  }
  if (value.is_number_float()) {
    const double d = value.get<double>();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.2e18) return static_cast<std::int64_t>(d);
  }
  wrong_type(value, "an integer");
}

const std::string& json_string(const Json& value) {
  if (!value.is_string()) wrong_type(value, "a string");
  return value.get_ref<const std::string&>();
}

bool json_bool(const Json& value) {
  if (!value.is_boolean()) wrong_type(value, "a bool");
  return value.get<bool>();
}

}  // namespace flowood::io
