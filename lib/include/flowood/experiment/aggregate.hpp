#pragma once
/// Every run of a sweep in one table: the metric of each finished run (one column per method and
/// OOD set), mean ± sd over seeds for every other combination of the axes, and the runs that are
/// missing or failed.
#include <string>

namespace flowood::experiment {

struct Aggregate {
  std::string csv;       ///< one row per finished run: run, axis values, one column per (method, OOD set)
  std::string markdown;  ///< every run, mean ± sd over seeds, missing and failed runs
};

/// Reads DIR/sweep.json and each run's metrics.json; `metric` is a key of the metrics
/// (auroc, aupr_in, …): IoError naming a metrics.json without it.
Aggregate aggregate_sweep(const std::string& dir, const std::string& metric);

}  // namespace flowood::experiment
