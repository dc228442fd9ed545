#include "sweep.hpp"

#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "flowood/core/error.hpp"
#include "flowood/io/atomic_file.hpp"
#include "flowood/io/json.hpp"
#include "stages.hpp"

namespace fs = std::filesystem;

namespace flowood::app {
namespace {

std::string flow_text(const YAML::Node& node) {
  YAML::Emitter out;
  out << YAML::Flow << node;
  return out.c_str();
}

/// A value as a short file-name-safe slug: "[cycle x2]" → "cycle_x2".
std::string slug(const std::string& text) {
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

std::string last_component(const std::string& key) {
  const auto dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

[[noreturn]] void grid_error(const std::string& grid, const std::string& what) {
  throw ConfigError("", fmt::format("{}: {}", grid, what));
}

std::string scalar(const YAML::Node& node, const std::string& grid, const std::string& key) {
  if (!node.IsScalar()) grid_error(grid, key + " must be a single value");
  return node.Scalar();
}

}  // namespace

SweepPlan expand_sweep(const std::string& grid_path, const std::string& dir) {
  if (!fs::is_regular_file(grid_path)) throw IoError(grid_path, "no such grid file");
  YAML::Node root;
  try {
    root = YAML::LoadFile(grid_path);
  } catch (const YAML::ParserException& e) {
    throw ConfigError("", fmt::format("{}:{}: YAML syntax error: {}", grid_path, e.mark.line + 1, e.msg));
  }
  if (!root.IsMap()) grid_error(grid_path, "a grid file is a mapping with base, axes and optionally name, dir, set, slurm");
  static const std::set<std::string> known = {"base", "name", "dir", "set", "axes", "slurm"};
  for (const auto& item : root) {
    const auto key = item.first.as<std::string>();
    if (!known.count(key))
      grid_error(grid_path, fmt::format("unknown key '{}' (valid: base, name, dir, set, axes, slurm)", key));
  }
  SweepPlan plan;
  plan.grid = grid_path;
  if (!root["base"]) grid_error(grid_path, "needs base: the experiment file the sweep varies");
  plan.base = (fs::path(grid_path).parent_path() / scalar(root["base"], grid_path, "base")).lexically_normal().string();
  if (!fs::is_regular_file(plan.base)) grid_error(grid_path, fmt::format("base: no such experiment file {}", plan.base));
  plan.name = root["name"] ? scalar(root["name"], grid_path, "name") : fs::path(grid_path).stem().string();
  plan.dir = !dir.empty() ? dir : root["dir"] ? scalar(root["dir"], grid_path, "dir") : "runs/sweeps/" + plan.name;

  std::vector<std::string> fixed;
  if (const auto set = root["set"]) {
    if (!set.IsMap()) grid_error(grid_path, "set must be a mapping of config keys to values");
    for (const auto& item : set) fixed.push_back(item.first.as<std::string>() + "=" + flow_text(item.second));
  }
  const auto axes = root["axes"];
  if (!axes || !axes.IsMap() || axes.size() == 0)
    grid_error(grid_path, "needs axes: a mapping of config keys to lists of values");
  std::vector<std::vector<std::string>> values;
  for (const auto& item : axes) {
    const auto key = item.first.as<std::string>();
    if (!item.second.IsSequence() || item.second.size() == 0)
      grid_error(grid_path, fmt::format("axes.{} must be a non-empty list of values", key));
    plan.axes.push_back(key);
    values.emplace_back();
    for (const auto& v : item.second) values.back().push_back(flow_text(v));
  }
  if (const auto s = root["slurm"]) {
    if (!s.IsMap()) grid_error(grid_path, "slurm must be a mapping");
    for (const auto& item : s) {
      const auto key = item.first.as<std::string>();
      const auto text = [&] { return scalar(item.second, grid_path, "slurm." + key); };
      try {
        if (key == "partition") plan.slurm.partition = text();
        else if (key == "time") plan.slurm.time = text();
        else if (key == "account") plan.slurm.account = text();
        else if (key == "mem") plan.slurm.mem = text();
        else if (key == "gpus") plan.slurm.gpus = item.second.as<int64_t>();
        else if (key == "cpus_per_task") plan.slurm.cpus_per_task = item.second.as<int64_t>();
        else if (key == "signal_seconds") plan.slurm.signal_seconds = item.second.as<int64_t>();
        else if (key == "extra") plan.slurm.extra = item.second.as<std::vector<std::string>>();
        else
          grid_error(grid_path, fmt::format("unknown key slurm.{} (valid: partition, time, account, mem, gpus, "
                                            "cpus_per_task, signal_seconds, extra)", key));
      } catch (const YAML::Exception&) {
        grid_error(grid_path, fmt::format("slurm.{}: wrong type", key));
      }
    }
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
      parts.push_back(last_component(plan.axes[a]) + "-" + slug(v));
    }
    run.name = fmt::format("{}", fmt::join(parts, "__"));
    if (!names.insert(run.name).second) run.name += fmt::format("__{}", index);
    run.overrides.push_back("name=" + plan.name + "/" + run.name);
    run.config = plan.dir + "/configs/" + run.name + ".yaml";
    run.run_dir = plan.dir + "/runs/" + run.name;
    try {
      (void)load_config(plan.base, run.overrides);
    } catch (const ConfigError& e) {
      grid_error(grid_path, fmt::format("run {}: {}", run.name, e.what()));
    }
    plan.runs.push_back(std::move(run));
  }
  return plan;
}

void write_sweep(const SweepPlan& plan) {
  std::error_code ec;
  fs::create_directories(plan.dir + "/configs", ec);
  if (ec) throw IoError(plan.dir, "cannot create the sweep directory: " + ec.message());
  io::Json runs = io::Json::array();
  for (const auto& r : plan.runs) {
    io::write_file_atomic(r.config, to_yaml(load_config(plan.base, r.overrides).config));
    io::Json values = io::Json::object();
    for (const auto& [k, v] : r.values) values.set(k, v);
    runs.push_back(io::Json::object().set("name", r.name).set("config", r.config).set("run_dir", r.run_dir).set("values", values));
  }
  io::Json axes = io::Json::array();
  for (const auto& a : plan.axes) axes.push_back(a);
  io::write_json_file(plan.dir + "/sweep.json", io::Json::object()
                                                    .set("name", plan.name)
                                                    .set("grid", plan.grid)
                                                    .set("base", plan.base)
                                                    .set("dir", plan.dir)
                                                    .set("axes", axes)
                                                    .set("runs", runs));
}

SweepPlan read_sweep(const std::string& dir) {
  const auto path = dir + "/sweep.json";
  if (!fs::exists(path)) throw IoError(path, "no sweep plan here (write one with `flowood sweep GRID.yaml`)");
  const auto j = io::read_json_file(path);
  SweepPlan plan;
  try {
    plan.name = j.at("name").as_string();
    plan.grid = j.at("grid").as_string();
    plan.base = j.at("base").as_string();
    plan.dir = dir;
    for (const auto& a : j.at("axes").values()) plan.axes.push_back(a.as_string());
    for (const auto& r : j.at("runs").values()) {
      SweepRun run;
      run.name = r.at("name").as_string();
      run.config = r.at("config").as_string();
      run.run_dir = r.at("run_dir").as_string();
      const auto& values = r.at("values");
      for (size_t k = 0; k < values.keys().size(); ++k) run.values.emplace_back(values.keys()[k], values.values()[k].as_string());
      plan.runs.push_back(std::move(run));
    }
  } catch (const Error& e) {
    throw IoError(path, std::string("malformed sweep plan: ") + e.what());
  }
  return plan;
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

}  // namespace flowood::app
