#include "flowood/experiment/sweep.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/io/atomic_file.hpp"
#include "flowood/io/json_file.hpp"

extern char** environ;

namespace fs = std::filesystem;

namespace flowood::experiment {
namespace {

/// A value as a short file-name-safe slug: "[cycle x2]" → "cycle_x2".
}  // namespace

std::string sweep_slug(const std::string& text) {
  std::string s;
  for (char ch : text) {
    const bool keep = std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.';
    if (keep) s += ch;
    else if (!s.empty() && s.back() != '_') s += '_';
  }
  while (!s.empty() && (s.back() == '_' || s.back() == '.')) s.pop_back();
  // Long values (paths) differ most at their end: keep the last 40 characters.
  if (s.size() > 40) s = s.substr(s.size() - 40);
  while (!s.empty() && (s.front() == '_' || s.front() == '.')) s.erase(0, 1);
  return s.empty() ? "x" : s;
}

namespace {
std::string last_component(const std::string& key) {
  const auto dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

[[noreturn]] void grid_error(const std::string& grid, const std::string& what) {
  throw ConfigError("", fmt::format("{}: {}", grid, what));
}

}  // namespace

SweepPlan expand_sweep(const SweepGrid& grid, const ConfigCodec& codec) {
  SweepPlan plan;
  plan.name = grid.name;
  plan.grid = grid.path;
  plan.base = grid.base;
  plan.dir = grid.dir;
  plan.slurm = grid.slurm;
  const auto& grid_path = grid.path;
  const auto& fixed = grid.fixed;
  std::vector<std::vector<std::string>> values;
  for (const auto& [key, v] : grid.axes) {
    plan.axes.push_back(key);
    values.push_back(v);
  }
  // The product of the axes, last axis fastest.
  size_t total = 1;
  for (const auto& v : values) total *= v.size();
  std::set<std::string> names;
  for (size_t index = 0; index < total; ++index) {
    SweepRun run;
    run.overrides = fixed;
    size_t rest = index;
    std::vector<size_t> pick(values.size());
    for (size_t a = values.size(); a-- > 0;) {
      pick[a] = rest % values[a].size();
      rest /= values[a].size();
    }
    std::vector<std::string> parts;
    for (size_t a = 0; a < values.size(); ++a) {
      const auto& v = values[a][pick[a]];
      run.values.emplace_back(plan.axes[a], v);
      run.overrides.push_back(plan.axes[a] + "=" + v);
      parts.push_back(last_component(plan.axes[a]) + "-" + sweep_slug(v));
    }
    run.name = fmt::format("{}", fmt::join(parts, "__"));
    if (!names.insert(run.name).second) run.name += fmt::format("__{}", index);
    run.overrides.push_back("name=" + plan.name + "/" + run.name);
    run.config = plan.dir + "/configs/" + run.name + ".yaml";
    run.run_dir = plan.dir + "/runs/" + run.name;
    try {
      (void)codec.read(plan.base, run.overrides);
    } catch (const ConfigError& e) {
      grid_error(grid_path, fmt::format("run {}: {}", run.name, e.what()));
    }
    plan.runs.push_back(std::move(run));
  }
  return plan;
}

void write_sweep(const SweepPlan& plan, const ConfigCodec& codec) {
  std::error_code ec;
  fs::create_directories(plan.dir + "/configs", ec);
  if (ec) throw IoError(plan.dir, "cannot create the sweep directory: " + ec.message());
  io::Json runs = io::Json::array();
  for (const auto& r : plan.runs) {
    io::write_file_atomic(r.config, codec.write(codec.read(plan.base, r.overrides)));
    io::Json values = io::Json::object();
    for (const auto& [k, v] : r.values) values[k] = v;
    runs.push_back(io::Json{
                       {"name", r.name},
                       {"config", r.config},
                       {"run_dir", r.run_dir},
                       {"values", values}});
  }
  io::Json axes = io::Json::array();
  for (const auto& a : plan.axes) axes.push_back(a);
  io::write_json_file(plan.dir + "/sweep.json", io::Json{
                                                    {"name", plan.name},
                                                    {"grid", plan.grid},
                                                    {"base", plan.base},
                                                    {"dir", plan.dir},
                                                    {"axes", axes},
                                                    {"runs", runs}});
}

SweepPlan read_sweep(const std::string& dir) {
  const auto path = dir + "/sweep.json";
  if (!fs::exists(path)) throw IoError(path, "no sweep plan here (write one with `flowood sweep GRID.yaml`)");
  const auto j = io::read_json_file(path);
  SweepPlan plan;
  try {
    plan.name = io::json_string(io::json_at(j, "name"));
    plan.grid = io::json_string(io::json_at(j, "grid"));
    plan.base = io::json_string(io::json_at(j, "base"));
    plan.dir = dir;
    for (const auto& a : io::json_at(j, "axes")) plan.axes.push_back(io::json_string(a));
    for (const auto& r : io::json_at(j, "runs")) {
      SweepRun run;
      run.name = io::json_string(io::json_at(r, "name"));
      run.config = io::json_string(io::json_at(r, "config"));
      run.run_dir = io::json_string(io::json_at(r, "run_dir"));
      const auto& values = r.at("values");
      for (auto v = values.begin(); v != values.end(); ++v) run.values.emplace_back(v.key(), io::json_string(v.value()));
      plan.runs.push_back(std::move(run));
    }
  } catch (const Error& e) {
    throw IoError(path, std::string("malformed sweep plan: ") + e.what());
  }
  return plan;
}

void merge_slurm_flags(SlurmOptions& s, const SlurmOptions& f) {
  if (!f.partition.empty()) s.partition = f.partition;
  if (!f.time.empty()) s.time = f.time;
  if (!f.account.empty()) s.account = f.account;
  if (!f.mem.empty()) s.mem = f.mem;
  if (f.gpus > 0) s.gpus = f.gpus;
  if (f.cpus_per_task > 0) s.cpus_per_task = f.cpus_per_task;
}

std::string sbatch_script(const SweepPlan& plan, const std::string& flowood) {
  const auto& s = plan.slurm;
  std::string out = "#!/bin/bash\n";
  out += fmt::format("# flowood sweep '{}': {} runs from {} (written by flowood sweep --slurm)\n", plan.name,
                     plan.runs.size(), plan.grid);
  out += fmt::format("#SBATCH --job-name=flowood-{}\n", plan.name);
  out += fmt::format("#SBATCH --array=0-{}\n", plan.runs.size() - 1);
  out += fmt::format("#SBATCH --output={}/logs/%x-%A_%a.out\n", fs::absolute(plan.dir).string());
  if (!s.partition.empty()) out += "#SBATCH --partition=" + s.partition + "\n";
  if (!s.time.empty()) out += "#SBATCH --time=" + s.time + "\n";
  if (!s.account.empty()) out += "#SBATCH --account=" + s.account + "\n";
  if (!s.mem.empty()) out += "#SBATCH --mem=" + s.mem + "\n";
  if (s.gpus > 0) out += fmt::format("#SBATCH --gres=gpu:{}\n", s.gpus);
  if (s.cpus_per_task > 0) out += fmt::format("#SBATCH --cpus-per-task={}\n", s.cpus_per_task);
  out += fmt::format("#SBATCH --signal=B:USR1@{}\n", s.signal_seconds);
  out += "#SBATCH --requeue\n";
  for (const auto& e : s.extra) out += "#SBATCH " + e + "\n";
  out += "set -u\n";
  out += "configs=(\n";
  for (const auto& r : plan.runs) out += "  '" + fs::absolute(r.config).string() + "'\n";
  out += ")\nrun_dirs=(\n";
  for (const auto& r : plan.runs) out += "  '" + fs::absolute(r.run_dir).string() + "'\n";
  out += ")\n";
  out += "i=${SLURM_ARRAY_TASK_ID}\n";
  out += fmt::format("'{}' run \"${{configs[$i]}}\" --run-dir \"${{run_dirs[$i]}}\" &\n", flowood);
  out += "pid=$!\n";
  out += "# Slurm's warning signal (and a TERM at preemption) reach this shell: pass them on, so flowood\n"
         "# writes a checkpoint after the current step and exits 75.\n";
  out += "trap 'kill -USR1 $pid 2>/dev/null' USR1 TERM\n";
  out += "rc=0\nwhile kill -0 \"$pid\" 2>/dev/null; do wait \"$pid\"; rc=$?; done\n";
  out += "if [ \"$rc\" -eq 75 ]; then\n"
         "  echo \"flowood stopped with a checkpoint; requeueing ${SLURM_ARRAY_JOB_ID}_${i}\"\n"
         "  scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${i}\"\n"
         "fi\n";
  out += "exit \"$rc\"\n";
  return out;
}

namespace {
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

}  // namespace

/// Runs every run of the plan, `jobs` at a time; returns the exit status of each.
std::map<std::string, int> run_sweep_locally(const SweepPlan& plan, const std::string& binary, int64_t jobs) {
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
      flowood::log().info("[{}/{}] started {} (log {})", next, plan.runs.size(), run.name, log);
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
    if (code == 0) flowood::log().info("finished {} (exit 0)", it->second->name);
    else flowood::log().error("FAILED {} (exit {})", it->second->name, code);
    running.erase(it);
  }
  return status;
}

std::string submit_sbatch(const std::string& script_path) {
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
  return job;
}

}  // namespace flowood::experiment
