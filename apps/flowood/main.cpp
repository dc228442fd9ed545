// flowood: likelihood-based OOD detection with normalizing flows. The one binary; each verb is
// registered from its own cmd_<verb>.cpp. Library errors are caught only here.
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "flowood/experiment/stages.hpp"
#include "flowood/core/device.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/version.hpp"

int main(int argc, char** argv) {
  flowood::keep_freed_memory();  // FLOWOOD_ALLOCATOR=keep-freed only; before any tensor exists
  CLI::App app{"flowood — why normalizing flows fail to detect out-of-distribution data, as experiments"};
  app.set_version_flag("--version", std::string("flowood ") + FLOWOOD_VERSION_STRING);
  app.require_subcommand(1);
  std::string log_level = "info";
  if (const char* env = std::getenv("SPDLOG_LEVEL")) log_level = env;
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off (default: $SPDLOG_LEVEL or info)");
  app.parse_complete_callback([&] {
    if (!flowood::set_log_level(log_level)) throw CLI::ValidationError("--log-level", "unknown level " + log_level);
  });

  flowood::app::register_run(app);
  flowood::app::register_train(app);
  flowood::app::register_score(app);
  flowood::app::register_embed(app);
  flowood::app::register_import(app);
  flowood::app::register_curve(app);
  flowood::app::register_info(app);
  flowood::app::register_auroc(app);
  flowood::app::register_histogram(app);
  flowood::app::register_visualize_latents(app);
  flowood::app::register_visualize_coupling(app);
  flowood::app::register_measures(app);
  flowood::app::register_sample(app);
  flowood::app::register_data(app);
  flowood::app::register_report(app);
  flowood::app::register_sweep(app);
  flowood::app::register_aggregate(app);
  flowood::app::register_bench(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const flowood::app::StoppedEarly& e) {
    std::cerr << "flowood: " << e.what() << "\n";
    return flowood::experiment::kExitStoppedResumable;
  } catch (const flowood::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::string what = e.what();
    const auto cut = what.find("\nException raised from");
    std::cerr << "internal error: " << what.substr(0, cut) << "\n";
    return 2;
  }
  return 0;
}
