#include "flowood/core/strings.hpp"
#include "flowood/io/csv.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <system_error>

#include "flowood/core/error.hpp"
#include "flowood/io/atomic_file.hpp"

namespace flowood::io {
namespace {

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

void append_cell(std::string& out, double v) {
  if (std::isnan(v)) return;  // empty cell
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof(buf), v);  // "inf" / "-inf" for infinities
  out.append(buf, res.ptr);
}

std::vector<std::string> split_commas(const std::string& line) {
  std::vector<std::string> cells;
  std::size_t start = 0;
  while (true) {
    const auto comma = line.find(',', start);
    cells.push_back(trim(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return cells;
}

bool parse_double(const std::string& cell, double& out) {
  if (cell.empty()) {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  const char* first = cell.data();
  const char* last = cell.data() + cell.size();
  if (*first == '+') ++first;  // from_chars rejects a leading '+'
  // Accept the spellings other tools write for missing values.
  if (cell == "NA" || cell == "NaN" || cell == "nan") {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  const auto res = std::from_chars(first, last, out);
  if (res.ptr != last) return false;
  if (res.ec == std::errc::result_out_of_range) {
    // from_chars leaves `out` unchanged on overflow/underflow; strtod gives ±inf or 0 as expected.
    out = std::strtod(cell.c_str(), nullptr);
    return true;
  }
  return res.ec == std::errc();
}

void check_name(const std::string& name, const std::string& what, const std::string& key) {
  if (name.empty()) throw ConfigError(key, what + " is empty");
  if (name.find_first_of(",\n\r") != std::string::npos)
    throw ConfigError(key, what + " '" + name + "' contains a comma or newline");
}

}  // namespace

bool CsvTable::has_column(const std::string& name) const {
  for (const auto& c : columns)
    if (c == name) return true;
  return false;
}

void CsvTable::add_column(const std::string& name, std::vector<double> values) {
  check_name(name, "column name", name);
  if (has_column(name)) throw ConfigError(name, "duplicate column name");
  if (!data.empty() && values.size() != num_rows())
    throw ConfigError(name, "column has " + std::to_string(values.size()) + " rows, the table has " +
                                std::to_string(num_rows()));
  columns.push_back(name);
  data.push_back(std::move(values));
}

const std::vector<double>& CsvTable::column(const std::string& name) const {
  for (std::size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return data.at(i);
  throw IoError(source, "no column '" + name + "' (available: " + join(columns) + ")");
}

const std::string& CsvTable::meta_at(const std::string& key) const {
  const auto it = meta.find(key);
  if (it == meta.end()) {
    std::vector<std::string> keys;
    for (const auto& kv : meta) keys.push_back(kv.first);
    throw IoError(source, "no metadata '# " + key + "=...' line (present: " + join(keys) + ")");
  }
  return it->second;
}

void write_csv(const std::string& path, const CsvTable& table) {
  if (table.columns.size() != table.data.size())
    throw IoError(path, "table has " + std::to_string(table.columns.size()) + " column names but " +
                            std::to_string(table.data.size()) + " columns of data");
  if (table.columns.empty()) throw IoError(path, "table has no columns");
  const std::size_t rows = table.num_rows();
  for (std::size_t c = 0; c < table.columns.size(); ++c) {
    try {
      check_name(table.columns[c], "column name", table.columns[c]);
    } catch (const ConfigError& e) {
      throw IoError(path, e.what());
    }
    if (table.data[c].size() != rows)
      throw IoError(path, "column '" + table.columns[c] + "' has " + std::to_string(table.data[c].size()) +
                              " rows, column '" + table.columns[0] + "' has " + std::to_string(rows));
  }
  std::string out;
  out.reserve(64 + rows * table.columns.size() * 12);
  for (const auto& [key, value] : table.meta) {
    if (key.empty() || key.find_first_of("=\n\r") != std::string::npos)
      throw IoError(path, "metadata key '" + key + "' is empty or contains '=' or a newline");
    if (value.find_first_of("\n\r") != std::string::npos)
      throw IoError(path, "metadata value of '" + key + "' contains a newline");
    out += "# " + key + "=" + value + "\n";
  }
  for (std::size_t c = 0; c < table.columns.size(); ++c) out += (c ? "," : "") + table.columns[c];
  out += '\n';
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
      if (c) out += ',';
      append_cell(out, table.data[c][r]);
    }
    out += '\n';
  }
  write_file_atomic(path, out);
}

CsvTable read_csv(const std::string& path) {
  const std::string text = read_file(path);
  CsvTable table;
  table.source = path;
  std::istringstream in(text);
  std::string line;
  std::size_t line_no = 0;
  bool have_header = false;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string where = path + ":" + std::to_string(line_no);
    if (trim(line).empty()) continue;
    if (!have_header && line[0] == '#') {
      std::string body = line.substr(1);
      if (!body.empty() && body[0] == ' ') body.erase(0, 1);
      const auto eq = body.find('=');
      if (eq != std::string::npos) table.meta[trim(body.substr(0, eq))] = body.substr(eq + 1);
      continue;  // a comment without '=' is free text
    }
    if (!have_header) {
      table.columns = split_commas(line);
      for (std::size_t c = 0; c < table.columns.size(); ++c) {
        if (table.columns[c].empty())
          throw IoError(where, "header cell " + std::to_string(c + 1) + " is empty");
        for (std::size_t d = 0; d < c; ++d)
          if (table.columns[d] == table.columns[c])
            throw IoError(where, "duplicate column '" + table.columns[c] + "' in header");
      }
      table.data.assign(table.columns.size(), {});
      have_header = true;
      continue;
    }
    const auto cells = split_commas(line);
    if (cells.size() != table.columns.size())
      throw IoError(where, "row has " + std::to_string(cells.size()) + " cells, the header has " +
                               std::to_string(table.columns.size()));
    for (std::size_t c = 0; c < cells.size(); ++c) {
      double v = 0.0;
      if (!parse_double(cells[c], v))
        throw IoError(where, "column '" + table.columns[c] + "': cannot parse '" + cells[c] + "' as a number");
      table.data[c].push_back(v);
    }
  }
  if (!have_header) throw IoError(path, "no header row (file is empty or holds only comments)");
  return table;
}

CsvTable make_loglik_score_table(const std::vector<double>& loglik, const std::vector<double>& bpd,
                                 const std::vector<double>& labels,
                                 std::map<std::string, std::string> meta) {
  const std::size_t n = loglik.size();
  if (bpd.size() != n)
    throw ConfigError(kScoreBpdColumn, "has " + std::to_string(bpd.size()) + " values, loglik has " + std::to_string(n));
  if (!labels.empty() && labels.size() != n)
    throw ConfigError(kScoreLabelColumn,
                      "has " + std::to_string(labels.size()) + " values, loglik has " + std::to_string(n));
  CsvTable table;
  table.meta = std::move(meta);
  std::vector<double> index(n);
  for (std::size_t i = 0; i < n; ++i) index[i] = static_cast<double>(i);
  table.add_column(kScoreIndexColumn, std::move(index));
  table.add_column(kScoreLabelColumn,
                   labels.empty() ? std::vector<double>(n, std::numeric_limits<double>::quiet_NaN()) : labels);
  table.add_column(kScoreLoglikColumn, loglik);
  table.add_column(kScoreBpdColumn, bpd);
  return table;
}

bool score_higher_is_in(const CsvTable& table) {
  const std::string& v = table.meta_at("higher_is_in");
  if (v == "true") return true;
  if (v == "false") return false;
  throw IoError(table.source, "metadata higher_is_in must be true or false (got '" + v + "')");
}

void write_score_csv(const std::string& path, const CsvTable& table) {
  for (const char* key : {"dataset", "score", "higher_is_in", "model"})
    if (table.meta.find(key) == table.meta.end())
      throw IoError(path, std::string("score file needs metadata '") + key + "'");
  const std::string& hi = table.meta.at("higher_is_in");
  if (hi != "true" && hi != "false")
    throw IoError(path, "metadata higher_is_in must be true or false (got '" + hi + "')");
  write_csv(path, table);
}

CsvTable read_score_csv(const std::string& path) {
  CsvTable table = read_csv(path);
  table.meta_at("score");
  score_higher_is_in(table);
  return table;
}

bool score_column_higher_is_in(const CsvTable& table, const std::string& column) {
  if (column == kScoreLoglikColumn) return true;
  if (column == kScoreBpdColumn) return false;
  return score_higher_is_in(table);
}

}  // namespace flowood::io
