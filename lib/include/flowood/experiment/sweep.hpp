#pragma once
/// Sweeps: a grid (a base experiment, fixed overrides and axes) expanded into resolved configs
/// with stable, readable run names; the plan file sweep.json that `sweep` writes and `aggregate`
/// reads; and the sbatch array script for Slurm. The grid file itself is YAML, read by the binary.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "flowood/experiment/config_codec.hpp"

namespace flowood::experiment {

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

/// Flags given on the command line replace the grid's values.
void merge_slurm_flags(SlurmOptions& grid, const SlurmOptions& flags);

/// A grid file as read: values are YAML flow text ("[cycle x2]", "0.5"), as `--set` takes them.
struct SweepGrid {
  std::string path;                      ///< the grid file (for messages and sweep.json)
  std::string name;                      ///< default: the file's stem
  std::string base;                      ///< the base experiment (resolved path)
  std::string dir;                       ///< sweep directory
  std::vector<std::string> fixed;        ///< "key=value" applied to every run
  std::vector<std::pair<std::string, std::vector<std::string>>> axes;  ///< key → values, in grid order
  SlurmOptions slurm;
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

/// A value as a short file-name-safe slug: "[cycle x2]" → "cycle_x2" (at most 40 characters).
std::string sweep_slug(const std::string& value);

/// The product of the grid's axes, last axis fastest, each run named from its axis values
/// ("mask-cycle_x2__seed-1"; a name that repeats gets "__<index>"). Every config is read and
/// validated with `codec` (errors name the grid file and the run).
SweepPlan expand_sweep(const SweepGrid& grid, const ConfigCodec& codec);

/// Writes DIR/configs/<run>.yaml (resolved configs, codec.write) and DIR/sweep.json.
void write_sweep(const SweepPlan& plan, const ConfigCodec& codec);

/// Reads DIR/sweep.json (IoError/ConfigError naming it when missing or malformed).
SweepPlan read_sweep(const std::string& dir);

/// The sbatch array script: one array task per run, SIGUSR1 before the time limit, requeue of a
/// task that stopped with exit 75 (checkpoint written; the requeued task resumes it).
std::string sbatch_script(const SweepPlan& plan, const std::string& flowood_binary);

/// Runs every run of the plan here, `jobs` at a time, each as `BINARY run CONFIG --run-dir DIR
/// --set threads=T` (T = cores / jobs) with its output in DIR/logs/<run>.log and its exit status
/// in DIR/logs/<run>.exit; returns the exit status of each run by name.
std::map<std::string, int> run_sweep_locally(const SweepPlan& plan, const std::string& binary, int64_t jobs);

/// Submits an sbatch script; returns the job id (Error when sbatch fails or is missing).
std::string submit_sbatch(const std::string& script_path);

}  // namespace flowood::experiment
