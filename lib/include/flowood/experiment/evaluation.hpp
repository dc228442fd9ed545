#pragma once
/// OOD metrics of every score method: one evaluation per (method, OOD set) with bootstrap
/// confidence intervals, the typicality test's group decisions, ROC/PR curves and the table run prints.
#include <optional>
#include <string>
#include <vector>

#include "flowood/io/csv.hpp"
#include "flowood/io/json_file.hpp"
#include "flowood/ood/curves.hpp"
#include "flowood/ood/metrics.hpp"

namespace flowood::experiment {

/// One method's score tables: tables[0] the in-distribution test set, the rest the OOD sets.
struct MethodResults {
  std::string method;
  std::vector<io::CsvTable> tables;
  std::vector<std::string> files;  ///< where each table is (for the JSON)
};

/// The typicality test's decisions at its bootstrap threshold.
struct GroupDecisions {
  double threshold = 0;     ///< ε̂ above which a batch is called OOD (nats)
  double accepted_in = 0;   ///< fraction of in-distribution batches accepted
  double rejected_out = 0;  ///< fraction of OOD batches rejected (detection rate)
  double accuracy = 0;      ///< correct decisions over all batches
};

struct Evaluation {
  std::string method;
  std::string dataset;       ///< the OOD set
  std::string file;          ///< its score file
  bool per_batch = false;    ///< metrics over batches of M (typicality), not examples
  ood::OodMetrics metrics;
  std::optional<ood::MetricIntervals> ci;
  std::optional<GroupDecisions> groups;
  /// metrics.json entry: {"method", "dataset", "scores", <OodMetrics>, "ci": …, "typicality": …}.
  io::Json to_json() const;
};

/// Metrics of every method on every OOD set, with `bootstrap` resamples for the 95 % intervals
/// (0 = none), seeded by `seed`.
std::vector<Evaluation> evaluate_methods(const std::vector<MethodResults>& methods, int64_t bootstrap, uint64_t seed);

/// ROC and precision–recall curves: for every OOD set, roc.<set>.png and pr.<set>.png with one
/// curve per method, and <method>.<set>.roc.csv / .pr.csv with the points, under `dir`.
void write_curves(const std::string& dir, const std::vector<MethodResults>& methods);

/// An aligned table, one row per (OOD set, method): AUROC with its interval, AUPR-in, AUPR-out,
/// FPR95 both ways, detection error.
std::string format_evaluation_table(const std::vector<Evaluation>& evaluations);

}  // namespace flowood::experiment
