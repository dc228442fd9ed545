// flowood score: per-example log-likelihood and bits/dim of a dataset under a trained run.
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "flowood/core/device.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/io/atomic_file.hpp"
#include "stages.hpp"

namespace flowood::app {
namespace {
struct ScoreOptions {
  std::string run_dir;
  std::string data;
  std::string out;
  std::string npy;
  bool no_npy = false;
  int64_t samples = 0;
  int64_t batch_size = 0;
  int64_t limit = 0;
  int64_t seed = -1;
  std::string device;
};

void run_score(const ScoreOptions& o) {
  io::check_output_path(o.out, "--out");
  if (!o.npy.empty()) io::check_output_path(o.npy, "--npy");
  if (!std::filesystem::is_directory(o.run_dir)) throw IoError(o.run_dir, "no such run directory");
  const auto stored = load_config(RunPaths{o.run_dir}.config(), {});
  const auto device = resolve_device(o.device.empty() ? stored.config.device : o.device, "--device");
  apply_threads(stored.config);
  const auto run = load_run(o.run_dir, device);
  const auto& cfg = run.config.config;
  ood::LoglikOptions options;
  options.batch_size = o.batch_size > 0 ? o.batch_size : cfg.score.batch_size;
  options.samples = o.samples > 0 ? o.samples : cfg.score.samples;
  options.seed = static_cast<uint64_t>(o.seed >= 0 ? o.seed : cfg.seed);
  std::string npy = o.npy;
  if (npy.empty() && !o.no_npy) npy = std::filesystem::path(o.out).replace_extension(".npy").string();
  if (o.no_npy) npy.clear();
  const auto table = score_stage(run, o.run_dir, o.data, o.limit, options, o.out, npy);
  std::cout << score_summary(table) << "\n" << o.out << "\n";
  if (!npy.empty()) std::cout << npy << "\n";
}
}  // namespace

void register_score(CLI::App& app) {
  auto o = std::make_shared<ScoreOptions>();
  auto* cmd = app.add_subcommand("score", "Per-example log-likelihood (nats) and bits/dim of a dataset");
  cmd->add_option("--run", o->run_dir, "Run directory of a trained model")->required();
  cmd->add_option("--data", o->data, "Dataset spec: name[:split] or idx:PATH")->required();
  cmd->add_option("--out", o->out, "Score CSV to write (index,label,loglik,bpd)")->required();
  cmd->add_option("--npy", o->npy, "Also write loglik as .npy here (default: OUT with .npy)");
  cmd->add_flag("--no-npy", o->no_npy, "Do not write the .npy file");
  cmd->add_option("--samples,-k", o->samples, "Dequantisation samples per image, log-mean-exp (default: score.samples)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--batch-size", o->batch_size, "Images per batch (default: score.batch_size)")->check(CLI::PositiveNumber);
  cmd->add_option("--limit", o->limit, "Score only the first N images")->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", o->seed, "Noise seed (default: the run's seed)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--device", o->device, "auto, cpu, cuda or cuda:N (default: the run's device)");
  cmd->callback([o] { run_score(*o); });
}

}  // namespace flowood::app
