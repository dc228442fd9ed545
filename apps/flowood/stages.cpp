#include "stages.hpp"

#include <atomic>
#include <cmath>
#include <csignal>
#include <filesystem>

#include <fmt/format.h>
#include <torch/torch.h>

#include "flowood/core/device.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/data/registry.hpp"
#include "flowood/flows/factory.hpp"
#include "flowood/io/npy.hpp"
#include "flowood/train/checkpoint.hpp"
#include "progress.hpp"

namespace flowood::app {
namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop.store(true); }

struct SignalScope {
  SignalScope() {
    g_stop.store(false);
    for (int sig : {SIGINT, SIGTERM, SIGUSR1}) std::signal(sig, on_stop_signal);
  }
  ~SignalScope() {
    for (int sig : {SIGINT, SIGTERM, SIGUSR1}) std::signal(sig, SIG_DFL);
  }
};

std::pair<double, double> mean_sd(const std::vector<double>& v) {
  double sum = 0, sq = 0;
  for (double x : v) sum += x;
  const double mean = v.empty() ? std::nan("") : sum / static_cast<double>(v.size());
  for (double x : v) sq += (x - mean) * (x - mean);
  return {mean, v.size() > 1 ? std::sqrt(sq / static_cast<double>(v.size() - 1)) : 0.0};
}
}  // namespace

data::DataRoots roots_of(const config::ExperimentConfig& config) { return data::DataRoots::from(config.data.roots); }

train::TrainResult train_stage(const LoadedConfig& loaded, const RunPaths& run) {
  const auto& cfg = loaded.config;
  const auto device = resolve_device(cfg.device);
  apply_threads(cfg);
  prepare_run_dir(run, loaded);
  const auto roots = roots_of(cfg);
  const auto train_set = data::load_dataset(cfg.data.train, roots, cfg.data.train_limit);
  const auto test_set = data::load_dataset(cfg.data.test, roots, cfg.train.eval_limit > 0 ? cfg.train.eval_limit : cfg.data.test_limit);
  log().info("{}: {} images of {}; {}: {} images", train_set.spec, train_set.size(),
             flows::shape_string(train_set.image_shape()), test_set.spec, test_set.size());
  write_manifest(run, cfg, device, {&train_set, &test_set}, command_line());

  torch::manual_seed(static_cast<uint64_t>(cfg.seed));
  auto model = flows::make_flow(cfg.model);
  model->to(device);
  log().info("{} on {}: {} parameters, run directory {}", model->name(), device.str(), model->num_parameters(), run.dir);

  train::TrainerOptions options;
  options.config = cfg;
  options.run_dir = run.dir;
  options.config_text = to_yaml(cfg);
  TrainProgressView view;
  options.progress = [&view](const train::TrainProgress& p) { view(p); };
  options.stop = &g_stop;
  SignalScope signals;
  auto result = train::train(*model, train_set, test_set, options);
  view.finish();
  if (result.stopped) {
    log().warn("stopped by a signal at step {}; checkpoint written to {}; run the same command again to resume",
               result.steps, run.checkpoint());
  } else if (result.steps == result.resumed_from) {
    log().info("trained {} steps (0 this run): the checkpoint in {} is final", result.steps, run.dir);
  } else {
    log().info("trained {} steps ({} this run, {}); train {:.4f} bpd{}", result.steps, result.steps - result.resumed_from,
               format_duration(result.seconds), result.train_bpd,
               result.test_bpd ? fmt::format(", test {:.4f} bpd", *result.test_bpd) : "");
  }
  return result;
}

io::CsvTable score_stage(const LoadedRun& run, const std::string& run_dir, const std::string& spec, int64_t limit,
                         const ood::LoglikOptions& options, const std::string& out_csv, const std::string& out_npy) {
  const auto roots = roots_of(run.config.config);
  const auto dataset = data::load_dataset(spec, roots, limit);
  log().info("scoring {} ({} images, {} sample{} each)", dataset.spec, dataset.size(), options.samples,
             options.samples == 1 ? "" : "s");
  const auto scores = ood::score_loglik(*run.model.ptr(), dataset, options);
  std::vector<double> labels;
  if (dataset.has_labels()) {
    const auto l = dataset.labels.to(torch::kFloat64).contiguous();
    labels.assign(l.data_ptr<double>(), l.data_ptr<double>() + l.numel());
  }
  auto table = io::make_loglik_score_table(
      scores.loglik, scores.bpd, labels,
      {{"dataset", dataset.spec},
       {"score", "loglik"},
       {"higher_is_in", "true"},
       {"model", run_dir},
       {"step", std::to_string(run.step)},
       {"samples", std::to_string(options.samples)},
       {"seed", std::to_string(options.seed)},
       {"limit", std::to_string(limit)}});
  io::write_score_csv(out_csv, table);
  if (!out_npy.empty()) io::write_npy(out_npy, scores.loglik, io::NpyDtype::kFloat64);
  return table;
}

std::string score_summary(const io::CsvTable& table) {
  const auto [ll_mean, ll_sd] = mean_sd(table.column(io::kScoreLoglikColumn));
  const auto [bpd_mean, bpd_sd] = mean_sd(table.column(io::kScoreBpdColumn));
  (void)bpd_sd;
  return fmt::format("{:<24} n={:<6} loglik {:>10.1f} ± {:<7.1f} nats   {:.4f} bits/dim",
                     table.meta.count("dataset") ? table.meta.at("dataset") : table.source, table.num_rows(), ll_mean,
                     ll_sd, bpd_mean);
}

}  // namespace flowood::app
