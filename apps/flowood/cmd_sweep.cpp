// flowood sweep: expand a grid file into resolved configs and run them here (--local, K at a
// time) or as a Slurm array job (--slurm; --dry-run only writes and prints the script).
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.hpp"
#include "config_yaml.hpp"
#include "flowood/core/error.hpp"
#include "flowood/experiment/sweep.hpp"
#include "flowood/experiment/tables.hpp"
#include "flowood/io/atomic_file.hpp"

namespace fs = std::filesystem;

namespace flowood::app {
namespace {

struct SweepOptions {
  std::string grid;
  std::string dir;
  bool local = false;
  int64_t jobs = 1;
  bool slurm = false;
  bool dry_run = false;
  experiment::SlurmOptions slurm_flags;
};

std::string self_binary() {
  std::error_code ec;
  const auto p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error("cannot find the flowood binary (/proc/self/exe): " + ec.message());
  return p.string();
}

void submit(const experiment::SweepPlan& plan, bool dry_run) {
  const auto script_path = plan.dir + "/sweep.sbatch";
  fs::create_directories(plan.dir + "/logs");
  io::write_file_atomic(script_path, experiment::sbatch_script(plan, self_binary()));
  fs::permissions(script_path, fs::perms::owner_exec, fs::perm_options::add);
  if (dry_run) {
    std::cout << io::read_file(script_path) << "\n(dry run: not submitted; submit with sbatch " << script_path << ")\n";
    return;
  }
  const auto job = experiment::submit_sbatch(script_path);
  io::write_file_atomic(plan.dir + "/slurm_job_id", job + "\n");
  std::cout << "submitted array job " << job << " (" << plan.runs.size() << " tasks); afterwards: flowood aggregate "
            << plan.dir << "\n";
}

void run_sweep(const SweepOptions& o) {
  if (o.local && o.slurm) throw Error("--local and --slurm exclude each other");
  if (o.dry_run && !o.slurm) throw Error("--dry-run goes with --slurm");
  auto plan = experiment::expand_sweep(read_sweep_grid(o.grid, o.dir), yaml_codec());
  experiment::merge_slurm_flags(plan.slurm, o.slurm_flags);
  experiment::write_sweep(plan, yaml_codec());
  std::vector<std::vector<std::string>> cells{{"run", "config"}};
  for (const auto& r : plan.runs) cells.push_back({r.name, r.config});
  std::cout << fmt::format("sweep {}: {} configs in {}\n", plan.name, plan.runs.size(), plan.dir)
            << experiment::align_columns(cells, 2);
  if (o.slurm) return submit(plan, o.dry_run);
  if (!o.local) {
    std::cout << "configs written; run them with --local [-j K] or --slurm, then flowood aggregate " << plan.dir << "\n";
    return;
  }
  const auto status = experiment::run_sweep_locally(plan, self_binary(), o.jobs);
  std::vector<std::string> failed;
  for (const auto& [name, code] : status)
    if (code != 0) failed.push_back(fmt::format("{} (exit {}, log {}/logs/{}.log)", name, code, plan.dir, name));
  std::cout << fmt::format("{} of {} runs finished; aggregate with: flowood aggregate {}\n", status.size() - failed.size(),
                           status.size(), plan.dir);
  if (!failed.empty()) throw Error(fmt::format("{} run(s) failed: {}", failed.size(), fmt::join(failed, "; ")));
}
}  // namespace

void register_sweep(CLI::App& app) {
  auto o = std::make_shared<SweepOptions>();
  auto* cmd = app.add_subcommand("sweep", "Expand a grid of experiments and run it locally or as a Slurm array job");
  cmd->add_option("grid", o->grid, "Grid file: base experiment, set, axes, slurm (docs/cli.md#sweep)")->required();
  cmd->add_option("--out", o->dir, "Sweep directory (default: the grid's dir, else runs/sweeps/<name>)");
  cmd->add_flag("--local", o->local, "Run the configs here, one `flowood run` process each");
  cmd->add_option("-j,--jobs", o->jobs, "--local: runs at a time (each gets cores / K threads)")->check(CLI::PositiveNumber);
  cmd->add_flag("--slurm", o->slurm, "Write DIR/sweep.sbatch (one array task per config) and submit it with sbatch");
  cmd->add_flag("--dry-run", o->dry_run, "--slurm: write and print the script, do not submit");
  cmd->add_option("--partition", o->slurm_flags.partition, "Slurm partition");
  cmd->add_option("--time", o->slurm_flags.time, "Slurm time limit per task, e.g. 04:00:00");
  cmd->add_option("--account", o->slurm_flags.account, "Slurm account");
  cmd->add_option("--mem", o->slurm_flags.mem, "Slurm memory per task, e.g. 32G");
  cmd->add_option("--gpus", o->slurm_flags.gpus, "GPUs per task (--gres=gpu:N)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--cpus-per-task", o->slurm_flags.cpus_per_task, "CPUs per task")->check(CLI::NonNegativeNumber);
  cmd->callback([o] { run_sweep(*o); });
}

}  // namespace flowood::app
