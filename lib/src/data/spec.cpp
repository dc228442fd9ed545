#include "flowood/core/strings.hpp"
#include "flowood/data/spec.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/data/registry.hpp"

namespace flowood::data {
namespace {

std::string options_syntax(const DatasetKind& kind) {
  std::vector<std::string> items;
  for (const auto& o : kind.options) items.push_back(o.value.empty() ? o.key : o.key + "=" + o.value);
  return items.empty() ? std::string("none") : fmt::format("{}", fmt::join(items, ", "));
}

/// Parses "a=1&flag&b=x" against the kind's declared options.
std::vector<std::pair<std::string, std::string>> parse_options(const std::string& text, const DatasetKind& kind,
                                                               const std::string& spec) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('&', start), text.size());
    const std::string item = trim(text.substr(start, end - start));
    start = end + 1;
    if (item.empty()) continue;
    const auto eq = item.find('=');
    const std::string key = lower(trim(item.substr(0, eq)));
    const std::string value = eq == std::string::npos ? std::string() : trim(item.substr(eq + 1));
    const auto info = std::find_if(kind.options.begin(), kind.options.end(),
                                   [&](const SpecOptionInfo& o) { return o.key == key; });
    if (info == kind.options.end()) {
      throw DataError(spec, fmt::format("unknown option \"{}\" for {}; valid: {}", key, kind.name, options_syntax(kind)));
    }
    if (std::any_of(out.begin(), out.end(), [&](const auto& kv) { return kv.first == key; })) {
      throw DataError(spec, fmt::format("option \"{}\" given twice", key));
    }
    if (info->value.empty() && eq != std::string::npos) {
      throw DataError(spec, fmt::format("option \"{}\" is a flag and takes no value (got \"{}\")", key, item));
    }
    if (!info->value.empty() && value.empty()) {
      throw DataError(spec, fmt::format("option \"{}\" needs a value: {}={}", key, key, info->value));
    }
    out.emplace_back(key, value);
  }
  return out;
}

[[noreturn]] void bad_option(const DatasetSpec& spec, const std::string& key, const std::string& value,
                             const std::string& expected) {
  throw DataError(spec.to_string(), fmt::format("option {}={}: expected {}", key, value, expected));
}

bool parse_int(const std::string& text, int64_t* out) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end != text.c_str() + text.size()) return false;
  *out = v;
  return true;
}

/// "28" or "28x32"; each part a positive integer.
std::vector<int64_t> parse_dims(const std::string& text) {
  std::vector<int64_t> dims;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(lower(text).find('x', start), text.size());
    int64_t v = 0;
    if (!parse_int(text.substr(start, end - start), &v)) return {};
    dims.push_back(v);
    start = end + 1;
  }
  return dims;
}

}  // namespace

std::string DatasetSpec::to_string() const {
  std::string out = !path.empty() ? name + ":" + path : (split.empty() ? name : name + ":" + split);
  auto rest = options;
  // npz's array as #NAME (which parses back whatever '#' the path holds), unless NAME holds a
  // character the #NAME form cannot carry.
  const auto array = std::find_if(rest.begin(), rest.end(), [](const auto& o) { return o.first == "array"; });
  if (name == "npz" && array != rest.end() && array->second.find_first_of("/#?&=") == std::string::npos) {
    out += "#" + array->second;
    rest.erase(array);
  }
  // Options start at the last '?': a path holding one needs a '?' after it even without options;
  // so does a path ending in white space, which parsing would trim.
  if (rest.empty() && !path.empty() &&
      (out.find('?', name.size()) != std::string::npos || std::isspace(static_cast<unsigned char>(out.back()))))
    out += '?';
  for (std::size_t i = 0; i < rest.size(); ++i) {
    out += i == 0 ? '?' : '&';
    out += rest[i].first;
    if (!rest[i].second.empty()) out += "=" + rest[i].second;
  }
  return out;
}

bool DatasetSpec::has_option(const std::string& key) const { return option(key).has_value(); }

std::optional<std::string> DatasetSpec::option(const std::string& key) const {
  for (const auto& [k, v] : options) {
    if (k == key) return v;
  }
  return std::nullopt;
}

DatasetSpec parse_dataset_spec(const std::string& text) {
  const std::string spec = trim(text);
  if (spec.empty()) {
    throw DataError("", "empty dataset spec; expected one of: " + dataset_spec_syntax());
  }
  // The name ends at the first ':' or '?'.
  const auto name_end = spec.find_first_of(":?");
  const std::string name = lower(spec.substr(0, name_end));
  const DatasetKind* kind = find_dataset_kind(name);
  if (kind == nullptr) {
    std::string hint;
    if (name.find('/') != std::string::npos || name.find('.') != std::string::npos) {
      hint = "; to read a file write KIND:PATH, e.g. idx:" + spec + " or folder:" + spec;
    }
    throw DataError(spec, fmt::format("unknown dataset \"{}\"; valid: {}{}", name, dataset_spec_syntax(), hint));
  }

  DatasetSpec out;
  out.name = kind->name;
  std::string rest = name_end == std::string::npos ? std::string() : spec.substr(name_end);
  std::string options_text;
  bool has_colon = !rest.empty() && rest.front() == ':';
  if (has_colon) rest.erase(0, 1);
  if (kind->takes_path) {
    if (!has_colon) throw DataError(spec, fmt::format("\"{}\" needs a path: {}:PATH", kind->name, kind->name));
    // Paths may contain ':' and even '?': the options start at the last '?'.
    const auto q = rest.rfind('?');
    if (q != std::string::npos) {
      options_text = rest.substr(q + 1);
      rest.erase(q);
    }
    out.options = parse_options(options_text, *kind, spec);
    if (kind->name == "npz") {
      const auto hash = rest.rfind('#');
      if (hash != std::string::npos && rest.find('/', hash) == std::string::npos) {
        const std::string array = rest.substr(hash + 1);
        rest.erase(hash);
        if (out.has_option("array")) throw DataError(spec, "array given twice (#NAME and ?array=NAME)");
        if (array.empty()) throw DataError(spec, "empty array name after '#'; write npz:PATH#NAME");
        if (array.find_first_of("?&=") != std::string::npos)
          throw DataError(spec, fmt::format("array name \"{}\" after '#' holds '?', '&' or '='", array));
        out.options.insert(out.options.begin(), {"array", array});
      }
    }
    if (rest.empty()) throw DataError(spec, fmt::format("\"{}\" needs a path: {}:PATH", kind->name, kind->name));
    out.path = rest;
    return out;
  }

  const auto q = rest.find('?');
  if (q != std::string::npos) {
    options_text = rest.substr(q + 1);
    rest.erase(q);
  }
  if (!has_colon && !rest.empty()) rest.clear();  // "name?opts": rest held only the options
  out.options = parse_options(options_text, *kind, spec);
  if (has_colon && rest.find(':') != std::string::npos) {
    throw DataError(spec, fmt::format("too many ':' in dataset spec; expected {}[:SPLIT]", kind->name));
  }
  if (kind->splits.empty()) {
    if (has_colon) {
      throw DataError(spec, fmt::format("{} takes no split (got \"{}\"); write {}[?OPTIONS]", kind->name, rest,
                                        kind->name));
    }
    return out;
  }
  const std::string split = has_colon ? lower(trim(rest)) : kind->default_split;
  if (std::find(kind->splits.begin(), kind->splits.end(), split) == kind->splits.end()) {
    throw DataError(spec, fmt::format("unknown split \"{}\" for {}; valid: {}", split, kind->name,
                                      fmt::join(kind->splits, ", ")));
  }
  out.split = split;
  return out;
}

int64_t spec_int_option(const DatasetSpec& spec, const std::string& key, int64_t fallback, int64_t min, int64_t max) {
  const auto value = spec.option(key);
  if (!value) return fallback;
  int64_t v = 0;
  if (!parse_int(*value, &v) || v < min || v > max) {
    bad_option(spec, key, *value, fmt::format("an integer in {}..{}", min, max));
  }
  return v;
}

double spec_double_option(const DatasetSpec& spec, const std::string& key, double fallback, double min, double max) {
  const auto value = spec.option(key);
  if (!value) return fallback;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(value->c_str(), &end);
  if (value->empty() || errno != 0 || end != value->c_str() + value->size() || !std::isfinite(v) || v < min ||
      v > max) {
    bad_option(spec, key, *value, fmt::format("a number in [{}, {}]", min, max));
  }
  return v;
}

std::optional<std::pair<int64_t, int64_t>> spec_size_option(const DatasetSpec& spec, const std::string& key) {
  const auto value = spec.option(key);
  if (!value) return std::nullopt;
  const auto dims = parse_dims(*value);
  const bool ok = (dims.size() == 1 || dims.size() == 2) &&
                  std::all_of(dims.begin(), dims.end(), [](int64_t d) { return d >= 1 && d <= 65536; });
  if (!ok) bad_option(spec, key, *value, "S or HxW (pixels, each 1..65536), e.g. 32 or 28x28");
  return dims.size() == 1 ? std::make_pair(dims[0], dims[0]) : std::make_pair(dims[0], dims[1]);
}

std::vector<int64_t> spec_shape_option(const DatasetSpec& spec, const std::string& key, std::vector<int64_t> fallback) {
  const auto value = spec.option(key);
  if (!value) return fallback;
  const auto dims = parse_dims(*value);
  const bool ok = dims.size() == 3 && (dims[0] == 1 || dims[0] == 3) && dims[1] >= 1 && dims[1] <= 4096 &&
                  dims[2] >= 1 && dims[2] <= 4096;
  if (!ok) bad_option(spec, key, *value, "CxHxW with C = 1 or 3 and H, W in 1..4096, e.g. 3x32x32 or 1x28x28");
  return dims;
}

}  // namespace flowood::data
