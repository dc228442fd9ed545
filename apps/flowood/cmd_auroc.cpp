// flowood auroc: OOD detection metrics (AUROC, AUPR, FPR@95, detection error) of one
// in-distribution score file against one or more OOD score files.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/experiment/tables.hpp"
#include "flowood/io/atomic_file.hpp"
#include "flowood/io/csv.hpp"
#include "flowood/io/json_file.hpp"
#include "flowood/ood/curves.hpp"
#include "flowood/ood/metrics.hpp"

namespace flowood::app {
namespace {

struct AurocOptions {
  std::string in_path;
  std::vector<std::string> ood_paths;
  std::string json_path;
  std::string column;  ///< empty: the in-distribution file's `score` column when it has one, else loglik
  int64_t bootstrap = 1000;
  int64_t seed = 0;
};

struct ScoreFile {
  std::string path;
  std::string dataset;  // empty when the file has no dataset metadata
  std::string name;     // dataset, else the file name: the table row
  std::vector<double> scores;
};

ScoreFile load(const std::string& path, const std::string& column, io::CsvTable* table_out) {
  io::CsvTable table = io::read_score_csv(path);
  ScoreFile f;
  f.path = path;
  if (const auto it = table.meta.find("dataset"); it != table.meta.end()) f.dataset = it->second;
  f.name = f.dataset.empty() ? std::filesystem::path(path).filename().string() : f.dataset;
  f.scores = table.column(column);
  if (f.scores.empty()) throw DataError(path, "no score rows (column '" + column + "' is empty)");
  const auto bad = [](double v) { return !std::isfinite(v); };  // ±inf is no more a score than NaN
  if (const auto first = std::find_if(f.scores.begin(), f.scores.end(), bad); first != f.scores.end())
    throw DataError(path, fmt::format("column '{}' has {} empty, NaN or infinite value(s) of {} (first at data row {})",
                                      column, std::count_if(first, f.scores.end(), bad), f.scores.size(),
                                      first - f.scores.begin() + 1));
  *table_out = std::move(table);
  return f;
}

// The in-distribution and OOD files must describe the same kind of score the same way round.
void check_agree(const io::CsvTable& in, const io::CsvTable& ood) {
  for (const char* key : {"score", "higher_is_in"}) {
    const std::string& a = in.meta_at(key);
    const std::string& b = ood.meta_at(key);
    if (a != b)
      throw DataError(ood.source, std::string("metadata ") + key + "=" + b + " disagrees with " + key + "=" + a +
                                      " in the in-distribution file " + in.source);
  }
}

io::Json file_json(const ScoreFile& f) {
  io::Json j = io::Json::object();
  j["file"] = f.path;
  j["dataset"] = f.dataset.empty() ? io::Json() : io::Json(f.dataset);
  return j;
}

void run_auroc(const AurocOptions& o) {
  if (!o.json_path.empty()) io::check_output_path(o.json_path, "--json");

  std::string column = o.column;
  if (column.empty()) {
    const auto peek = io::read_score_csv(o.in_path);
    const auto score = peek.meta.find("score");
    column = score != peek.meta.end() && peek.has_column(score->second) ? score->second : io::kScoreLoglikColumn;
  }
  io::CsvTable in_table;
  const ScoreFile in = load(o.in_path, column, &in_table);
  const bool higher_is_in = io::score_column_higher_is_in(in_table, column);

  std::vector<ScoreFile> oods;
  std::vector<ood::OodMetrics> metrics;
  std::vector<std::optional<ood::MetricIntervals>> intervals;
  for (const auto& path : o.ood_paths) {
    io::CsvTable table;
    oods.push_back(load(path, column, &table));
    check_agree(in_table, table);
  }
  log().info("in-distribution: {} ({} scores), column '{}', {} = more in-distribution", in.name, in.scores.size(),
             column, higher_is_in ? "higher" : "lower");
  for (std::size_t i = 0; i < oods.size(); ++i) {
    metrics.push_back(ood::compute_ood_metrics(in.scores, oods[i].scores, higher_is_in));
    intervals.push_back(o.bootstrap > 0 ? std::optional(ood::bootstrap_intervals(in.scores, oods[i].scores, higher_is_in,
                                                                                  o.bootstrap, static_cast<uint64_t>(o.seed) + i))
                                        : std::nullopt);
  }

  if (!o.json_path.empty()) {
    io::Json ood = io::Json::array();
    for (std::size_t i = 0; i < oods.size(); ++i) {
      io::Json entry = file_json(oods[i]);
      entry.update(metrics[i].to_json());
      if (intervals[i]) entry["ci"] = intervals[i]->to_json();
      ood.push_back(std::move(entry));
    }
    io::Json root = io::Json::object();
    root["in"] = file_json(in);
    root["ood"] = std::move(ood);
    root["score"] = column;
    io::write_json_file(o.json_path, root);
  }
  std::vector<experiment::MetricsRow> rows;
  for (std::size_t i = 0; i < oods.size(); ++i) rows.push_back({oods[i].name, "", metrics[i], intervals[i]});
  std::cout << experiment::format_metrics_table(rows) << std::flush;
}

}  // namespace

void register_auroc(CLI::App& app) {
  auto o = std::make_shared<AurocOptions>();
  auto* cmd = app.add_subcommand("auroc",
                                 "OOD metrics (AUROC, AUPR, FPR@95%TPR, detection error) of score files: "
                                 "in-distribution vs each OOD set");
  cmd->add_option("--in", o->in_path, "Score CSV of the in-distribution test set (the positive class)")
      ->required()
      ->type_name("FILE");
  cmd->add_option("--ood", o->ood_paths, "Score CSV of an OOD set (repeatable; one table row each)")
      ->required()
      ->type_name("FILE");
  cmd->add_option("--json", o->json_path, "Also write the metrics as JSON to FILE (atomically)")->type_name("FILE");
  cmd->add_option("--bootstrap", o->bootstrap, "Resamples for 95 % bootstrap confidence intervals (0 = none)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", o->seed, "Seed of the bootstrap resamples")->check(CLI::NonNegativeNumber);
  cmd->add_option("--column", o->column,
                  "Score column (default: the file's score method, else loglik; loglik: higher = in-distribution, "
                  "bpd: lower = in-distribution, others: the files' higher_is_in metadata)")
      ->type_name("NAME");
  cmd->callback([o] { run_auroc(*o); });
}

}  // namespace flowood::app
