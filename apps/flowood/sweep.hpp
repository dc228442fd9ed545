#pragma once
// Sweeps: a grid file (a base experiment, fixed overrides and axes) expanded into resolved configs
// with stable, readable run names; the plan file sweep.json that `sweep` writes and `aggregate`
// reads; and the sbatch array script for Slurm.
#include <map>
#include <string>
#include <vector>

#include "config_yaml.hpp"

namespace flowood::app {

/// Slurm resources of a sweep (grid file `slurm:` section, overridden by flags).
struct SlurmOptions {
  std::string partition;
  std::string time;            ///< e.g. "04:00:00"
  std::string account;
  std::string mem;             ///< e.g. "32G"
  int64_t gpus = 0;            ///< per array task (--gres=gpu:N)
  int64_t cpus_per_task = 0;
  int64_t signal_seconds = 120;  ///< SIGUSR1 this long before the time limit (checkpoint, requeue)
  std::vector<std::string> extra;  ///< more "#SBATCH" options, verbatim ("--qos=normal")
};

/// One configuration of the grid.
struct SweepRun {
  std::string name;                                  ///< "masks-cycle_x2__seed-1"
  std::vector<std::pair<std::string, std::string>> values;  ///< axis key → value (YAML flow text)
  std::vector<std::string> overrides;                ///< "key=value" applied to the base
  std::string config;                                ///< DIR/configs/<name>.yaml
  std::string run_dir;                               ///< DIR/runs/<name>
};

struct SweepPlan {
  std::string name;
  std::string grid;                    ///< the grid file
  std::string base;                    ///< the base experiment (resolved path)
  std::string dir;                     ///< sweep directory
  std::vector<std::string> axes;       ///< axis keys, in grid order
  std::vector<SweepRun> runs;          ///< the product of the axes, last axis fastest
  SlurmOptions slurm;
};

/// Reads a grid file and expands it; every config is loaded and validated (errors name the grid
/// file and the run). `dir` overrides the grid's `dir` (default runs/sweeps/<name>).
SweepPlan expand_sweep(const std::string& grid_path, const std::string& dir);

/// Writes DIR/configs/<run>.yaml (resolved configs) and DIR/sweep.json.
void write_sweep(const SweepPlan& plan);

/// Reads DIR/sweep.json (IoError/ConfigError naming it when missing or malformed).
SweepPlan read_sweep(const std::string& dir);

/// The sbatch array script: one array task per run, SIGUSR1 before the time limit, requeue of a
/// task that stopped with exit 75 (checkpoint written; the requeued task resumes it).
std::string sbatch_script(const SweepPlan& plan, const std::string& flowood_binary);

}  // namespace flowood::app
