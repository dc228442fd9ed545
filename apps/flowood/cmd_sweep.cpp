// flowood sweep: expand a grid file into resolved configs and run them here (--local, K at a
// time) or as a Slurm array job (--slurm; --dry-run only writes and prints the script).
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "commands.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/io/atomic_file.hpp"
#include "tables.hpp"
#include "sweep.hpp"

extern char** environ;

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
  SlurmOptions slurm_flags;
};

std::string self_binary() {
  std::error_code ec;
  const auto p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error("cannot find the flowood binary (/proc/self/exe): " + ec.message());
  return p.string();
}

/// Starts `flowood run CONFIG --run-dir DIR --set threads=T` with stdout and stderr in `log`.
pid_t start_run(const std::string& binary, const SweepRun& run, int64_t threads, const std::string& log) {
  std::vector<std::string> args = {binary, "run", run.config, "--run-dir", run.run_dir, "--set",
                                   fmt::format("threads={}", threads)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw Error(fmt::format("cannot start {}: {}", binary, std::strerror(rc)));
  return pid;
}

/// Runs every run of the plan, `jobs` at a time; returns the exit status of each.
std::map<std::string, int> run_local(const SweepPlan& plan, int64_t jobs) {
  const auto binary = self_binary();
  const auto cores = static_cast<int64_t>(std::max(1u, std::thread::hardware_concurrency()));
  const int64_t threads = std::max<int64_t>(1, cores / jobs);
  fs::create_directories(plan.dir + "/logs");
  std::map<pid_t, const SweepRun*> running;
  std::map<std::string, int> status;
  size_t next = 0;
  while (next < plan.runs.size() || !running.empty()) {
    while (next < plan.runs.size() && static_cast<int64_t>(running.size()) < jobs) {
      const auto& run = plan.runs[next++];
      const auto log = plan.dir + "/logs/" + run.name + ".log";
      running[start_run(binary, run, threads, log)] = &run;
      std::cerr << fmt::format("[{}/{}] started {} (log {})\n", next, plan.runs.size(), run.name, log);
    }
    int ws = 0;
    const pid_t done = ::waitpid(-1, &ws, 0);
    if (done < 0) {
      if (errno == EINTR) continue;
      throw Error(std::string("waitpid failed: ") + std::strerror(errno));
    }
    const auto it = running.find(done);
    if (it == running.end()) continue;
    const int code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    status[it->second->name] = code;
    io::write_file_atomic(plan.dir + "/logs/" + it->second->name + ".exit", std::to_string(code) + "\n");
    std::cerr << fmt::format("{} {} (exit {})\n", code == 0 ? "finished" : "FAILED", it->second->name, code);
    running.erase(it);
  }
  return status;
}

void merge_flags(SlurmOptions& s, const SlurmOptions& f) {
  if (!f.partition.empty()) s.partition = f.partition;
  if (!f.time.empty()) s.time = f.time;
  if (!f.account.empty()) s.account = f.account;
  if (!f.mem.empty()) s.mem = f.mem;
  if (f.gpus > 0) s.gpus = f.gpus;
  if (f.cpus_per_task > 0) s.cpus_per_task = f.cpus_per_task;
}

void run_sweep(const SweepOptions& o) {
  if (o.local && o.slurm) throw Error("--local and --slurm exclude each other");
  if (o.dry_run && !o.slurm) throw Error("--dry-run goes with --slurm");
  auto plan = expand_sweep(o.grid, o.dir);
  merge_flags(plan.slurm, o.slurm_flags);
  write_sweep(plan);
  std::vector<std::vector<std::string>> cells{{"run", "config"}};
  for (const auto& r : plan.runs) cells.push_back({r.name, r.config});
  std::cout << fmt::format("sweep {}: {} configs in {}\n", plan.name, plan.runs.size(), plan.dir) << align_columns(cells, 2);
  if (o.slurm) {
    const auto script_path = plan.dir + "/sweep.sbatch";
    fs::create_directories(plan.dir + "/logs");
    io::write_file_atomic(script_path, sbatch_script(plan, self_binary()));
    fs::permissions(script_path, fs::perms::owner_exec, fs::perm_options::add);
    if (o.dry_run) {
      std::cout << io::read_file(script_path) << "\n(dry run: not submitted; submit with sbatch " << script_path << ")\n";
      return;
    }
    const std::string cmd = "sbatch --parsable '" + script_path + "'";
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (!pipe) throw Error("cannot run sbatch");
    char buffer[256];
    std::string job;
    while (std::fgets(buffer, sizeof buffer, pipe)) job += buffer;
    const int rc = ::pclose(pipe);
    if (rc != 0)
      throw Error(fmt::format("sbatch failed (exit {}) for {}; is Slurm installed here? --dry-run writes the script only",
                              WIFEXITED(rc) ? WEXITSTATUS(rc) : rc, script_path));
    while (!job.empty() && (job.back() == '\n' || job.back() == '\r')) job.pop_back();
    io::write_file_atomic(plan.dir + "/slurm_job_id", job + "\n");
    std::cout << "submitted array job " << job << " (" << plan.runs.size() << " tasks); afterwards: flowood aggregate "
              << plan.dir << "\n";
    return;
  }
  if (!o.local) {
    std::cout << "configs written; run them with --local [-j K] or --slurm, then flowood aggregate " << plan.dir << "\n";
    return;
  }
  const auto status = run_local(plan, o.jobs);
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
