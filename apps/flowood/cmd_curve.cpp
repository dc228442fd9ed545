// flowood curve: test bits/dim and AUROC at every checkpoint a run kept (train.keep_checkpoints).
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "config_yaml.hpp"
#include "flowood/experiment/curve.hpp"

namespace flowood::app {
namespace {
struct CurveOptions {
  std::string run_dir;
  int64_t limit = 0;
  std::string device;
  std::string out_dir;
};

void run_curve(const CurveOptions& o) {
  const experiment::RunPaths run{o.run_dir};
  const auto curve = experiment::training_curve(run, yaml_codec(), o.limit, o.device);
  const auto files = experiment::write_training_curve(curve, o.out_dir.empty() ? o.run_dir : o.out_dir);
  std::cout << fmt::format("{:>8}  {:>9}", "step", "test bpd");
  for (const auto& spec : curve.ood) std::cout << fmt::format("  {:>12}", spec.substr(0, 12));
  std::cout << "\n";
  for (const auto& p : curve.points) {
    std::cout << fmt::format("{:>8}  {:>9.4f}", p.step, p.test_bpd);
    for (const auto a : p.auroc) std::cout << fmt::format("  {:>12.4f}", a);
    std::cout << "\n";
  }
  for (const auto& f : files) std::cerr << "wrote " << f << "\n";
}
}  // namespace

void register_curve(CLI::App& app) {
  auto o = std::make_shared<CurveOptions>();
  auto* cmd = app.add_subcommand("curve", "Test bits/dim and log-likelihood AUROC at every checkpoint a run kept "
                                          "(train.keep_checkpoints), as CSV and PNG");
  cmd->add_option("run", o->run_dir, "Run directory")->required();
  cmd->add_option("--limit", o->limit, "Images per set (default: the run's data.test_limit)");
  cmd->add_option("--device", o->device, "auto, cpu, cuda or cuda:N (default: the run's device)");
  cmd->add_option("--out-dir", o->out_dir, "Where curve.csv, curve_bpd.png, curve_auroc.png go (default: the run directory)");
  cmd->callback([o] { run_curve(*o); });
}

}  // namespace flowood::app
