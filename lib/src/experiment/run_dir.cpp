#include "flowood/experiment/run_dir.hpp"

#include <filesystem>
#include <fstream>
#include <utility>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include "flowood/core/blas.hpp"
#include "flowood/core/device.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/experiment/layout_choice.hpp"
#include "flowood/flows/factory.hpp"
#include "flowood/io/atomic_file.hpp"
#include "flowood/io/json_file.hpp"
#include "flowood/io/sha256.hpp"
#include "flowood/train/checkpoint.hpp"
#include "flowood/version.hpp"

namespace fs = std::filesystem;

namespace flowood::experiment {
bool may_change_on_resume(const std::string& key) {
  static const std::vector<std::string> allowed = {"name", "device", "threads", "layout", "train.epochs", "train.max_steps",
                                                   "train.checkpoint_every", "train.keep_checkpoints", "train.eval_every", "train.eval_limit",
                                                   "train.log_every", "data.test", "data.ood", "data.roots", "scores",
                                                   "data.test_limit"};
  if (key.rfind("score.", 0) == 0 || key.rfind("histogram.", 0) == 0) return true;
  for (const auto& a : allowed)
    if (a == key) return true;
  return false;
}

std::map<std::string, std::string> flatten(const config::ExperimentConfig& c) {
  std::map<std::string, std::string> out;
  auto copy = c;
  config::visit_fields(copy, [&](const char* key, auto& field, const char*) {
    using T = std::decay_t<decltype(field)>;
    if constexpr (std::is_same_v<T, std::vector<std::string>> || std::is_same_v<T, std::vector<int64_t>> ||
                  std::is_same_v<T, std::vector<double>>)
      out[key] = fmt::format("[{}]", fmt::join(field, ", "));
    else
      out[key] = fmt::format("{}", field);
  });
  return out;
}

std::vector<std::string> resume_conflicts(const config::ExperimentConfig& stored, const config::ExperimentConfig& now) {
  const auto before = flatten(stored), after = flatten(now);
  std::vector<std::string> changed;
  for (const auto& [key, value] : after)
    if (!may_change_on_resume(key) && before.at(key) != value)
      changed.push_back(fmt::format("{} ({} → {})", key, before.at(key), value));
  return changed;
}

std::string safe_file_name(const std::string& spec) {
  std::string safe;
  for (char ch : spec) safe += (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.') ? ch : '_';
  return safe;
}

std::string RunPaths::score_file(const std::string& spec) const { return scores_dir() + "/" + safe_file_name(spec) + ".csv"; }

RunPaths run_paths(const std::string& explicit_dir, const config::ExperimentConfig& config) {
  return {explicit_dir.empty() ? "runs/" + config.name : explicit_dir};
}

std::optional<config::ExperimentConfig> checkpoint_config(const RunPaths& run, const ConfigCodec& codec) {
  if (!codec.parse || !fs::exists(run.checkpoint())) return std::nullopt;
  const auto text = train::read_checkpoint_info(run.checkpoint()).config_text;
  if (text.empty()) return std::nullopt;
  return codec.parse(text, run.checkpoint() + " (its stored config)");
}

void prepare_run_dir(const RunPaths& run, const config::ExperimentConfig& config, const ConfigCodec& codec) {
  std::error_code ec;
  fs::create_directories(run.dir, ec);
  if (ec) throw IoError(run.dir, "cannot create run directory: " + ec.message());
  if (::access(run.dir.c_str(), W_OK) != 0) throw IoError(run.dir, "run directory is not writable");
  for (const auto& f : io::remove_stale_temporaries(run.dir))
    log().info("removed {}, a temporary file left by a process that was killed while writing", f);
  if (fs::exists(run.checkpoint()) && fs::exists(run.config())) {
    // Against the config the checkpoint was trained with (config.yaml may have been edited).
    const auto stored = checkpoint_config(run, codec);
    const auto changed = resume_conflicts(stored ? *stored : codec.read(run.config(), {}), config);
    if (!changed.empty())
      throw ConfigError("", fmt::format("{}: the run in this directory was trained with a different config; "
                                        "changed: {}. Use another --run-dir, or remove the directory to start over",
                                        run.dir, fmt::join(changed, ", ")));
  }
  io::write_file_atomic(run.config(), codec.write(config));
  add_log_file(run.log_file());
}

void write_manifest(const RunPaths& run, const config::ExperimentConfig& config, const torch::Device& device,
                    const std::vector<const data::ImageDataset*>& datasets, const std::vector<std::string>& argv) {
  io::Json data_json = io::Json::array();
  for (const auto* d : datasets) {
    io::Json files = io::Json::array();
    for (const auto& f : d->files) files.push_back(io::Json{{"path", f}, {"sha256", io::sha256_file(f)}});
    data_json.push_back(io::Json{{"spec", d->spec}, {"images", d->size()}, {"files", files}});
  }
  io::Json args = io::Json::array();
  for (const auto& a : argv) args.push_back(a);
  const auto manifest = io::Json{
                            {"flowood_version", FLOWOOD_VERSION_STRING},
                            {"git_revision", FLOWOOD_GIT_REVISION},
                            {"libtorch_version", TORCH_VERSION},
                            {"compiler", __VERSION__},
                            {"seed", config.seed},
                            {"device", device.str()},
                            {"threads", static_cast<int64_t>(torch::get_num_threads())},
                            {"command", args},
                            {"data", data_json}};
  io::write_json_file(run.manifest(), manifest);
}

LoadedRun load_run(const std::string& dir, const torch::Device& device, const ConfigCodec& codec) {
  const RunPaths run{dir};
  if (!fs::is_directory(dir)) throw IoError(dir, "no such run directory");
  if (!fs::exists(run.config())) throw IoError(run.config(), "run directory has no config.yaml");
  if (!fs::exists(run.checkpoint())) throw IoError(run.checkpoint(), "run directory has no checkpoint (train it first)");
  LoadedRun out;
  out.config = codec.read(run.config(), {});
  out.model = flows::make_flow(out.config.model);
  out.model->to(device);
  out.device = device;
  // The weights belong to the config stored inside the checkpoint; an edited config.yaml that
  // changes what was trained must not score with them, and the error should say which key changed
  // (a model built from the edited config also fails the checkpoint's content digest: the config
  // comparison is the more useful message, so it is made first when loading fails).
  const auto check_config = [&](const std::string& config_text) {
    if (!codec.parse || config_text.empty()) return;
    const auto stored = codec.parse(config_text, run.checkpoint() + " (its stored config)");
    const auto changed = resume_conflicts(stored, out.config);
    if (!changed.empty())
      throw ConfigError("", fmt::format("{}: config.yaml differs from the config {} was trained with; changed: {}. "
                                        "Restore config.yaml (the trained config is stored in the checkpoint)",
                                        dir, run.checkpoint(), fmt::join(changed, ", ")));
  };
  train::CheckpointInfo info;
  try {
    info = train::load_checkpoint(run.checkpoint(), *out.model, nullptr, device);
  } catch (const IoError&) {
    std::string stored_text;
    try {
      stored_text = train::read_checkpoint_info(run.checkpoint()).config_text;
    } catch (const Error&) {
    }
    check_config(stored_text);
    throw;
  }
  out.step = info.step;
  check_config(info.config_text);
  out.model->eval();
  apply_layout(out.config, *out.model, LayoutWork::kScore, out.config.score.batch_size, device);
  return out;
}

LoadedRun open_run(const std::string& dir, const std::string& device_flag, const ConfigCodec& codec) {
  if (!fs::is_directory(dir)) throw IoError(dir, "no such run directory");
  const auto stored = codec.read(RunPaths{dir}.config(), {});
  const auto device = resolve_device(device_flag.empty() ? stored.device : device_flag, "--device");
  apply_threads(stored);
  return load_run(dir, device, codec);
}

LoadedRun open_image_run(const std::string& dir, const std::string& device_flag, const std::string& verb,
                         const ConfigCodec& codec) {
  auto run = open_run(dir, device_flag, codec);
  if (run.model->input_shape().size() != 3)
    throw Error(fmt::format("{} works on image models; {} is a {} flow on vectors of {} features", verb, dir,
                                 run.model->family(), run.model->dim()));
  return run;
}

namespace {
bool warned_busy = false;
}  // namespace

void apply_threads(const config::ExperimentConfig& config) {
  // Debian's LibTorch starts with one intra-op thread whatever the machine; 0 means the CPUs this
  // process may use (affinity), shared among torchrun's local processes.
  // Other processes busy on our CPUs at start get theirs: spare threads would only wait for them.
  int busy = 0;
  const int threads = config.threads > 0 ? static_cast<int>(config.threads) : auto_threads(&busy);
  torch::set_num_threads(threads);
  static bool warned = false;
  if (busy > 0 && !std::exchange(warned_busy, true))
    log().info("threads: {} ({} of the CPUs this process may use were busy with other work at start; threads: N "
               "overrides)", threads, busy);
  if (const auto blas = detect_blas(); blas.is_reference() && !warned) {
    log().warn("{}", blas_warning(blas));
    warned = true;
  }
}

std::vector<std::string> command_line() {
  std::vector<std::string> args;
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string arg;
  while (std::getline(in, arg, '\0')) args.push_back(arg);
  return args;
}

}  // namespace flowood::experiment
