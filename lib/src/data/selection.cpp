#include "flowood/data/selection.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/core/rng.hpp"

namespace flowood::data {
namespace {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, end - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    items.push_back(item);
    start = end + 1;
  }
  return items;
}

bool parse_label(const std::string& text, int64_t* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (end != text.c_str() + text.size()) return false;
  *out = v;
  return true;
}

/// The label values named by the classes option.
std::set<int64_t> wanted_labels(const DatasetSpec& spec, const std::string& text,
                                const std::vector<std::string>& class_names) {
  std::set<int64_t> wanted;
  for (const auto& item : split_list(text)) {
    if (item.empty()) throw DataError(spec.to_string(), fmt::format("option classes={}: empty class in the list", text));
    const auto named = std::find(class_names.begin(), class_names.end(), item);
    int64_t value = 0;
    if (named != class_names.end()) {
      wanted.insert(named - class_names.begin());
    } else if (parse_label(item, &value)) {
      wanted.insert(value);
    } else {
      throw DataError(spec.to_string(),
                      class_names.empty()
                          ? fmt::format("option classes={}: '{}' is not a label value (this dataset's labels are integers)",
                                        text, item)
                          : fmt::format("option classes={}: unknown class '{}' (classes: {})", text, item,
                                        fmt::join(class_names, ", ")));
    }
  }
  return wanted;
}

}  // namespace

bool has_selection(const DatasetSpec& spec) {
  return std::any_of(kSelectionOptionKeys.begin(), kSelectionOptionKeys.end(),
                     [&](const std::string& key) { return spec.has_option(key); });
}

torch::Tensor select_examples(const DatasetSpec& spec, int64_t n, const torch::Tensor& labels,
                              const std::vector<std::string>& class_names) {
  const std::string text = spec.to_string();
  auto keep = torch::arange(n, torch::kLong);
  if (const auto classes = spec.option("classes")) {
    if (!labels.defined()) throw DataError(text, "option classes= needs labels, and this dataset has none");
    const auto wanted = wanted_labels(spec, *classes, class_names);
    const auto l = labels.to(torch::kLong).contiguous();
    const int64_t* lp = l.data_ptr<int64_t>();
    std::vector<int64_t> idx;
    std::set<int64_t> seen;
    for (int64_t i = 0; i < n; ++i) {
      if (wanted.count(lp[i])) {
        idx.push_back(i);
        seen.insert(lp[i]);
      }
    }
    for (int64_t w : wanted) {
      if (!seen.count(w)) {
        const std::string name = w >= 0 && w < static_cast<int64_t>(class_names.size())
                                     ? fmt::format("{} ('{}')", w, class_names[static_cast<std::size_t>(w)])
                                     : std::to_string(w);
        throw DataError(text, fmt::format("option classes={}: no example has label {}", *classes, name));
      }
    }
    keep = torch::tensor(idx, torch::kLong);
  }
  const bool split = spec.has_option("part") || spec.has_option("holdout") || spec.has_option("part_seed");
  if (split) {
    const auto part = spec.option("part");
    if (!part || (*part != "train" && *part != "test"))
      throw DataError(text, fmt::format("option part={}: expected train or test (holdout and part_seed need part)",
                                        part.value_or("")));
    const double holdout = spec_double_option(spec, "holdout", 0.1, 0.0, 1.0);
    if (holdout <= 0.0 || holdout >= 1.0)
      throw DataError(text, fmt::format("option holdout={}: expected a fraction strictly between 0 and 1", holdout));
    const auto seed = static_cast<uint64_t>(spec_int_option(spec, "part_seed", 0, 0, INT64_MAX));
    const int64_t m = keep.size(0);
    const auto n_test = static_cast<int64_t>(std::ceil(holdout * static_cast<double>(m)));
    auto gen = make_generator(seed, Stream::kDataSplit);
    const auto perm = torch::randperm(m, gen, torch::TensorOptions().dtype(torch::kLong));
    const auto chosen = *part == "test" ? perm.narrow(0, 0, n_test) : perm.narrow(0, n_test, m - n_test);
    keep = std::get<0>(torch::sort(keep.index_select(0, chosen)));
  }
  if (spec.has_option("skip")) {
    const auto skip = spec_int_option(spec, "skip", 0, 0, INT64_MAX);
    if (skip >= keep.size(0))
      throw DataError(text, fmt::format("option skip={}: only {} examples are there to skip", skip, keep.size(0)));
    keep = keep.narrow(0, skip, keep.size(0) - skip);
  }
  if (keep.size(0) == 0) throw DataError(text, "the selection (classes/part options) keeps no example");
  return keep;
}

}  // namespace flowood::data
