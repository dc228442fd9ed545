// The feature reader of Weka ARFF files (arff:): numeric attributes are features, one nominal
// (or the named) attribute the labels.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "features_util.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/strings.hpp"

namespace flowood::data {
namespace {

using namespace features_detail;

struct ArffAttribute {
  std::string name;
  bool nominal = false;
  std::vector<std::string> values;
};

/// Splits "'a b' {x,y}" style text: the first token (quoted or not) and the rest.
std::pair<std::string, std::string> first_token(const std::string& s) {
  const std::string t = trim(s);
  if (t.empty()) return {};
  if (t[0] == '\'' || t[0] == '"') {
    const auto end = t.find(t[0], 1);
    if (end == std::string::npos) return {t.substr(1), {}};
    return {t.substr(1, end - 1), trim(t.substr(end + 1))};
  }
  const auto end = t.find_first_of(" \t{");
  if (end == std::string::npos) return {t, {}};
  return {t.substr(0, end), trim(t.substr(end))};
}

std::string unquote(const std::string& s) {
  const std::string t = trim(s);
  if (t.size() >= 2 && (t.front() == '\'' || t.front() == '"') && t.back() == t.front()) return t.substr(1, t.size() - 2);
  return t;
}

}  // namespace

using namespace features_detail;

FeatureDataset read_arff_features(const std::string& path, const std::string& label_attribute, int64_t limit) {
  std::ifstream in(path);
  if (!in) throw DataError(path, std::string("cannot open: ") + std::strerror(errno));
  std::vector<ArffAttribute> attributes;
  std::vector<TextRow> rows;
  bool in_data = false;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string t = trim(line);
    if (t.empty() || t[0] == '%') continue;
    if (!in_data) {
      if (t[0] != '@') throw DataError(path, fmt::format("line {}: expected @relation, @attribute or @data, got \"{}\"", number, t));
      const auto [keyword, rest] = first_token(t);
      const std::string k = lower(keyword);
      if (k == "@relation") continue;
      if (k == "@data") {
        in_data = true;
        continue;
      }
      if (k != "@attribute") throw DataError(path, fmt::format("line {}: unknown declaration {}", number, keyword));
      const auto [name, type] = first_token(rest);
      ArffAttribute a;
      a.name = name;
      if (!type.empty() && type[0] == '{') {
        const auto close = type.rfind('}');
        if (close == std::string::npos) throw DataError(path, fmt::format("line {}: unterminated nominal list", number));
        a.nominal = true;
        for (const auto& v : split_fields(type.substr(1, close - 1), ',')) a.values.push_back(unquote(v));
      } else {
        const std::string ty = lower(trim(type));
        if (ty != "numeric" && ty != "real" && ty != "integer") {
          throw DataError(path, fmt::format("line {}: attribute {} has type {}; only numeric, real, integer and "
                                            "nominal {{…}} attributes are supported",
                                            number, name, type.empty() ? "(none)" : type));
        }
      }
      attributes.push_back(std::move(a));
      continue;
    }
    if (t[0] == '{') throw DataError(path, fmt::format("line {}: sparse ARFF rows are not supported", number));
    TextRow row{number, split_fields(t, ',')};
    for (auto& f : row.fields) f = unquote(f);
    rows.push_back(std::move(row));
  }
  if (!in_data) throw DataError(path, "no @data section (not an ARFF file?)");
  if (attributes.empty()) throw DataError(path, "no @attribute declarations");
  if (rows.empty()) throw DataError(path, "no data rows after @data");

  int label = -1;
  if (label_attribute.empty()) {
    if (attributes.back().nominal) label = static_cast<int>(attributes.size()) - 1;
  } else if (label_attribute != "none") {
    for (std::size_t j = 0; j < attributes.size(); ++j) {
      if (attributes[j].name == label_attribute) label = static_cast<int>(j);
    }
    if (label < 0) {
      std::vector<std::string> names;
      for (const auto& a : attributes) names.push_back(a.name);
      throw DataError(path, fmt::format("no attribute \"{}\" for the labels; attributes: {}", label_attribute,
                                        fmt::join(names, ", ")));
    }
  }
  const std::size_t width = attributes.size();
  const int64_t n = kept_rows(static_cast<int64_t>(rows.size()), limit);
  const int64_t d = static_cast<int64_t>(width) - (label >= 0 ? 1 : 0);
  if (d < 1) throw DataError(path, "no feature attributes (only the label)");
  FeatureDataset ds;
  ds.features = torch::empty({n, d}, torch::kFloat32);
  std::vector<int64_t> labels;
  float* out = ds.features.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    const TextRow& row = rows[static_cast<std::size_t>(i)];
    if (row.fields.size() != width) {
      throw DataError(path, fmt::format("line {}: {} values, expected {} (one per @attribute)", row.line,
                                        row.fields.size(), width));
    }
    int64_t k = 0;
    for (std::size_t j = 0; j < width; ++j) {
      const std::string& f = row.fields[j];
      const ArffAttribute& a = attributes[j];
      if (f == "?") throw DataError(path, fmt::format("line {}: missing value ('?') for attribute {}", row.line, a.name));
      double v = 0;
      if (a.nominal) {
        const auto it = std::find(a.values.begin(), a.values.end(), f);
        if (it == a.values.end()) {
          throw DataError(path, fmt::format("line {}: \"{}\" is not a value of nominal attribute {} ({{{}}})", row.line,
                                            f, a.name, fmt::join(a.values, ",")));
        }
        v = static_cast<double>(it - a.values.begin());
      } else if (!parse_number(f, &v)) {
        throw DataError(path, fmt::format("line {}: attribute {}: expected a number, found \"{}\"", row.line, a.name, f));
      }
      if (static_cast<int>(j) == label) {
        if (!a.nominal && !is_integer_value(v)) {
          throw DataError(path, fmt::format("line {}: label attribute {} has non-integer value {}", row.line, a.name, f));
        }
        labels.push_back(static_cast<int64_t>(v));
      } else {
        out[i * d + k++] = static_cast<float>(v);
      }
    }
  }
  for (std::size_t j = 0; j < width; ++j) {
    if (static_cast<int>(j) != label) ds.feature_names.push_back(attributes[j].name);
  }
  if (label >= 0) {
    ds.labels = torch::tensor(labels, torch::kInt64);
    if (attributes[static_cast<std::size_t>(label)].nominal) ds.class_names = attributes[static_cast<std::size_t>(label)].values;
  }
  ds.files = {path};
  return ds;
}

}  // namespace flowood::data
