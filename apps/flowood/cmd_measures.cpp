// flowood measures: the paper's qualitative observations as numbers, mean ± sd over N images of
// each dataset — how well each coupling's −t predicts the values it transforms (paper §6), and
// how much the latents keep the input's edges (paper §5), for K-averaged latents and for
// latents with batch norm in train mode.
#include <iostream>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "config_yaml.hpp"
#include "flowood/core/device.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/rng.hpp"
#include "flowood/data/registry.hpp"
#include "flowood/flows/inspect.hpp"
#include "flowood/io/atomic_file.hpp"
#include "flowood/io/json_file.hpp"
#include "flowood/experiment/run_dir.hpp"
#include "flowood/experiment/stages.hpp"

namespace flowood::app {
namespace {
struct MeasuresOptions {
  std::string run_dir;
  std::string in;
  std::vector<std::string> ood;
  int64_t n = 64;
  int64_t samples = 40;
  int64_t batch = 32;
  int64_t seed = -1;
  std::string json;
  std::string device;
};

struct Stat {
  double mean = 0, sd = 0;
};
Stat stat_of(const std::vector<torch::Tensor>& parts) {
  const auto v = torch::cat(parts).to(torch::kFloat64);
  return {v.mean().item<double>(), v.numel() > 1 ? v.std(true).item<double>() : 0.0};
}

void run_measures(const MeasuresOptions& o) {
  if (!o.json.empty()) io::check_output_path(o.json, "--json");
  auto run = experiment::open_image_run(o.run_dir, o.device, "measures", yaml_codec());
  const auto device = run.device;
  auto& model = *run.model;
  const auto& cfg = run.config;
  if (model.input_shape().size() != 3) throw ConfigError("--run", "measures need an image model");
  const uint64_t seed = static_cast<uint64_t>(o.seed >= 0 ? o.seed : cfg.seed);
  const bool bn = flows::has_batch_norm(model);
  std::vector<std::string> specs{o.in.empty() ? cfg.data.test : o.in};
  for (const auto& s : o.ood.empty() ? cfg.data.ood : o.ood) specs.push_back(s);

  // rows: measure name → dataset → per-image values
  std::vector<std::string> names;
  std::map<std::string, std::map<std::string, std::vector<torch::Tensor>>> values;
  const auto record = [&](const std::string& name, const std::string& ds, const torch::Tensor& v) {
    if (values.find(name) == values.end()) names.push_back(name);
    values[name][ds].push_back(v.detach().cpu());
  };
  torch::NoGradGuard no_grad;
  std::vector<std::string> resolved;
  for (size_t d = 0; d < specs.size(); ++d) {
    const auto data = data::load_dataset(specs[d], experiment::roots_of(cfg), o.n);
    if (data.image_shape() != model.input_shape())
      throw DataError(specs[d], "images do not match the model's input shape");
    resolved.push_back(data.spec);
    for (int64_t start = 0; start < data.size(); start += o.batch) {
      const auto count = std::min(o.batch, data.size() - start);
      const auto x = data::to_model_input(data.images.narrow(0, start, count), device);
      const auto noise = [&](int64_t k) {
        return flows::uniform_noise_like(x, make_generator(seed, Stream::kEvalNoise, 10000 + d * 1000 + start, k));
      };
      model.eval();
      for (const auto& view : flows::trace_couplings(model, x, noise(0)))
        record(fmt::format("predictability error, {}", view.label), data.spec, flows::predictability_error(view));
      torch::Tensor latent_sum;
      for (int64_t k = 0; k < o.samples; ++k) {
        const auto z = flows::latent_image(model, x, noise(k));
        latent_sum = latent_sum.defined() ? latent_sum + z : z;
      }
      record("edge correlation, single latent", data.spec, flows::edge_correlation(flows::latent_image(model, x, noise(0)), x));
      record(fmt::format("edge correlation, latent mean of K={}", o.samples), data.spec,
             flows::edge_correlation(latent_sum / static_cast<double>(o.samples), x));
      if (bn) {
        record("edge correlation, batch norm train mode", data.spec,
               flows::edge_correlation(flows::latent_image_train_mode(model, x, noise(0)), x));
      }
    }
  }
  // Table: one row per measure, one column per dataset.
  size_t width = 7;
  for (const auto& n : names) width = std::max(width, n.size());
  std::cout << fmt::format("{:<{}}", "measure", width);
  for (const auto& s : resolved) std::cout << fmt::format("  {:>22}", s);
  std::cout << "\n";
  auto json_rows = io::Json::array();
  for (const auto& name : names) {
    std::cout << fmt::format("{:<{}}", name, width);
    auto per = io::Json::object();
    for (const auto& s : resolved) {
      const auto st = stat_of(values[name][s]);
      std::cout << fmt::format("  {:>22}", fmt::format("{:.4f} ± {:.4f}", st.mean, st.sd));
      per[s] = io::Json{{"mean", st.mean}, {"sd", st.sd}};
    }
    std::cout << "\n";
    json_rows.push_back(io::Json{{"measure", name}, {"datasets", per}});
  }
  if (!bn) std::cout << "(" << model.name() << " has no batch norm: no train-mode row)\n";
  if (!o.json.empty()) {
    io::write_json_file(o.json, io::Json{
                                    {"run", o.run_dir},
                                    {"model", model.name()},
                                    {"images_per_dataset", o.n},
                                    {"samples", o.samples},
                                    {"measures", json_rows}});
    std::cout << o.json << "\n";
  }
}
}  // namespace

void register_measures(CLI::App& app) {
  auto o = std::make_shared<MeasuresOptions>();
  auto* cmd = app.add_subcommand(
      "measures", "The paper's observations as numbers: coupling predictability and latent edge correlation");
  cmd->add_option("run", o->run_dir, "Run directory of a trained model")->required();
  cmd->add_option("--in", o->in, "In-distribution dataset spec (default: the run's data.test)");
  cmd->add_option("--ood", o->ood, "OOD dataset specs (default: the run's data.ood)");
  cmd->add_option("-n,--n", o->n, "Images per dataset (the first N)")->check(CLI::PositiveNumber);
  cmd->add_option("--samples,-k", o->samples, "Dequantisation samples K of the averaged latent")->check(CLI::PositiveNumber);
  cmd->add_option("--batch-size", o->batch, "Images per batch; also the batch whose statistics train-mode batch norm uses")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--json", o->json, "Also write the table as JSON here");
  cmd->add_option("--seed", o->seed, "Noise seed (default: the run's seed)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--device", o->device, "auto, cpu, cuda or cuda:N (default: the run's device)");
  cmd->callback([o] { run_measures(*o); });
}

}  // namespace flowood::app
