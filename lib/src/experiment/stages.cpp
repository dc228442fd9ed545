#include "flowood/experiment/stages.hpp"

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
#include "flowood/experiment/embeddings.hpp"
#include "flowood/experiment/import_run.hpp"
#include "flowood/experiment/layout_choice.hpp"
#include "flowood/flows/factory.hpp"
#include "flowood/ood/curves.hpp"
#include "flowood/train/checkpoint.hpp"
#include "flowood/train/distributed.hpp"

namespace flowood::experiment {

std::shared_ptr<train::Communicator> process_group() {
  // Connected once per process (a run may train several models) and kept to the end.
  static const auto* group = [] {
    const auto setup = train::distributed_from_environment(train::process_environment());
    if (!setup) return new std::shared_ptr<train::Communicator>();
    if (setup->rank != 0) set_log_level("warn");  // one rank speaks; the others only warn
    return new std::shared_ptr<train::Communicator>(train::Communicator::connect(*setup));
  }();
  return *group;
}

data::DataRoots roots_of(const config::ExperimentConfig& config) { return data::DataRoots::from(config.data.roots); }

data::ImageDataset load_for_model(const config::ExperimentConfig& config, const std::string& spec, int64_t limit,
                                  const std::string& run_dir) {
  if (is_embedding_run(config)) {
    if (run_dir.empty()) throw Error("load_for_model: an embedding run's data need its run directory");
    auto e = embeddings_of(config, run_dir, spec, limit);
    data::ImageDataset d;
    d.spec = spec;
    d.images = e.features;
    d.labels = e.labels;
    return d;
  }
  const auto form = flows::flow_is_tabular(config.model.flow) ? data::ExampleForm::kFeatures : data::ExampleForm::kImages;
  return data::load_examples(spec, roots_of(config), limit, form);
}

train::TrainResult train_stage(const config::ExperimentConfig& cfg, const RunPaths& run, const ConfigCodec& codec,
                               const TrainHooks& hooks) {
  const auto group = process_group();
  const bool writer = !group || group->is_main();
  auto device = resolve_device(cfg.device);
  if (group && device.is_cuda() && !device.has_index())  // one GPU per rank on a node
    device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(group->local_rank() % torch::cuda::device_count()));
  apply_threads(cfg);
  if (writer) prepare_run_dir(run, cfg, codec);
  if (const auto source = imported_from(run)) {
    log().info("the model in {} was imported ({}): it is used as it is, not trained", run.dir, *source);
    return {};
  }
  if (cfg.embedding.extractor == "classifier") {
    if (group) throw ConfigError("embedding.extractor", "embedding runs train on one process (no torchrun / srun -n K)");
    const auto extractor = train_extractor(cfg, run, codec.write(cfg), hooks.stop);
    if (extractor.stopped) {
      log().warn("stopped by a signal at classifier step {}; checkpoint written to {}/extractor; run the same command "
                 "again to resume", extractor.steps, run.dir);
      train::TrainResult stopped;
      stopped.stopped = true;
      stopped.steps = extractor.steps;
      return stopped;
    }
  }
  const auto train_set = load_for_model(cfg, cfg.data.train, cfg.data.train_limit, run.dir);
  const auto test_set = load_for_model(cfg, cfg.data.test, cfg.train.eval_limit > 0 ? cfg.train.eval_limit : cfg.data.test_limit,
                                       run.dir);
  log().info("{}: {} examples of {}; {}: {} examples", train_set.spec, train_set.size(),
             flows::shape_string(train_set.image_shape()), test_set.spec, test_set.size());
  if (writer) write_manifest(run, cfg, device, {&train_set, &test_set}, command_line());

  torch::manual_seed(static_cast<uint64_t>(cfg.seed));
  auto model = flows::make_flow(cfg.model);
  model->to(device);
  log().info("{} on {}: {} parameters, run directory {}", model->name(), device.str(), model->num_parameters(), run.dir);
  apply_layout(cfg, *model, LayoutWork::kTrain, cfg.train.batch_size, device);

  train::TrainerOptions options;
  options.train = cfg.train;
  options.seed = static_cast<uint64_t>(cfg.seed);
  options.eval_batch_size = cfg.score.batch_size;
  options.run_dir = run.dir;
  options.config_text = codec.write(cfg);
  options.communicator = group;
  if (writer) options.progress = hooks.progress;
  options.stop = hooks.stop;
  data::ImageDataset negative;
  if (!cfg.train.negative.data.empty()) {
    negative = load_for_model(cfg, cfg.train.negative.data, 0, run.dir);
    log().info("negative training on {} ({} examples, weight {}, threshold {} nats)", negative.spec, negative.size(),
               cfg.train.negative.weight, cfg.train.negative.threshold);
    options.negative = &negative;
  }
  auto result = train::train(*model, train_set, test_set, options);
  if (group) group->barrier();
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

config::ExperimentConfig background_config(const config::ExperimentConfig& main) {
  auto aux = main;
  auto& c = aux;
  c.name += "-background";
  c.train.mutation_rate = c.background.mutation_rate;
  c.train.weight_decay = c.background.weight_decay;
  c.train.weight_decay_on = "all";
  if (c.background.max_steps > 0) c.train.max_steps = c.background.max_steps;
  c.scores = {"loglik"};
  return aux;
}

config::ExperimentConfig ensemble_member_config(const config::ExperimentConfig& main, int64_t member) {
  auto aux = main;
  aux.seed += member;
  aux.name += fmt::format("-seed{}", aux.seed);
  aux.scores = {"loglik"};
  return aux;
}

std::string score_summary(const io::CsvTable& table) {
  const auto ll = ood::mean_sd(table.column(io::kScoreLoglikColumn));
  const auto bpd = ood::mean_sd(table.column(io::kScoreBpdColumn));
  return fmt::format("{:<24} n={:<6} loglik {:>10.1f} ± {:<7.1f} nats   {:.4f} bits/dim",
                     table.meta.count("dataset") ? table.meta.at("dataset") : table.source, table.num_rows(), ll.mean,
                     ll.sd, bpd.mean);
}

std::string format_duration(double s) {
  if (!(s >= 0) || s > 1e7) return "?";
  const auto total = static_cast<int64_t>(s + 0.5);
  if (total < 60) return fmt::format("{}s", total);
  if (total < 3600) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
}

}  // namespace flowood::experiment
