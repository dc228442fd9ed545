// flowood score: one score method (docs/scores.md) on a dataset under a trained run.
#include <algorithm>
#include <cstdio>
#include <unistd.h>
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.hpp"
#include "config_yaml.hpp"
#include "flowood/core/device.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/flows/precision.hpp"
#include "flowood/io/atomic_file.hpp"
#include "flowood/io/npy.hpp"
#include "flowood/ood/curves.hpp"
#include "flowood/experiment/scoring.hpp"
#include "flowood/experiment/stages.hpp"

namespace fs = std::filesystem;

namespace flowood::app {
namespace {
struct ScoreOptions {
  std::string run_dir;
  std::string data;
  std::string out;
  std::string method = "loglik";
  std::string npy;
  bool no_npy = false;
  int64_t samples = 0;
  int64_t batch_size = 0;
  int64_t limit = 0;
  int64_t seed = -1;
  std::string device;
  std::string background;
  std::vector<std::string> ensemble;
  std::string reference;
  std::string heldout;
  std::string precision = "fp32";
};

void run_score(const ScoreOptions& o) {
  const auto& info = ood::score_method(o.method, "--method");
  const auto precision = flows::parse_precision(o.precision);
  io::check_output_path(o.out, "--out");
  std::string npy = o.no_npy ? std::string() : o.npy.empty() ? fs::path(o.out).replace_extension(".npy").string() : o.npy;
  if (!npy.empty() && fs::path(npy).lexically_normal() == fs::path(o.out).lexically_normal())
    throw ConfigError(o.npy.empty() ? "--out" : "--npy",
                      fmt::format("the CSV and the .npy would both be {}: give --npy another path, or --no-npy", o.out));
  if (!npy.empty()) io::check_output_path(npy, "--npy");
  const auto run = experiment::open_run(o.run_dir, o.device, yaml_codec());
  flows::check_bf16_supported(precision, run.device.is_cuda());
  flows::set_st_precision(precision);
  const auto& cfg = run.config;
  ood::LoglikOptions options;
  options.batch_size = o.batch_size > 0 ? o.batch_size : cfg.score.batch_size;
  options.samples = o.samples > 0 ? o.samples : cfg.score.samples;
  options.seed = static_cast<uint64_t>(o.seed >= 0 ? o.seed : cfg.seed);
  experiment::MethodScorer scorer(run, o.run_dir, options, o.limit,
                                  experiment::default_sources(o.run_dir, cfg, o.background, o.ensemble, o.reference, o.heldout),
                                  yaml_codec());
  // A current file (same metadata) is reused; otherwise it is replaced atomically when the table is
  // ready. The .npy is written first under a pending name and moved into place after the CSV, so a
  // failed write (a full disk) leaves the old pair, never a new CSV beside an old .npy.
  const auto pending = npy.empty() ? std::string() : npy + ".pending." + std::to_string(::getpid());
  io::CsvTable table;
  try {
    table = scorer.score(o.method, o.data, o.out, [&](const io::CsvTable& t) {
      if (!pending.empty()) io::write_npy(pending, t.column(o.method), io::NpyDtype::kFloat64);
    });
  } catch (...) {
    if (!pending.empty()) std::remove(pending.c_str());
    throw;
  }
  if (!pending.empty() && fs::exists(pending)) {
    std::error_code ec;
    fs::rename(pending, npy, ec);
    if (ec) throw IoError(npy, "cannot move the .npy into place: " + ec.message());
  } else if (!npy.empty()) {
    io::write_npy(npy, table.column(o.method), io::NpyDtype::kFloat64);
  }
  if (o.method == "loglik" || o.method == "bpd") {
    std::cout << experiment::score_summary(table) << "\n";
  } else {
    const auto s = ood::mean_sd(table.column(o.method));
    std::cout << fmt::format("{:<24} n={:<6} {} {:.4g} ± {:.4g} {} ({} = more in-distribution)\n",
                             table.meta.count("dataset") ? table.meta.at("dataset") : o.data, table.num_rows(), o.method,
                             s.mean, s.sd, info.unit, info.higher_is_in ? "higher" : "lower");
  }
  std::cout << o.out << "\n";
  if (!npy.empty()) std::cout << npy << "\n";
}
}  // namespace

void register_score(CLI::App& app) {
  auto o = std::make_shared<ScoreOptions>();
  auto* cmd = app.add_subcommand("score", "Score a dataset under a trained run with one OOD score method");
  cmd->add_option("--run", o->run_dir, "Run directory of a trained model")->required();
  cmd->add_option("--data", o->data, "Dataset spec: NAME[:SPLIT] or KIND:PATH[?OPTIONS]")->required();
  cmd->add_option("--out", o->out, "Score CSV to write (index,label,<method>,…; typicality: one row per batch)")->required();
  cmd->add_option("--method", o->method,
                  fmt::format("Score method: {} (default loglik)", fmt::join(ood::score_method_names(), ", ")));
  cmd->add_option("--npy", o->npy, "Also write the score column as .npy here (default: OUT with .npy)");
  cmd->add_flag("--no-npy", o->no_npy, "Do not write the .npy file");
  cmd->add_option("--samples,-k", o->samples, "Dequantisation samples per image, log-mean-exp (default: score.samples)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--batch-size", o->batch_size, "Images per batch (default: score.batch_size; bn-train normalises "
                                                 "with each batch's statistics)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--limit", o->limit, "Score only the first N examples")->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", o->seed, "Noise seed (default: the run's seed)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--device", o->device, "auto, cpu, cuda or cuda:N (default: the run's device)");
  cmd->add_option("--precision", o->precision,
                  "fp32, or bf16: st-networks under bfloat16 autocast (log-dets, logit, prior stay float32)")
      ->capture_default_str();
  cmd->add_option("--background", o->background, "likelihood-ratio: background run (default: RUN/background)");
  cmd->add_option("--ensemble", o->ensemble,
                  "waic: another ensemble member's run directory, repeatable (default: RUN/ensemble/*)");
  cmd->add_option("--reference", o->reference,
                  "typicality: in-distribution spec of the entropy estimate (default: score.typicality_reference, "
                  "else data.train)");
  cmd->add_option("--heldout", o->heldout,
                  "typicality: held-out in-distribution spec of the threshold (default: score.typicality_heldout, else "
                  "data.test after data.test_limit)");
  cmd->callback([o] { run_score(*o); });
}

}  // namespace flowood::app
