// flowood visualize-latents: the paper's Fig. 2 — inputs, their latents in image layout, latents
// averaged over K dequantisation samples, and latents with batch norm in train mode.
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "config_yaml.hpp"
#include "flowood/core/device.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/core/rng.hpp"
#include "flowood/flows/flow_model.hpp"
#include "flowood/flows/inspect.hpp"
#include "flowood/io/atomic_file.hpp"
#include "flowood/io/npy.hpp"
#include "flowood/viz/grid.hpp"
#include "picks.hpp"
#include "flowood/experiment/run_dir.hpp"

namespace flowood::app {
namespace {
struct LatentsOptions {
  std::string run_dir;
  std::vector<std::string> images;
  int64_t first = 1;
  int64_t samples = 40;
  int64_t bn_batch = 32;
  std::string channel = "all";
  std::string out;
  std::string npy_dir;
  int64_t seed = -1;
  int pixel = 4;
  std::string device;
};

void run_latents(const LatentsOptions& o) {
  const std::string out = o.out.empty() ? o.run_dir + "/latents.png" : o.out;
  io::check_output_path(out, "--out");
  if (!o.npy_dir.empty()) io::prepare_output_dir(o.npy_dir, "--npy");
  auto run = experiment::open_image_run(o.run_dir, o.device, "visualize-latents", yaml_codec());
  const auto device = run.device;
  auto& model = *run.model;
  const auto& cfg = run.config;
  if (model.input_shape().size() != 3) throw ConfigError("--run", "visualize-latents needs an image model");
  const int64_t channels = model.input_shape()[0];
  int64_t channel = -1;
  if (o.channel != "all") {
    try {
      channel = std::stoll(o.channel);
    } catch (const std::exception&) {
      channel = -2;
    }
    if (channel < 0 || channel >= channels)
      throw ConfigError("--channel", fmt::format("must be all or 0..{} (got '{}')", channels - 1, o.channel));
  }
  const uint64_t seed = static_cast<uint64_t>(o.seed >= 0 ? o.seed : cfg.seed);
  const bool bn = flows::has_batch_norm(model);
  if (!bn) std::cout << "note: " << model.name() << " has no batch norm: no train-mode column\n";

  const auto picks = o.images.empty() ? default_picks(cfg) : o.images;
  std::vector<std::vector<viz::Panel>> rows;
  std::vector<std::string> labels;
  std::vector<torch::Tensor> xs, zs, means, bns;
  const auto show = [&](const torch::Tensor& v) {
    return channel >= 0 ? v.narrow(0, channel, 1) : v;
  };
  torch::NoGradGuard no_grad;
  for (size_t pi = 0; pi < picks.size(); ++pi) {
    const auto pick = load_pick(picks[pi], o.first, bn ? o.bn_batch : 0, cfg, model.input_shape(), "--image");
    const auto x = data::to_model_input(pick.images, device);
    const auto noise = [&](int64_t k) { return flows::uniform_noise_like(x, make_generator(seed, Stream::kEvalNoise, 7000 + pi, k)); };
    model.eval();
    const auto z = flows::latent_image(model, x, noise(0));
    auto mean = torch::zeros_like(z);
    for (int64_t k = 0; k < o.samples; ++k) mean += flows::latent_image(model, x, noise(k));
    mean /= static_cast<double>(o.samples);
    torch::Tensor z_bn;
    if (bn) {
      // Batch statistics of the picked images followed by the dataset's first images, bn_batch in all.
      const auto rest = std::max<int64_t>(0, o.bn_batch - x.size(0));
      const auto batch = torch::cat({x, data::to_model_input(pick.dataset.images.narrow(0, 0, std::min(rest, pick.dataset.size())), device)});
      z_bn = flows::latent_image_train_mode(
                 model, batch, flows::uniform_noise_like(batch, make_generator(seed, Stream::kEvalNoise, 8000 + pi)))
                 .narrow(0, 0, x.size(0));
    }
    for (int64_t i = 0; i < x.size(0); ++i) {
      std::vector<viz::Panel> row{{x[i], viz::PanelScale::kUnit},
                                  {show(z[i]), viz::PanelScale::kClip, -2.0, 2.0},
                                  {show(mean[i]), viz::PanelScale::kClip, -2.0, 2.0}};
      if (bn) row.push_back({show(z_bn[i]), viz::PanelScale::kClip, -2.0, 2.0});
      rows.push_back(std::move(row));
      labels.push_back(pick.labels[static_cast<size_t>(i)]);
    }
    xs.push_back(x.cpu());
    zs.push_back(z.cpu());
    means.push_back(mean.cpu());
    if (bn) bns.push_back(z_bn.cpu());
  }
  const std::string ch = channel >= 0 ? fmt::format(" (channel {})", channel) : "";
  std::vector<std::string> columns{"input x", "latent z" + ch, fmt::format("mean of K={}", o.samples) + ch};
  if (bn) columns.push_back("batch norm train mode" + ch);
  viz::GridOptions grid;
  grid.pixel = o.pixel;
  grid.title = fmt::format("{}: latents in image layout, clipped to [-2, 2]", cfg.name);
  viz::write_grid_png(out, rows, labels, columns, grid);
  std::cout << out << "\n";
  if (!o.npy_dir.empty()) {
    io::write_npy(o.npy_dir + "/x.npy", torch::cat(xs));
    io::write_npy(o.npy_dir + "/z.npy", torch::cat(zs));
    io::write_npy(o.npy_dir + "/z_mean.npy", torch::cat(means));
    if (bn) io::write_npy(o.npy_dir + "/z_bn_train.npy", torch::cat(bns));
    std::cout << o.npy_dir << "/{x,z,z_mean" << (bn ? ",z_bn_train" : "") << "}.npy\n";
  }
}
}  // namespace

void register_visualize_latents(CLI::App& app) {
  auto o = std::make_shared<LatentsOptions>();
  auto* cmd = app.add_subcommand("visualize-latents",
                                 "Inputs and their latents in image layout (paper Fig. 2): single, K-averaged, batch norm in train mode");
  cmd->add_option("run", o->run_dir, "Run directory of a trained model")->required();
  cmd->add_option("--image", o->images,
                  "SPEC#I,J (images I, J of a dataset) or SPEC (its first --first images); repeatable. "
                  "Default: the run's data.test #4 and first data.ood #10");
  cmd->add_option("--first", o->first, "Images taken from a SPEC given without #")->check(CLI::PositiveNumber);
  cmd->add_option("--samples,-k", o->samples, "Dequantisation samples K averaged")->check(CLI::PositiveNumber);
  cmd->add_option("--bn-batch", o->bn_batch, "Batch size whose statistics batch norm uses in train mode")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--channel", o->channel, "Latent channel shown: all (RGB for colour) or an index (the paper shows blue, 2)");
  cmd->add_option("--out", o->out, "PNG to write (default RUN/latents.png)");
  cmd->add_option("--npy", o->npy_dir, "Also write x, z, z_mean, z_bn_train as .npy into this directory");
  cmd->add_option("--seed", o->seed, "Noise seed (default: the run's seed)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--pixel", o->pixel, "Screen pixels per image pixel")->check(CLI::Range(1, 32));
  cmd->add_option("--device", o->device, "auto, cpu, cuda or cuda:N (default: the run's device)");
  cmd->callback([o] { run_latents(*o); });
}

}  // namespace flowood::app
