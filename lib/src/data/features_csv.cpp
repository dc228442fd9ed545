// The feature reader of delimited text tables (csv:): delimiter, header and label column found
// or given, every other column a number.
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

using namespace features_detail;

FeatureDataset read_csv_features(const std::string& path, const CsvOptions& options, int64_t limit) {
  std::ifstream in(path);
  if (!in) throw DataError(path, std::string("cannot open: ") + std::strerror(errno));
  std::vector<TextRow> rows;
  std::string line;
  int64_t number = 0;
  char delim = options.delimiter;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (delim == 0) {
      delim = t.find(',') != std::string::npos   ? ','
              : t.find(';') != std::string::npos ? ';'
              : t.find('\t') != std::string::npos ? '\t'
                                                  : ' ';
    }
    rows.push_back({number, split_fields(line, delim)});
  }
  if (rows.empty()) throw DataError(path, "no rows (empty file)");
  bool header = options.header == 1;
  if (options.header < 0) {
    // A header row has text where the next row has numbers.
    const auto& r0 = rows[0].fields;
    double v = 0;
    if (rows.size() == 1) {
      header = std::none_of(r0.begin(), r0.end(), [&](const std::string& f) { return parse_number(f, &v); });
    } else {
      const auto& r1 = rows[1].fields;
      for (std::size_t j = 0; j < std::min(r0.size(), r1.size()) && !header; ++j) {
        header = !parse_number(r0[j], &v) && parse_number(r1[j], &v);
      }
    }
  }
  std::vector<std::string> names;
  if (header) {
    names = rows.front().fields;
    rows.erase(rows.begin());
    if (rows.empty()) throw DataError(path, "only a header line, no data rows");
  }
  const std::size_t width = header ? names.size() : rows.front().fields.size();
  for (const auto& r : rows) {
    if (r.fields.size() != width) {
      throw DataError(path, fmt::format("line {}: {} fields, expected {} (as on line {}); ragged table", r.line,
                                        r.fields.size(), width, header ? rows.front().line - 1 : rows.front().line));
    }
  }
  int label = -1;
  if (!options.label_column.empty()) {
    const std::string& c = options.label_column;
    double v = 0;
    if (c == "first") {
      label = 0;
    } else if (c == "last") {
      label = static_cast<int>(width) - 1;
    } else if (const auto it = std::find(names.begin(), names.end(), c); it != names.end()) {
      label = static_cast<int>(it - names.begin());
    } else if (parse_number(c, &v) && is_integer_value(v) && v >= 0 && v < static_cast<double>(width)) {
      label = static_cast<int>(v);
    } else {
      throw DataError(path, fmt::format("no label column \"{}\" (give a header name{}, a 0-based index below {}, "
                                        "first or last)",
                                        c, names.empty() ? "" : fmt::format(" among {}", fmt::join(names, ", ")),
                                        width));
    }
  }
  return table_to_features(path, rows, names, label, limit);
}

}  // namespace flowood::data
