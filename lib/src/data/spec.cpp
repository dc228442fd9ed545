#include "flowood/data/spec.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/data/registry.hpp"

namespace flowood::data {
namespace {

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::string DatasetSpec::to_string() const {
  if (!path.empty()) return name + ":" + path;
  return split.empty() ? name : name + ":" + split;
}

DatasetSpec parse_dataset_spec(const std::string& text) {
  const std::string spec = trim(text);
  if (spec.empty()) {
    throw DataError("", "empty dataset spec; expected one of: " + dataset_spec_syntax());
  }
  const auto colon = spec.find(':');
  const std::string name = lower(spec.substr(0, colon));
  const std::string rest = colon == std::string::npos ? std::string() : spec.substr(colon + 1);

  const DatasetKind* kind = find_dataset_kind(name);
  if (kind == nullptr) {
    std::string hint;
    if (name.find('/') != std::string::npos || name.find('.') != std::string::npos) {
      hint = "; to read a file write KIND:PATH, e.g. idx:" + spec;
    }
    throw DataError(spec, fmt::format("unknown dataset \"{}\"; valid: {}{}", name, dataset_spec_syntax(), hint));
  }

  DatasetSpec out;
  out.name = kind->name;
  if (kind->takes_path) {
    if (rest.empty()) {
      throw DataError(spec, fmt::format("\"{}\" needs a path: {}:PATH", kind->name, kind->name));
    }
    out.path = rest;
    return out;
  }
  if (colon != std::string::npos && rest.find(':') != std::string::npos) {
    throw DataError(spec, fmt::format("too many ':' in dataset spec; expected {}[:SPLIT]", kind->name));
  }
  const std::string split = colon == std::string::npos ? kind->default_split : lower(trim(rest));
  if (std::find(kind->splits.begin(), kind->splits.end(), split) == kind->splits.end()) {
    throw DataError(spec, fmt::format("unknown split \"{}\" for {}; valid: {}", split, kind->name,
                                      fmt::join(kind->splits, ", ")));
  }
  out.split = split;
  return out;
}

}  // namespace flowood::data
