// flowood sample: images drawn from a trained flow, z ~ N(0, T²·I) mapped through the inverse.
#include <cmath>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "config_yaml.hpp"
#include "flowood/core/device.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/rng.hpp"
#include "flowood/io/atomic_file.hpp"
#include "flowood/io/npy.hpp"
#include "flowood/viz/grid.hpp"
#include "flowood/experiment/run_dir.hpp"

namespace flowood::app {
namespace {
struct SampleOptions {
  std::string run_dir;
  int64_t n = 36;
  double temperature = 1.0;
  int64_t seed = -1;
  std::string out;
  std::string npy;
  int pixel = 3;
  std::string device;
};

void run_sample(const SampleOptions& o) {
  if (!(o.temperature > 0 && std::isfinite(o.temperature)))
    throw ConfigError("--temperature", fmt::format("must be > 0 (got {})", o.temperature));
  const auto stored = load_config(experiment::RunPaths{o.run_dir}.config(), {});
  const bool image = stored.config.model.in_shape.size() == 3;
  const std::string out = o.out.empty() && image ? o.run_dir + "/samples.png" : o.out;
  if (!image && !out.empty()) throw ConfigError("--out", "tabular models have no images to draw; use --npy");
  if (!out.empty()) io::check_output_path(out, "--out");
  if (!o.npy.empty()) io::check_output_path(o.npy, "--npy");
  auto run = experiment::open_image_run(o.run_dir, o.device, "sample", yaml_codec());
  auto& model = *run.model;
  const uint64_t seed = static_cast<uint64_t>(o.seed >= 0 ? o.seed : stored.config.seed);
  torch::NoGradGuard no_grad;
  model.eval();
  auto gen = make_generator(seed, Stream::kEvalNoise, 424242);
  const auto z = at::randn({o.n, model.dim()}, gen, torch::TensorOptions().dtype(torch::kFloat32)) * o.temperature;
  auto x = model.inverse(z.to(run.device)).cpu();
  const auto bad = (~torch::isfinite(x)).flatten(1).any(1).sum().item<int64_t>();
  if (bad > 0) std::cout << "note: " << bad << " of " << o.n << " samples have non-finite values (shown black)\n";
  x = torch::nan_to_num(x, 0.0, 0.0, 0.0);
  if (!out.empty()) {
    const auto cols = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(o.n))));
    std::vector<std::vector<viz::Panel>> rows;
    for (int64_t i = 0; i < o.n; i += cols) {
      std::vector<viz::Panel> row;
      for (int64_t j = i; j < i + cols; ++j) row.push_back(j < o.n ? viz::Panel{x[j].clamp(0, 1)} : viz::Panel{});
      rows.push_back(std::move(row));
    }
    viz::GridOptions grid;
    grid.pixel = o.pixel;
    grid.title = fmt::format("{}: {} samples, temperature {}", stored.config.name, o.n, o.temperature);
    viz::write_grid_png(out, rows, {}, {}, grid);
    std::cout << out << "\n";
  }
  if (!o.npy.empty()) {
    io::write_npy(o.npy, x);
    std::cout << o.npy << "\n";
  }
}
}  // namespace

void register_sample(CLI::App& app) {
  auto o = std::make_shared<SampleOptions>();
  auto* cmd = app.add_subcommand("sample", "Draw samples from a trained flow as a PNG grid");
  cmd->add_option("run", o->run_dir, "Run directory of a trained model")->required();
  cmd->add_option("-n,--n", o->n, "Number of samples")->check(CLI::Range(1, 10000));
  cmd->add_option("--temperature,-t", o->temperature, "Standard deviation T of the latent draw z ~ N(0, T²I)");
  cmd->add_option("--out", o->out, "PNG to write (default RUN/samples.png for image models)");
  cmd->add_option("--npy", o->npy, "Also write the samples as .npy ([n, C, H, W] pixels in [0, 1], or [n, D])");
  cmd->add_option("--seed", o->seed, "Seed of the latent draw (default: the run's seed)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--pixel", o->pixel, "Screen pixels per image pixel")->check(CLI::Range(1, 32));
  cmd->add_option("--device", o->device, "auto, cpu, cuda or cuda:N (default: the run's device)");
  cmd->callback([o] { run_sample(*o); });
}

}  // namespace flowood::app
