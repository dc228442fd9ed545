#include "flowood/io/json.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

#include "flowood/core/error.hpp"
#include "flowood/io/atomic_file.hpp"

namespace flowood::io {
namespace {

void append_number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof(buf), value);  // shortest round-trip form
  out.append(buf, res.ptr);
}

void append_escaped(std::string& out, const std::string& s) {
  static const char* const kHex = "0123456789abcdef";
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += ch;  // UTF-8 passes through unchanged
        }
    }
  }
  out += '"';
}

void append_newline(std::string& out, int indent, int depth) {
  if (indent < 0) return;
  out += '\n';
  out.append(static_cast<std::size_t>(indent) * static_cast<std::size_t>(depth), ' ');
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Recursive-descent parser over the whole text; positions are reported as line/column.
class Parser {
 public:
  Parser(const std::string& text, const std::string& source) : text_(text), source_(source) {
    if (text_.compare(0, 3, "\xEF\xBB\xBF") == 0) pos_ = 3;
  }

  Json parse_document() {
    skip_ws();
    Json value = parse_value(0);
    skip_ws();
    if (pos_ != text_.size()) fail("unexpected trailing characters");
    return value;
  }

 private:
  static constexpr int kMaxDepth = 512;

  [[noreturn]] void fail(const std::string& what) const {
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    throw IoError(source_, "line " + std::to_string(line) + ", column " + std::to_string(col) +
                               ": invalid JSON: " + what);
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void skip_ws() {
    while (!at_end()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  void expect_literal(const char* word) {
    const std::string w(word);
    if (text_.compare(pos_, w.size(), w) != 0) fail("unexpected token");
    pos_ += w.size();
  }

  Json parse_value(int depth) {
    if (depth > kMaxDepth) fail("nesting deeper than " + std::to_string(kMaxDepth));
    if (at_end()) fail("unexpected end of input");
    const char c = peek();
    switch (c) {
      case '{': return parse_object(depth);
      case '[': return parse_array(depth);
      case '"': return Json(parse_string());
      case 't': expect_literal("true"); return Json(true);
      case 'f': expect_literal("false"); return Json(false);
      case 'n': expect_literal("null"); return Json();
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number();
        fail(std::string("unexpected character '") + c + "'");
    }
  }

  Json parse_object(int depth) {
    ++pos_;  // '{'
    Json obj = Json::object();
    skip_ws();
    if (peek() == '}') {
      ++pos_;
      return obj;
    }
    while (true) {
      skip_ws();
      if (peek() != '"') fail("expected a string key");
      std::string key = parse_string();
      skip_ws();
      if (peek() != ':') fail("expected ':' after key '" + key + "'");
      ++pos_;
      skip_ws();
      obj.set(key, parse_value(depth + 1));
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return obj;
      }
      fail("expected ',' or '}' in object");
    }
  }

  Json parse_array(int depth) {
    ++pos_;  // '['
    Json arr = Json::array();
    skip_ws();
    if (peek() == ']') {
      ++pos_;
      return arr;
    }
    while (true) {
      skip_ws();
      arr.push_back(parse_value(depth + 1));
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return arr;
      }
      fail("expected ',' or ']' in array");
    }
  }

  std::uint32_t parse_hex4() {
    if (pos_ + 4 > text_.size()) fail("truncated \\u escape");
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = text_[pos_++];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= static_cast<std::uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') v |= static_cast<std::uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= static_cast<std::uint32_t>(h - 'A' + 10);
      else fail("bad hex digit in \\u escape");
    }
    return v;
  }

  std::string parse_string() {
    ++pos_;  // opening quote
    std::string out;
    while (true) {
      if (at_end()) fail("unterminated string");
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_end()) fail("unterminated escape");
      const char e = text_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t cp = parse_hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // high surrogate: a low one must follow
            if (text_.compare(pos_, 2, "\\u") != 0) fail("unpaired surrogate in \\u escape");
            pos_ += 2;
            const std::uint32_t lo = parse_hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("invalid low surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("unpaired surrogate in \\u escape");
          }
          append_utf8(out, cp);
          break;
        }
        default: fail(std::string("invalid escape '\\") + e + "'");
      }
    }
  }

  Json parse_number() {
    const std::size_t start = pos_;
    bool integral = true;
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (peek() >= '1' && peek() <= '9') {
      while (peek() >= '0' && peek() <= '9') ++pos_;
    } else {
      fail("invalid number");
    }
    if (peek() == '.') {
      integral = false;
      ++pos_;
      if (!(peek() >= '0' && peek() <= '9')) fail("digit expected after '.'");
      while (peek() >= '0' && peek() <= '9') ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      integral = false;
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!(peek() >= '0' && peek() <= '9')) fail("digit expected in exponent");
      while (peek() >= '0' && peek() <= '9') ++pos_;
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    if (integral) {
      std::int64_t i = 0;
      const auto res = std::from_chars(first, last, i);
      if (res.ec == std::errc() && res.ptr == last) return Json(static_cast<long long>(i));
      // too large for int64: fall through to double
    }
    double d = 0.0;
    const auto res = std::from_chars(first, last, d);
    if (res.ptr != last || (res.ec != std::errc() && res.ec != std::errc::result_out_of_range))
      fail("invalid number");
    return Json(d);
  }

  const std::string& text_;
  const std::string& source_;
  std::size_t pos_ = 0;
};

}  // namespace

Json::Json(unsigned long value) {
  if (value <= static_cast<unsigned long>(std::numeric_limits<std::int64_t>::max())) {
    type_ = Type::kInt;
    int_ = static_cast<std::int64_t>(value);
  } else {
    type_ = Type::kNumber;
    number_ = static_cast<double>(value);
  }
}

Json::Json(unsigned long long value) {
  if (value <= static_cast<unsigned long long>(std::numeric_limits<std::int64_t>::max())) {
    type_ = Type::kInt;
    int_ = static_cast<std::int64_t>(value);
  } else {
    type_ = Type::kNumber;
    number_ = static_cast<double>(value);
  }
}

Json Json::array() {
  Json j;
  j.type_ = Type::kArray;
  return j;
}

Json Json::array(std::initializer_list<Json> values) {
  Json j = array();
  j.items_.assign(values.begin(), values.end());
  return j;
}

Json Json::array(const std::vector<double>& values) {
  Json j = array();
  j.items_.reserve(values.size());
  for (const double v : values) j.items_.emplace_back(v);
  return j;
}

Json Json::object() {
  Json j;
  j.type_ = Type::kObject;
  return j;
}

const char* Json::type_name() const noexcept {
  switch (type_) {
    case Type::kNull: return "null";
    case Type::kBool: return "a bool";
    case Type::kInt: return "an integer";
    case Type::kNumber: return "a number";
    case Type::kString: return "a string";
    case Type::kArray: return "an array";
    case Type::kObject: return "an object";
  }
  return "?";
}

bool Json::as_bool() const {
  if (type_ != Type::kBool) throw DataError("", std::string("JSON value is ") + type_name() + ", expected a bool");
  return bool_;
}

double Json::as_number() const {
  if (type_ == Type::kInt) return static_cast<double>(int_);
  if (type_ == Type::kNumber) return number_;
  if (type_ == Type::kNull) return std::numeric_limits<double>::quiet_NaN();
  throw DataError("", std::string("JSON value is ") + type_name() + ", expected a number");
}

std::int64_t Json::as_int() const {
  if (type_ == Type::kInt) return int_;
  if (type_ == Type::kNumber && std::isfinite(number_) && std::floor(number_) == number_ &&
      std::fabs(number_) < 9.2e18)
    return static_cast<std::int64_t>(number_);
  throw DataError("", std::string("JSON value is ") + type_name() + ", expected an integer");
}

const std::string& Json::as_string() const {
  if (type_ != Type::kString) throw DataError("", std::string("JSON value is ") + type_name() + ", expected a string");
  return string_;
}

std::size_t Json::size() const noexcept {
  return (type_ == Type::kArray || type_ == Type::kObject) ? items_.size() : 0;
}

Json& Json::push_back(Json value) {
  if (type_ == Type::kNull) type_ = Type::kArray;
  if (type_ != Type::kArray) throw DataError("", std::string("cannot append to JSON ") + type_name());
  items_.push_back(std::move(value));
  return *this;
}

const Json& Json::at(std::size_t index) const {
  if (type_ != Type::kArray) throw DataError("", std::string("cannot index JSON ") + type_name());
  if (index >= items_.size())
    throw DataError("", "JSON array index " + std::to_string(index) + " out of range (size " +
                            std::to_string(items_.size()) + ")");
  return items_[index];
}

Json& Json::set(const std::string& key, Json value) {
  (*this)[key] = std::move(value);
  return *this;
}

Json& Json::operator[](const std::string& key) {
  if (type_ == Type::kNull) type_ = Type::kObject;
  if (type_ != Type::kObject) throw DataError("", std::string("cannot set key '") + key + "' on JSON " + type_name());
  for (std::size_t i = 0; i < keys_.size(); ++i)
    if (keys_[i] == key) return items_[i];
  keys_.push_back(key);
  items_.emplace_back();
  return items_.back();
}

const Json& Json::at(const std::string& key) const {
  if (type_ != Type::kObject) throw DataError("", std::string("cannot look up key '") + key + "' in JSON " + type_name());
  for (std::size_t i = 0; i < keys_.size(); ++i)
    if (keys_[i] == key) return items_[i];
  std::string present;
  for (const auto& k : keys_) present += (present.empty() ? "" : ", ") + k;
  throw DataError("", "JSON object has no key '" + key + "' (present: " + (present.empty() ? "none" : present) + ")");
}

bool Json::contains(const std::string& key) const {
  if (type_ != Type::kObject) return false;
  for (const auto& k : keys_)
    if (k == key) return true;
  return false;
}

void Json::dump_to(std::string& out, int indent, int depth) const {
  switch (type_) {
    case Type::kNull: out += "null"; return;
    case Type::kBool: out += bool_ ? "true" : "false"; return;
    case Type::kInt: out += std::to_string(int_); return;
    case Type::kNumber: append_number(out, number_); return;
    case Type::kString: append_escaped(out, string_); return;
    case Type::kArray:
    case Type::kObject: {
      const bool is_obj = type_ == Type::kObject;
      out += is_obj ? '{' : '[';
      if (items_.empty()) {
        out += is_obj ? '}' : ']';
        return;
      }
      for (std::size_t i = 0; i < items_.size(); ++i) {
        if (i > 0) out += ',';
        append_newline(out, indent, depth + 1);
        if (is_obj) {
          append_escaped(out, keys_[i]);
          out += indent < 0 ? ":" : ": ";
        }
        items_[i].dump_to(out, indent, depth + 1);
      }
      append_newline(out, indent, depth);
      out += is_obj ? '}' : ']';
      return;
    }
  }
}

std::string Json::dump(int indent) const {
  std::string out;
  dump_to(out, indent, 0);
  return out;
}

Json Json::parse(const std::string& text, const std::string& source) {
  return Parser(text, source).parse_document();
}

bool Json::operator==(const Json& other) const {
  if (is_number() && other.is_number()) {
    if (type_ == Type::kInt && other.type_ == Type::kInt) return int_ == other.int_;
    return as_number() == other.as_number();
  }
  if (type_ != other.type_) return false;
  switch (type_) {
    case Type::kNull: return true;
    case Type::kBool: return bool_ == other.bool_;
    case Type::kString: return string_ == other.string_;
    case Type::kArray: return items_ == other.items_;
    case Type::kObject: return keys_ == other.keys_ && items_ == other.items_;
    default: return false;
  }
}

void write_json_file(const std::string& path, const Json& value, int indent) {
  const std::string text = value.dump(indent) + "\n";
  write_file_atomic(path, text);
}

Json read_json_file(const std::string& path) { return Json::parse(read_file(path), path); }

}  // namespace flowood::io
