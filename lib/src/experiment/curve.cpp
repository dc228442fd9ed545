#include "flowood/experiment/curve.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/device.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/experiment/stages.hpp"
#include "flowood/flows/factory.hpp"
#include "flowood/io/csv.hpp"
#include "flowood/ood/curves.hpp"
#include "flowood/ood/metrics.hpp"
#include "flowood/ood/score.hpp"
#include "flowood/train/checkpoint.hpp"
#include "flowood/viz/lines.hpp"

namespace flowood::experiment {
namespace fs = std::filesystem;

namespace {
/// step → checkpoint file: the kept ones, then the final one when its step is new.
std::map<int64_t, std::string> checkpoints_of(const RunPaths& run) {
  std::map<int64_t, std::string> out;
  const fs::path dir = fs::path(run.dir) / "checkpoints";
  // step-<1 to 15 digits>.pt
  const auto step_of = [](const std::string& file) -> int64_t {
    if (file.size() < 9 || file.compare(0, 5, "step-") != 0 || file.compare(file.size() - 3, 3, ".pt") != 0) return -1;
    const auto digits = file.substr(5, file.size() - 8);
    if (digits.empty() || digits.size() > 15 || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::stoll(digits);
  };
  std::error_code ec;
  if (fs::is_directory(dir, ec))
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (const auto step = step_of(entry.path().filename().string()); step >= 0) out[step] = entry.path().string();
  if (out.empty())
    throw IoError(dir.string(), "the run kept no checkpoints: train it with train.keep_checkpoints: true "
                                "(each checkpoint then stays as checkpoints/step-N.pt)");
  if (fs::exists(run.checkpoint())) {
    const auto step = train::read_checkpoint_info(run.checkpoint()).step;
    if (!out.count(step)) out[step] = run.checkpoint();
  }
  return out;
}

}  // namespace

TrainingCurve training_curve(const RunPaths& run, const ConfigCodec& codec, int64_t limit,
                             const std::string& device_flag) {
  if (!fs::exists(run.config())) throw IoError(run.config(), "run directory has no config.yaml");
  const auto config = codec.read(run.config(), {});
  apply_threads(config);
  const auto device = resolve_device(device_flag.empty() ? config.device : device_flag, device_flag.empty() ? "device" : "--device");
  const auto files = checkpoints_of(run);
  TrainingCurve curve;
  curve.test = config.data.test;
  curve.ood = config.data.ood;
  curve.limit = limit > 0 ? limit : config.data.test_limit;
  if (curve.ood.empty()) throw ConfigError("data.ood", "a training curve needs at least one OOD set");

  const auto test = load_for_model(config, curve.test, curve.limit, run.dir);
  std::vector<data::ImageDataset> ood;
  for (const auto& spec : curve.ood) ood.push_back(load_for_model(config, spec, curve.limit, run.dir));
  ood::LoglikOptions options;
  options.batch_size = config.score.batch_size;
  options.samples = config.score.samples;
  options.seed = static_cast<uint64_t>(config.seed);

  for (const auto& [step, path] : files) {
    auto model = flows::make_flow(config.model);
    const auto info = train::load_checkpoint(path, *model, nullptr, device);
    if (codec.parse && !info.config_text.empty()) {
      const auto changed = resume_conflicts(codec.parse(info.config_text, path + " (its stored config)"), config);
      if (!changed.empty())
        throw IoError(path, fmt::format("belongs to another config than {}; changed: {}", run.config(),
                                        fmt::join(changed, ", ")));
    }
    model->eval();
    CurvePoint point;
    point.step = info.step;
    const auto in = ood::score_loglik(*model, test, options);
    const auto finite = [&](const ood::LoglikScores& s, const std::string& spec) {
      for (const auto v : s.loglik)
        if (std::isnan(v) || v == INFINITY)
          throw DataError(path, fmt::format("gives {} a NaN or +inf log-likelihood at step {}: a numerically broken model",
                                            spec, info.step));
    };
    finite(in, curve.test);
    point.test_bpd = ood::mean_sd(in.bpd).mean;
    for (size_t k = 0; k < ood.size(); ++k) {
      const auto out = ood::score_loglik(*model, ood[k], options);
      finite(out, curve.ood[k]);
      point.auroc.push_back(ood::auroc(in.loglik, out.loglik));
    }
    log().info("step {}: test {:.4f} bits/dim, AUROC {}", point.step, point.test_bpd, fmt::join(point.auroc, ", "));
    curve.points.push_back(std::move(point));
  }
  return curve;
}

std::vector<std::string> write_training_curve(const TrainingCurve& curve, const std::string& dir) {
  io::CsvTable table;
  table.meta = {{"test", curve.test}, {"limit", std::to_string(curve.limit)}, {"score", "loglik"}};
  std::vector<double> steps, bpd;
  for (const auto& p : curve.points) {
    steps.push_back(static_cast<double>(p.step));
    bpd.push_back(p.test_bpd);
  }
  table.add_column("step", steps);
  table.add_column("test_bpd", bpd);
  std::vector<viz::LineSeries> auroc_series;
  for (size_t k = 0; k < curve.ood.size(); ++k) {
    std::vector<double> a;
    for (const auto& p : curve.points) a.push_back(p.auroc.at(k));
    table.add_column(fmt::format("auroc[{}]", curve.ood[k]), a);
    auroc_series.push_back({curve.ood[k], steps, a, false});
  }
  const std::string csv = dir + "/curve.csv", bpd_png = dir + "/curve_bpd.png", auroc_png = dir + "/curve_auroc.png";
  io::write_csv(csv, table);
  viz::LinePlotOptions o;
  o.x_label = "training step";
  o.title = fmt::format("test bits/dim ({}, first {} images)", curve.test, curve.limit);
  o.y_label = "bits/dim";
  viz::write_line_plot_png(bpd_png, {{"test " + curve.test, steps, bpd, false}}, o);
  o.title = fmt::format("log-likelihood AUROC, {} against each OOD set", curve.test);
  o.y_label = "AUROC (0.5 = chance)";
  o.y_range = std::make_pair(0.0, 1.0);
  viz::write_line_plot_png(auroc_png, auroc_series, o);
  return {csv, bpd_png, auroc_png};
}

}  // namespace flowood::experiment
