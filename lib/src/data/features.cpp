#include "features_util.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/core/strings.hpp"

namespace flowood::data::features_detail {

std::string shape_text(const std::vector<int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

/// A whole-string, finite number.
bool parse_number(const std::string& text, double* out) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

bool is_integer_value(double v) { return std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.0e15; }

int64_t kept_rows(int64_t n, int64_t limit) { return limit > 0 ? std::min(n, limit) : n; }

/// Labels from text values: integers stay; anything else becomes its index in sorted order.
torch::Tensor labels_from_text(const std::vector<std::string>& values, std::vector<std::string>* class_names) {
  std::vector<int64_t> out(values.size());
  bool all_int = true;
  for (std::size_t i = 0; i < values.size() && all_int; ++i) {
    double v = 0;
    all_int = parse_number(values[i], &v) && is_integer_value(v);
    if (all_int) out[i] = static_cast<int64_t>(v);
  }
  if (!all_int) {
    const std::set<std::string> unique(values.begin(), values.end());
    class_names->assign(unique.begin(), unique.end());
    for (std::size_t i = 0; i < values.size(); ++i) {
      out[i] = std::lower_bound(class_names->begin(), class_names->end(), values[i]) - class_names->begin();
    }
  }
  return torch::tensor(out, torch::kInt64);
}

torch::Tensor features_2d(torch::Tensor t, const std::string& name, int64_t limit) {
  if (t.dim() != 2) {
    throw DataError(name, fmt::format("expected a 2-D array [N, D] of features, found shape {}",
                                      shape_text(std::vector<int64_t>(t.sizes().begin(), t.sizes().end()))));
  }
  if (t.scalar_type() == torch::kBool) t = t.to(torch::kUInt8);
  t = t.narrow(0, 0, kept_rows(t.size(0), limit)).to(torch::kFloat32).contiguous();
  if (t.numel() > 0 && !torch::isfinite(t).all().item<bool>()) {
    const auto bad = (~torch::isfinite(t)).nonzero()[0];
    throw DataError(name, fmt::format("non-finite value (NaN or inf) at row {}, column {}", bad[0].item<int64_t>(),
                                      bad[1].item<int64_t>()));
  }
  return t;
}

torch::Tensor labels_1d(torch::Tensor t, const std::string& name, int64_t expected_rows, int64_t limit) {
  if (t.dim() == 2 && t.size(1) == 1) t = t.view({-1});
  if (t.dim() != 1 || t.size(0) != expected_rows) {
    throw DataError(name, fmt::format("expected labels [{}] (one per row), found shape {}", expected_rows,
                                      shape_text(std::vector<int64_t>(t.sizes().begin(), t.sizes().end()))));
  }
  if (t.is_floating_point()) {
    const auto whole = (t == t.floor()).all().item<bool>();
    if (!whole) throw DataError(name, "labels must be whole numbers");
  }
  return t.narrow(0, 0, kept_rows(t.size(0), limit)).to(torch::kInt64).contiguous();
}

std::vector<std::string> split_fields(const std::string& line, char delim) {
  std::vector<std::string> out;
  if (delim == ' ') {
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i >= line.size()) break;
      std::size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
      out.push_back(line.substr(i, j - i));
      i = j;
    }
    return out;
  }
  std::string field;
  bool quoted = false, was_quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"' && trim(field).empty()) {
      quoted = was_quoted = true;
      field.clear();
    } else if (c == delim) {
      out.push_back(was_quoted ? field : trim(field));
      field.clear();
      was_quoted = false;
    } else {
      field += c;
    }
  }
  out.push_back(was_quoted ? field : trim(field));
  return out;
}

/// Converts rows of fields to features (all columns but `label`) and labels.
FeatureDataset table_to_features(const std::string& path, const std::vector<TextRow>& rows,
                                 const std::vector<std::string>& names, int label, int64_t limit) {
  const int64_t n = kept_rows(static_cast<int64_t>(rows.size()), limit);
  const auto width = static_cast<int64_t>(rows.empty() ? names.size() : rows.front().fields.size());
  const int64_t d = width - (label >= 0 ? 1 : 0);
  if (d < 1) throw DataError(path, "no feature columns (only the label column)");
  FeatureDataset ds;
  ds.features = torch::empty({n, d}, torch::kFloat32);
  float* out = ds.features.data_ptr<float>();
  std::vector<std::string> label_values;
  for (int64_t i = 0; i < n; ++i) {
    const TextRow& row = rows[static_cast<std::size_t>(i)];
    int64_t k = 0;
    for (int64_t j = 0; j < width; ++j) {
      const std::string& f = row.fields[static_cast<std::size_t>(j)];
      if (j == label) {
        label_values.push_back(f);
        continue;
      }
      double v = 0;
      if (!parse_number(f, &v)) {
        const std::string col = names.empty() ? fmt::format("column {}", j + 1)
                                              : fmt::format("column {} ({})", j + 1, names[static_cast<std::size_t>(j)]);
        throw DataError(path, fmt::format("line {}, {}: expected a number, found \"{}\"{}", row.line, col, f,
                                          f.empty() ? " (missing value)" : ""));
      }
      out[i * d + k++] = static_cast<float>(v);
    }
  }
  if (label >= 0) ds.labels = labels_from_text(label_values, &ds.class_names);
  for (int64_t j = 0; j < static_cast<int64_t>(names.size()); ++j) {
    if (j != label) ds.feature_names.push_back(names[static_cast<std::size_t>(j)]);
  }
  ds.files = {path};
  return ds;
}

}  // namespace flowood::data::features_detail
