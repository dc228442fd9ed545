#include "method_scores.hpp"

#include <cmath>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/flows/precision.hpp"
#include "flowood/flows/preprocess.hpp"
#include "stages.hpp"

namespace fs = std::filesystem;

namespace flowood::app {
namespace {

std::vector<double> labels_of(const data::ImageDataset& d) {
  if (!d.has_labels()) return {};
  const auto l = d.labels.to(torch::kFloat64).contiguous();
  return {l.data_ptr<double>(), l.data_ptr<double>() + l.numel()};
}

/// index,label then the named columns, with `meta`.
io::CsvTable per_example_table(const io::CsvTable& like, std::map<std::string, std::string> meta,
                               std::vector<std::pair<std::string, std::vector<double>>> columns) {
  io::CsvTable t;
  t.meta = std::move(meta);
  t.add_column(io::kScoreIndexColumn, like.column(io::kScoreIndexColumn));
  t.add_column(io::kScoreLabelColumn, like.column(io::kScoreLabelColumn));
  for (auto& [name, values] : columns) t.add_column(name, std::move(values));
  return t;
}

std::string step_list(const std::vector<std::unique_ptr<LoadedRun>>& runs) {
  std::vector<std::string> steps;
  for (const auto& r : runs) steps.push_back(std::to_string(r->step));
  return fmt::format("{}", fmt::join(steps, ";"));
}

}  // namespace

std::string method_score_file(const RunPaths& run, const std::string& spec, const std::string& method) {
  auto path = run.score_file(spec);
  if (method == "loglik" || method == "bpd") return path;
  return path.substr(0, path.size() - 4) + "." + method + ".csv";
}

bool score_file_is_current(const std::string& path, const std::map<std::string, std::string>& meta) {
  if (path.empty() || !fs::exists(path)) return false;
  try {
    const auto t = io::read_score_csv(path);
    for (const auto& [key, value] : meta) {
      if (key == "precision" && value == "fp32" && !t.meta.count(key)) continue;  // files from before the key
      if (!t.meta.count(key) || t.meta.at(key) != value) return false;
    }
    return true;
  } catch (const Error&) {
    return false;
  }
}

MethodScorer::MethodScorer(const LoadedRun& run, std::string run_dir, ood::LoglikOptions options, int64_t limit,
                           MethodSources sources, std::string cache_dir)
    : run_(run),
      run_dir_(std::move(run_dir)),
      options_(std::move(options)),
      limit_(limit),
      sources_(std::move(sources)),
      cache_dir_(std::move(cache_dir)) {}

MethodScorer::~MethodScorer() = default;

std::map<std::string, std::string> MethodScorer::base_meta(const std::string& method, const std::string& spec) const {
  const auto& info = ood::score_method(method);
  return {{"spec", spec},
          {"score", method},
          {"higher_is_in", info.higher_is_in ? "true" : "false"},
          {"unit", info.unit},
          {"model", run_dir_},
          {"step", std::to_string(run_.step)},
          {"samples", std::to_string(options_.samples)},
          {"seed", std::to_string(options_.seed)},
          {"limit", std::to_string(limit_)},
          {"precision", flows::precision_name(flows::st_precision())}};
}

io::CsvTable MethodScorer::loglik_of(const LoadedRun& model, const std::string& model_dir, const std::string& spec,
                                     const std::string& cache_csv, bool bn_train) {
  std::map<std::string, std::string> meta = {{"spec", spec},
                                             {"score", "loglik"},
                                             {"higher_is_in", "true"},
                                             {"model", model_dir},
                                             {"step", std::to_string(model.step)},
                                             {"samples", std::to_string(options_.samples)},
                                             {"seed", std::to_string(options_.seed)},
                                             {"limit", std::to_string(limit_)},
                                             {"precision", flows::precision_name(flows::st_precision())}};
  if (score_file_is_current(cache_csv, meta)) {
    log().info("scores of {} under {} are current: {}", spec, model_dir, cache_csv);
    return io::read_score_csv(cache_csv);
  }
  const auto dataset = load_for_model(model.config.config, spec, limit_);
  auto options = options_;
  options.batch_norm_train_mode = bn_train;
  log().info("scoring {} under {} ({} examples, {} sample{} each{})", dataset.spec, model_dir, dataset.size(),
             options.samples, options.samples == 1 ? "" : "s", bn_train ? ", batch norm in train mode" : "");
  const auto scores = ood::score_loglik(*model.model.ptr(), dataset, options);
  meta["dataset"] = dataset.spec;
  auto table = io::make_loglik_score_table(scores.loglik, scores.bpd, labels_of(dataset), meta);
  if (!cache_csv.empty()) {
    fs::create_directories(fs::path(cache_csv).parent_path());
    io::write_score_csv(cache_csv, table);
  }
  return table;
}

const LoadedRun& MethodScorer::background() {
  if (!background_) {
    if (sources_.background_dir.empty() || !fs::exists(RunPaths{sources_.background_dir}.checkpoint()))
      throw ConfigError("scores", fmt::format("likelihood-ratio needs a background run ({}); `flowood run` trains it "
                                              "when scores lists likelihood-ratio, `score` takes --background DIR",
                                              sources_.background_dir.empty() ? "none given" : sources_.background_dir + " has no checkpoint"));
    background_ = std::make_unique<LoadedRun>(load_run(sources_.background_dir, run_.device));
  }
  return *background_;
}

const std::vector<std::unique_ptr<LoadedRun>>& MethodScorer::ensemble() {
  if (ensemble_.empty()) {
    if (sources_.ensemble_dirs.empty())
      throw ConfigError("score.ensemble", "waic needs other ensemble members; `flowood run` trains score.ensemble − 1 "
                                          "of them when scores lists waic, `score` takes --ensemble DIR (repeatable)");
    for (const auto& dir : sources_.ensemble_dirs) {
      ensemble_.push_back(std::make_unique<LoadedRun>(load_run(dir, run_.device)));
      if (ensemble_.back()->model->dim() != run_.model->dim())
        throw ConfigError("score.ensemble", fmt::format("{} models {} dimensions, this run {}", dir,
                                                        ensemble_.back()->model->dim(), run_.model->dim()));
    }
  }
  return ensemble_;
}

const ood::TypicalityReference& MethodScorer::typicality_reference() {
  if (!reference_) {
    const auto& cfg = run_.config.config;
    const auto& spec = sources_.typicality_reference.empty() ? cfg.data.train : sources_.typicality_reference;
    const auto cache = cache_dir_.empty() ? std::string() : method_score_file(RunPaths{run_dir_}, spec, "loglik");
    const auto table = loglik_of(run_, run_dir_, spec, cache);
    ood::TypicalityOptions o;
    o.batch = cfg.score.typicality_batch;
    o.bootstrap = cfg.score.typicality_bootstrap;
    o.alpha = cfg.score.typicality_alpha;
    o.seed = static_cast<uint64_t>(cfg.seed);
    reference_ = std::make_unique<ood::TypicalityReference>(ood::typicality_reference(table.column(io::kScoreLoglikColumn), o));
    log().info("typicality reference {}: {} examples, entropy estimate {:.2f} nats, threshold {:.3f} nats (M = {}, alpha {})",
               spec, reference_->n, reference_->entropy, reference_->threshold, o.batch, o.alpha);
  }
  return *reference_;
}

io::CsvTable MethodScorer::score(const std::string& method, const std::string& spec, const std::string& out_csv) {
  const auto& cfg = run_.config.config;
  const auto& info = ood::score_method(method);
  auto meta = base_meta(method, spec);
  const std::string own_cache = cache_dir_.empty() ? std::string() : method_score_file(RunPaths{run_dir_}, spec, "loglik");

  // Method-specific metadata, known before computing: a file whose metadata match is reused.
  if (method == "input-complexity") meta["codec"] = cfg.score.codec;
  if (method == "bn-train") meta["batch_size"] = std::to_string(options_.batch_size);
  if (method == "likelihood-ratio") {
    meta["background"] = sources_.background_dir;
    meta["background_step"] = std::to_string(background().step);
  }
  if (method == "waic") {
    meta["ensemble"] = fmt::format("{}", fmt::join(sources_.ensemble_dirs, ";"));
    meta["ensemble_steps"] = step_list(ensemble());
  }
  if (method == "typicality") {
    const auto& ref = typicality_reference();
    meta["batch_m"] = std::to_string(cfg.score.typicality_batch);
    meta["reference"] = sources_.typicality_reference.empty() ? cfg.data.train : sources_.typicality_reference;
    meta["entropy"] = fmt::format("{}", ref.entropy);
    meta["threshold"] = fmt::format("{}", ref.threshold);
  }
  if (method != "loglik" && method != "bpd" && score_file_is_current(out_csv, meta)) {
    log().info("{} scores of {} are current: {}", method, spec, out_csv);
    return io::read_score_csv(out_csv);
  }

  io::CsvTable table;
  const auto base = method == "bn-train" ? io::CsvTable{} : loglik_of(run_, run_dir_, spec, own_cache);
  if (!base.columns.empty()) meta["dataset"] = base.meta.at("dataset");
  if (method == "loglik" || method == "bpd") {
    table = base;
    table.meta["score"] = method;
    table.meta["higher_is_in"] = info.higher_is_in ? "true" : "false";
    table.meta["unit"] = info.unit;
  } else if (method == "input-complexity") {
    const auto dataset = load_for_model(cfg, spec, limit_);
    const auto bits = ood::compressed_bits(dataset.images, ood::parse_codec(cfg.score.codec));
    const auto& ll = base.column(io::kScoreLoglikColumn);
    table = per_example_table(base, meta, {{method, ood::input_complexity_scores(ll, bits)}, {"loglik", ll}, {"complexity_bits", bits}});
  } else if (method == "likelihood-ratio") {
    const auto bg_cache = cache_dir_.empty() ? std::string() : method_score_file(RunPaths{sources_.background_dir}, spec, "loglik");
    const auto bg = loglik_of(background(), sources_.background_dir, spec, bg_cache);
    const auto& ll = base.column(io::kScoreLoglikColumn);
    const auto& llb = bg.column(io::kScoreLoglikColumn);
    table = per_example_table(base, meta, {{method, ood::likelihood_ratio(ll, llb)}, {"loglik", ll}, {"loglik_background", llb}});
  } else if (method == "waic") {
    std::vector<std::vector<double>> members{base.column(io::kScoreLoglikColumn)};
    const auto& runs = ensemble();
    for (size_t k = 0; k < runs.size(); ++k) {
      const auto& dir = sources_.ensemble_dirs[k];
      const auto cache = cache_dir_.empty() ? std::string() : method_score_file(RunPaths{dir}, spec, "loglik");
      members.push_back(loglik_of(*runs[k], dir, spec, cache).column(io::kScoreLoglikColumn));
    }
    const auto w = ood::waic(members);
    std::vector<double> mean(w.size()), var(w.size());
    for (size_t i = 0; i < w.size(); ++i) {
      for (const auto& m : members) mean[i] += m[i] / static_cast<double>(members.size());
      var[i] = mean[i] - w[i];
    }
    table = per_example_table(base, meta, {{method, w}, {"loglik_mean", mean}, {"loglik_var", var}});
  } else if (method == "bn-train") {
    const auto bn = loglik_of(run_, run_dir_, spec, {}, /*bn_train=*/true);
    meta["dataset"] = bn.meta.at("dataset");
    table = per_example_table(bn, meta, {{method, bn.column(io::kScoreLoglikColumn)}, {"bpd", bn.column(io::kScoreBpdColumn)}});
  } else if (method == "typicality") {
    const auto& ref = typicality_reference();
    const auto batches = ood::typicality_batches(base.column(io::kScoreLoglikColumn), ref.entropy, cfg.score.typicality_batch);
    if (batches.empty())
      throw DataError(spec, fmt::format("has {} examples, fewer than one typicality batch of {}", base.num_rows(),
                                        cfg.score.typicality_batch));
    std::vector<double> index, first, eps, mean_nll;
    for (const auto& b : batches) {
      index.push_back(static_cast<double>(index.size()));
      first.push_back(static_cast<double>(b.first));
      eps.push_back(b.epsilon);
      mean_nll.push_back(b.mean_nll);
    }
    table.meta = meta;
    table.add_column("batch", std::move(index));
    table.add_column("first", std::move(first));
    table.add_column(method, std::move(eps));
    table.add_column("mean_nll", std::move(mean_nll));
  }
  if (!out_csv.empty()) {
    fs::create_directories(fs::path(out_csv).parent_path());
    io::write_score_csv(out_csv, table);
  }
  return table;
}

}  // namespace flowood::app
