#pragma once
/// JSON through nlohmann::json (Debian's nlohmann-json3-dev). `Json` keeps object members in
/// insertion order, so metrics.json, manifests and plans diff cleanly. NaN and ±inf, which JSON
/// cannot hold, are written as null, and json_number reads null back as NaN.
///
/// The helpers below turn the library's exceptions into flowood's typed errors: a syntax error is
/// an IoError naming the file, line and column; a missing key or a value of the wrong type is a
/// DataError naming the key (and, for a missing key, the keys that are there). Readers catch the
/// DataError and rethrow it with the file's path.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace flowood::io {

using Json = nlohmann::ordered_json;

/// Parses `text`. Throws IoError(source) "line L, column C: …" on a syntax error.
Json parse_json(const std::string& text, const std::string& source = "<json>");

/// Reads and parses the file at `path` (IoError naming it when unreadable or malformed).
Json read_json_file(const std::string& path);

/// Writes `value` (indented by `indent`, one trailing newline) atomically to `path`.
void write_json_file(const std::string& path, const Json& value, int indent = 2);

/// object[key]. DataError naming the key and listing the keys present when it is missing, or
/// saying what the value is when it is not an object.
const Json& json_at(const Json& object, const std::string& key);
/// array[index]. DataError when out of range or not an array.
const Json& json_at(const Json& array, std::size_t index);

/// The member names of an object, in order (empty for any other value).
std::vector<std::string> json_keys(const Json& object);

/// A number (integer or not); null gives NaN. DataError for any other type.
double json_number(const Json& value);
/// An integer, or a number with an integral value. DataError otherwise.
std::int64_t json_int(const Json& value);
/// A string. DataError otherwise.
const std::string& json_string(const Json& value);
/// true or false. DataError otherwise.
bool json_bool(const Json& value);

}  // namespace flowood::io
