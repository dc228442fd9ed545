#include "flowood/experiment/embeddings.hpp"

#include <filesystem>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "flowood/core/device.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/data/features.hpp"
#include "flowood/data/registry.hpp"
#include "flowood/data/spec.hpp"
#include "flowood/experiment/stages.hpp"
#include "flowood/io/json_file.hpp"

namespace fs = std::filesystem;

namespace flowood::experiment {
namespace {

std::string file_version(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  const auto time = fs::last_write_time(path, ec);
  return ec ? std::string("missing") : fmt::format("{}:{}", size, time.time_since_epoch().count());
}

}  // namespace

bool is_feature_spec(const std::string& spec) {
  const auto parsed = data::parse_dataset_spec(spec);
  const auto* kind = data::find_dataset_kind(parsed.name);
  return kind && kind->is_features();
}

std::shared_ptr<embedding::Extractor> run_extractor(const config::ExperimentConfig& config, const std::string& run_dir) {
  const auto& e = config.embedding;
  const auto checkpoint = embedding::classifier_checkpoint(run_dir);
  const auto module = e.extractor.rfind("torchscript:", 0) == 0 ? e.extractor.substr(12) : std::string();
  const auto key = fmt::format("{}|{}|{}|{}|{}", e.extractor, config.device,
                               e.extractor == "classifier" ? checkpoint : module,
                               file_version(e.extractor == "classifier" ? checkpoint : module),
                               fmt::format("{}/{}/{}/{}", e.resize.size(), e.channels, e.mean.size(), e.std.size()));
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<embedding::Extractor>> loaded;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = loaded[key];
  if (!slot) {
    slot = embedding::make_extractor(e, checkpoint, resolve_device(config.device));
    log().info("extractor: {}", slot->describe());
  }
  return slot;
}

embedding::Embeddings embeddings_of(const config::ExperimentConfig& config, const std::string& run_dir,
                                    const std::string& spec, int64_t limit) {
  if (is_feature_spec(spec)) {  // already features (for example a file `flowood embed` wrote)
    auto f = data::load_features(spec, roots_of(config), limit);
    return {f.features, {}, f.labels};
  }
  const auto extractor = run_extractor(config, run_dir);
  std::string cache, sidecar;
  if (!run_dir.empty()) {
    const auto name = RunPaths{run_dir}.score_file(spec);  // <run>/scores/<safe spec>.csv
    const auto stem = fs::path(name).stem().string() + (limit > 0 ? fmt::format(".limit{}", limit) : "");
    cache = (fs::path(run_dir) / "embeddings" / (stem + ".npz")).string();
    sidecar = cache + ".json";
  }
  const io::Json meta = {{"spec", spec}, {"limit", limit}, {"extractor", extractor->identity()}};
  if (!cache.empty() && fs::exists(cache) && fs::exists(sidecar)) {
    try {
      const auto stored = io::read_json_file(sidecar);
      if (stored.value("spec", "") == spec && stored.value("limit", int64_t{-1}) == limit &&
          stored.value("extractor", "") == extractor->identity()) {
        const auto f = data::read_npz_features(cache, "embeddings");
        embedding::Embeddings out{f.features, {}, f.labels};
        if (extractor->has_logits()) out.logits = data::read_npz_features(cache, "logits").features;
        log().info("embeddings of {} are current: {} ({} × {})", spec, cache, out.features.size(0), out.features.size(1));
        return out;
      }
    } catch (const Error& e) {
      log().warn("recomputing the embeddings of {}: the cache {} is unreadable ({})", spec, cache, e.what());
    }
  }
  const auto images = data::load_dataset(spec, roots_of(config), limit);
  if (images.size() == 0) throw DataError(images.spec, "no examples to embed (the selection or limit left none)");
  log().info("embedding {} ({} images of {}) with the {}", images.spec, images.size(), c10::str(images.image_shape()),
             extractor->describe());
  auto out = extractor->embed(images, config.score.batch_size);
  if (!cache.empty()) {
    fs::create_directories(fs::path(cache).parent_path());
    std::vector<std::pair<std::string, torch::Tensor>> arrays = {{"embeddings", out.features}};
    if (out.labels.defined()) arrays.emplace_back("labels", out.labels);
    if (out.logits.defined()) arrays.emplace_back("logits", out.logits);
    data::write_npz(cache, arrays);
    auto full = meta;
    full["dataset"] = images.spec;
    full["rows"] = out.features.size(0);
    full["dim"] = out.features.size(1);
    io::write_json_file(sidecar, full);
  }
  return out;
}

embedding::ClassifierTrainResult train_extractor(const config::ExperimentConfig& cfg, const RunPaths& run,
                                                 const std::string& config_text, const std::atomic<bool>* stop) {
  const auto device = resolve_device(cfg.device);
  const auto train_set = data::load_dataset(cfg.data.train, roots_of(cfg), cfg.data.train_limit);
  const auto test_set = data::load_dataset(cfg.data.test, roots_of(cfg), cfg.data.test_limit);
  embedding::ClassifierTrainOptions o;
  o.config = cfg.embedding;
  o.seed = static_cast<uint64_t>(cfg.seed);
  o.dir = (fs::path(run.dir) / "extractor").string();
  o.config_text = config_text;
  o.device = device;
  o.eval_batch_size = cfg.score.batch_size;
  o.log_every = cfg.train.log_every;
  o.stop = stop;
  const auto result = embedding::train_classifier(train_set, test_set, o);
  return result;
}

}  // namespace flowood::experiment
