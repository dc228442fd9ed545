#pragma once
/// Numeric CSV tables with `# key=value` metadata, used for score files and binned histograms.
///
/// File layout (decided for score files):
///
///     # dataset=mnist:test
///     # score=loglik
///     # higher_is_in=true
///     # model=runs/fashion
///     index,label,loglik,bpd
///     0,7,-2301.5,2.11
///     1,,-2250.25,2.07        <- empty cell = unknown (NaN)
///
/// Cells are numbers written in the shortest form that round-trips a double (integers print
/// without a decimal point); NaN is written as an empty cell and read back as NaN. No quoting:
/// column names and metadata must not contain commas, newlines or (keys) '='.
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace flowood::io {

/// A column-major numeric table plus its metadata.
struct CsvTable {
  /// `# key=value` lines written before the header, in key order.
  std::map<std::string, std::string> meta;
  /// Column names, in file order.
  std::vector<std::string> columns;
  /// data[c][r]: column c, row r. Every column has the same length.
  std::vector<std::vector<double>> data;
  /// The file the table was read from (set by read_csv; names the file in errors).
  std::string source;

  /// Number of rows (0 for a table without columns).
  std::size_t num_rows() const noexcept { return data.empty() ? 0 : data.front().size(); }
  /// True when a column of that name exists.
  bool has_column(const std::string& name) const;
  /// Appends a column. ConfigError(name) when the name is empty, duplicated or contains a comma
  /// or newline, or when its length differs from the existing columns.
  void add_column(const std::string& name, std::vector<double> values);
  /// The named column. IoError(source) naming the missing column and listing the available ones.
  const std::vector<double>& column(const std::string& name) const;
  /// The metadata value for `key`. IoError(source) naming the missing key.
  const std::string& meta_at(const std::string& key) const;
};

/// Score files use the same table type.
using ScoreTable = CsvTable;

/// Writes `table` to `path` atomically. IoError(path) when the table is malformed (ragged
/// columns, bad names or metadata) or the file cannot be written.
void write_csv(const std::string& path, const CsvTable& table);

/// Reads a table written by write_csv (or by hand: CRLF line ends, blank lines and comment lines
/// without '=' are tolerated). IoError "path:line: ..." when a row has the wrong number of cells
/// or a cell is not a number (the message names the column and the cell).
CsvTable read_csv(const std::string& path);

/// Column names of the log-likelihood score file.
inline constexpr const char* kScoreIndexColumn = "index";
inline constexpr const char* kScoreLabelColumn = "label";
inline constexpr const char* kScoreLoglikColumn = "loglik";
inline constexpr const char* kScoreBpdColumn = "bpd";

/// Builds a log-likelihood score table (columns index,label,loglik,bpd). `loglik` in nats,
/// `bpd` in bits/dim, `labels` may be empty (all unknown) or hold NaN for unknown labels.
/// `meta` should hold at least dataset, score, higher_is_in and model (see write_score_csv).
/// ConfigError when the vectors differ in length.
CsvTable make_loglik_score_table(const std::vector<double>& loglik, const std::vector<double>& bpd,
                                 const std::vector<double>& labels,
                                 std::map<std::string, std::string> meta);

/// Writes a score file: like write_csv, but IoError(path) unless meta has `dataset`, `score`,
/// `higher_is_in` (true|false) and `model`.
void write_score_csv(const std::string& path, const CsvTable& table);

/// Reads a score file: like read_csv, but IoError(path) unless meta has `score` and a valid
/// `higher_is_in` (true|false).
CsvTable read_score_csv(const std::string& path);

/// The table's `higher_is_in` metadata as a bool. IoError(source) when missing or not true|false.
bool score_higher_is_in(const CsvTable& table);

/// Orientation of one column of a score file: loglik is higher-is-in-distribution and bpd
/// lower-is, whatever the file says; any other column follows the file's higher_is_in metadata.
bool score_column_higher_is_in(const CsvTable& table, const std::string& column);

}  // namespace flowood::io
