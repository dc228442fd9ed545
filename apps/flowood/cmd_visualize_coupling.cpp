// flowood visualize-coupling: the paper's Figs. 1b,c and 3 — for every coupling layer, the
// layer's input and output activations, the scale exp(s) and the shift −t at full resolution,
// for an in-distribution and an OOD image side by side.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "config_yaml.hpp"
#include "flowood/core/device.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/rng.hpp"
#include "flowood/flows/inspect.hpp"
#include "flowood/io/atomic_file.hpp"
#include "flowood/viz/grid.hpp"
#include "picks.hpp"
#include "flowood/experiment/run_dir.hpp"

namespace flowood::app {
namespace {
struct CouplingOptions {
  std::string run_dir;
  std::vector<std::string> images;
  std::string out;
  int64_t seed = -1;
  int pixel = 3;
  std::string device;
};

void run_coupling(const CouplingOptions& o) {
  const std::string out = o.out.empty() ? o.run_dir + "/coupling.png" : o.out;
  io::check_output_path(out, "--out");
  auto run = experiment::open_image_run(o.run_dir, o.device, "visualize-coupling", yaml_codec());
  const auto device = run.device;
  auto& model = *run.model;
  const auto& cfg = run.config;
  if (model.input_shape().size() != 3) throw ConfigError("--run", "visualize-coupling needs an image model");
  const uint64_t seed = static_cast<uint64_t>(o.seed >= 0 ? o.seed : cfg.seed);
  const auto picks = o.images.empty() ? default_picks(cfg) : o.images;

  torch::NoGradGuard no_grad;
  model.eval();
  std::vector<std::vector<flows::CouplingView>> per_image;  // [image][layer]
  std::vector<std::string> image_labels;
  for (size_t pi = 0; pi < picks.size(); ++pi) {
    const auto pick = load_pick(picks[pi], 1, 0, cfg, model.input_shape(), "--image");
    const auto x = data::to_model_input(pick.images, device);
    const auto u = flows::uniform_noise_like(x, make_generator(seed, Stream::kEvalNoise, 9000 + pi));
    const auto views = flows::trace_couplings(model, x, u);
    for (int64_t i = 0; i < x.size(0); ++i) {
      std::vector<flows::CouplingView> mine;
      for (const auto& v : views) {
        auto w = v;
        w.input = v.input[i];
        w.output = v.output[i];
        w.scale = v.scale[i];
        w.shift = v.shift[i];
        w.region = v.region[i];
        mine.push_back(std::move(w));
      }
      per_image.push_back(std::move(mine));
      image_labels.push_back(pick.labels[static_cast<size_t>(i)]);
    }
  }
  if (per_image.empty() || per_image[0].empty()) throw ConfigError("--run", "the model has no coupling layers");
  std::vector<std::string> columns;
  for (const auto& label : image_labels)
    for (const auto* what : {"input", "output", "exp(s)", "-t"}) columns.push_back(fmt::format("{} {}", what, label));
  std::vector<std::vector<viz::Panel>> rows;
  std::vector<std::string> row_labels;
  for (size_t layer = 0; layer < per_image[0].size(); ++layer) {
    std::vector<viz::Panel> row;
    for (const auto& views : per_image) {
      const auto& v = views[layer];
      for (const auto& t : {v.input, v.output, v.scale, v.shift}) row.push_back({t, viz::PanelScale::kStandardise});
    }
    rows.push_back(std::move(row));
    row_labels.push_back(per_image[0][layer].label);
  }
  // Column labels name the image once per group of four, which keeps the figure narrow.
  for (size_t c = 0; c < columns.size(); ++c)
    if (c % 4 != 0) columns[c] = columns[c].substr(0, columns[c].find(' '));
  viz::GridOptions grid;
  grid.pixel = o.pixel;
  grid.title = fmt::format("{}: coupling layers (each panel standardised)", cfg.name);
  viz::write_grid_png(out, rows, row_labels, columns, grid);
  std::cout << out << "\n";
}
}  // namespace

void register_visualize_coupling(CLI::App& app) {
  auto o = std::make_shared<CouplingOptions>();
  auto* cmd = app.add_subcommand("visualize-coupling",
                                 "Per coupling layer: input, output, exp(s) and -t at full resolution (paper Figs. 1b,c, 3)");
  cmd->add_option("run", o->run_dir, "Run directory of a trained model")->required();
  cmd->add_option("--image", o->images,
                  "SPEC#I (image I of a dataset; repeatable). Default: the run's data.test #4 and first data.ood #10");
  cmd->add_option("--out", o->out, "PNG to write (default RUN/coupling.png)");
  cmd->add_option("--seed", o->seed, "Noise seed (default: the run's seed)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--pixel", o->pixel, "Screen pixels per image pixel")->check(CLI::Range(1, 32));
  cmd->add_option("--device", o->device, "auto, cpu, cuda or cuda:N (default: the run's device)");
  cmd->callback([o] { run_coupling(*o); });
}

}  // namespace flowood::app
