#pragma once
/// Dataset specs: the strings users write to name a dataset ("fashion-mnist:train", "idx:PATH",
/// "folder:PATH?gray&size=28", "noise:uniform?shape=3x32x32&n=2000").
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace flowood::data {

/// A parsed dataset spec. Two shapes, both optionally followed by `?OPTIONS`:
///   NAME[:SPLIT]  a named dataset found under the data roots (split defaults per dataset, "test"),
///                 or a generated one (noise:uniform, constant)
///   KIND:PATH     a dataset read from a path (idx, folder, npy, npz, csv, arff)
/// OPTIONS is `key=value` or `flag` items joined by '&' (`?gray&size=28`).
struct DatasetSpec {
  std::string name;   ///< the dataset kind, the factory key: "fashion-mnist", "mnist", "idx", "folder"
  std::string split;  ///< "train" / "test" for named datasets; empty for path kinds and kinds without splits
  std::string path;   ///< the file or directory for path kinds; empty for named datasets
  /// Options in the order written; a flag has an empty value. Keys are lowercase and unique.
  std::vector<std::pair<std::string, std::string>> options = {};

  /// Canonical text, which parses back to this spec: "fashion-mnist:test" (split always written),
  /// "idx:PATH", "folder:PATH?gray&size=28" (options as written, keys lowercased), "npz:PATH#NAME"
  /// (the array as #NAME unless it holds a '/'); a path holding '?' gets a trailing '?' when there
  /// are no options.
  std::string to_string() const;
  /// True when option `key` was given (with or without a value).
  bool has_option(const std::string& key) const;
  /// The value of option `key`, if given.
  std::optional<std::string> option(const std::string& key) const;

  bool operator==(const DatasetSpec& other) const {
    return name == other.name && split == other.split && path == other.path && options == other.options;
  }
};

/// Parses a spec. Names, splits and option keys are case-insensitive; paths and option values are
/// kept verbatim. For path kinds the options start at the *last* '?' (a path that itself contains
/// '?' is written with a trailing '?'); `npz:PATH#NAME` is short for `npz:PATH?array=NAME`.
/// Throws DataError(spec) for an empty spec, an unknown dataset (the message lists the valid ones),
/// an unknown split (lists the dataset's splits), a path kind without a path, an unknown option
/// (lists the kind's options), a repeated option, a flag given a value or an option missing one.
DatasetSpec parse_dataset_spec(const std::string& spec);

/// Typed option values; each throws DataError(spec) naming the option, what was expected and what
/// was found.
/// An integer option in [min, max]; `fallback` when absent.
int64_t spec_int_option(const DatasetSpec& spec, const std::string& key, int64_t fallback, int64_t min,
                        int64_t max);
/// A real option in [min, max]; `fallback` when absent.
double spec_double_option(const DatasetSpec& spec, const std::string& key, double fallback, double min,
                          double max);
/// A size "S" (square, {S, S}) or "HxW" ({H, W}), each side 1..65536; nullopt when absent.
std::optional<std::pair<int64_t, int64_t>> spec_size_option(const DatasetSpec& spec, const std::string& key);
/// A shape "CxHxW" with C in {1, 3} and H, W in 1..4096; `fallback` when absent.
std::vector<int64_t> spec_shape_option(const DatasetSpec& spec, const std::string& key,
                                       std::vector<int64_t> fallback);

}  // namespace flowood::data
