// flowood import: a checkpoint trained by the authors' code → a flowood run directory.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "config_yaml.hpp"
#include "flowood/experiment/import_run.hpp"

namespace flowood::app {
namespace {
struct ImportOptions {
  std::string from = "flows-ood";
  std::string checkpoint;
  ConfigOptions config;
  std::string run_dir;
};

void run_import(const ImportOptions& o) {
  const auto config = load_config(o.config.config_path, o.config.overrides).config;
  const auto run = experiment::run_paths(o.run_dir, config);
  const auto result = experiment::import_checkpoint(o.from, o.checkpoint, config, run, yaml_codec());
  std::cerr << fmt::format("imported {} tensors{} from {}\n", result.tensors,
                           result.epoch ? fmt::format(" (epoch {})", *result.epoch) : "", o.checkpoint);
  std::cout << run.dir << "\n";
}
}  // namespace

void register_import(CLI::App& app) {
  auto o = std::make_shared<ImportOptions>();
  auto* cmd = app.add_subcommand("import", "Make a run directory from a checkpoint of the authors' code (flows-ood)");
  cmd->add_option("--from", o->from, "Format of the checkpoint: flows-ood (the authors' torch.save files)")
      ->capture_default_str();
  cmd->add_option("checkpoint", o->checkpoint, "The checkpoint (.pt) to import")->required();
  add_config_options(*cmd, o->config, true);
  cmd->add_option("--run-dir", o->run_dir, "Run directory to create (default: runs/<name>)");
  cmd->callback([o] { run_import(*o); });
}

}  // namespace flowood::app
