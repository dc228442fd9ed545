#pragma once
/// A small JSON value: enough to write metrics.json / manifests and read them back.
/// Objects keep insertion order so files diff cleanly. Numbers are written with the shortest
/// representation that round-trips a double; NaN and ±inf (not representable in JSON) are
/// written as null.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace flowood::io {

/// A JSON value (null, bool, integer, number, string, array or object).
class Json {
 public:
  /// The kind of value held. Integers are kept apart from doubles so counts print exactly.
  enum class Type { kNull, kBool, kInt, kNumber, kString, kArray, kObject };

  /// null.
  Json() = default;
  /// null.
  Json(std::nullptr_t) {}
  /// true / false.
  Json(bool value) : type_(Type::kBool), bool_(value) {}
  /// An integer.
  Json(int value) : type_(Type::kInt), int_(value) {}
  /// An integer.
  Json(long value) : type_(Type::kInt), int_(value) {}
  /// An integer.
  Json(long long value) : type_(Type::kInt), int_(value) {}
  /// An integer (values above INT64_MAX are stored as a double).
  Json(unsigned long value);
  /// An integer (values above INT64_MAX are stored as a double).
  Json(unsigned long long value);
  /// An integer.
  Json(unsigned value) : type_(Type::kInt), int_(value) {}
  /// A number; NaN and ±inf are dumped as null.
  Json(double value) : type_(Type::kNumber), number_(value) {}
  /// A string (UTF-8).
  Json(const char* value) : type_(Type::kString), string_(value) {}
  /// A string (UTF-8).
  Json(std::string value) : type_(Type::kString), string_(std::move(value)) {}

  /// An empty array.
  static Json array();
  /// An array of the given values.
  static Json array(std::initializer_list<Json> values);
  /// An array of numbers.
  static Json array(const std::vector<double>& values);
  /// An empty object.
  static Json object();

  /// The kind of value held.
  Type type() const noexcept { return type_; }
  /// Type tests.
  bool is_null() const noexcept { return type_ == Type::kNull; }
  bool is_bool() const noexcept { return type_ == Type::kBool; }
  /// True for integers and doubles alike.
  bool is_number() const noexcept { return type_ == Type::kInt || type_ == Type::kNumber; }
  bool is_string() const noexcept { return type_ == Type::kString; }
  bool is_array() const noexcept { return type_ == Type::kArray; }
  bool is_object() const noexcept { return type_ == Type::kObject; }

  /// The boolean; DataError when not a bool.
  bool as_bool() const;
  /// The number as a double (integers converted); null reads as NaN, since NaN is dumped as null.
  double as_number() const;
  /// The integer; DataError when not an integer (a double with an integral value is accepted).
  std::int64_t as_int() const;
  /// The string; DataError when not a string.
  const std::string& as_string() const;

  /// Number of elements (array) or members (object); 0 otherwise.
  std::size_t size() const noexcept;
  /// Appends to an array (a null value becomes an empty array first). Returns *this.
  Json& push_back(Json value);
  /// Element `index` of an array; DataError when out of range or not an array.
  const Json& at(std::size_t index) const;

  /// Sets member `key` of an object (a null value becomes an empty object first), replacing an
  /// existing member in place. Returns *this so calls chain.
  Json& set(const std::string& key, Json value);
  /// Member `key`, inserted as null when absent (a null value becomes an empty object first).
  Json& operator[](const std::string& key);
  /// Member `key`; DataError naming the key and listing the present ones when absent.
  const Json& at(const std::string& key) const;
  /// True when this is an object with member `key`.
  bool contains(const std::string& key) const;
  /// Object member names in insertion order.
  const std::vector<std::string>& keys() const noexcept { return keys_; }
  /// Array elements, or object member values in the order of keys().
  const std::vector<Json>& values() const noexcept { return items_; }

  /// Serialises. `indent` < 0: compact on one line; otherwise pretty-printed with that many
  /// spaces per level. No trailing newline.
  std::string dump(int indent = -1) const;

  /// Parses JSON text (RFC 8259; a UTF-8 BOM is skipped). `source` names the text in errors,
  /// which are IoError(source, "line L, column C: ...").
  static Json parse(const std::string& text, const std::string& source = "<json>");

  /// Structural equality (integers and doubles with the same value compare equal).
  bool operator==(const Json& other) const;
  /// Negation of ==.
  bool operator!=(const Json& other) const { return !(*this == other); }

 private:
  void dump_to(std::string& out, int indent, int depth) const;
  const char* type_name() const noexcept;

  Type type_ = Type::kNull;
  bool bool_ = false;
  std::int64_t int_ = 0;
  double number_ = 0.0;
  std::string string_;
  std::vector<std::string> keys_;  // object member names
  std::vector<Json> items_;        // array elements / object member values
};

/// Writes `value` to `path` atomically, pretty-printed with `indent` spaces and a final newline.
void write_json_file(const std::string& path, const Json& value, int indent = 2);

/// Reads and parses a JSON file; IoError names the path (and line/column on syntax errors).
Json read_json_file(const std::string& path);

}  // namespace flowood::io
