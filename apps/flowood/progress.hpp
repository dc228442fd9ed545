#pragma once
// Renders training progress on stderr: a live bar on a terminal, plain log lines otherwise (CI
// logs, Slurm output files); stop signals end training after the current step.
#include <cstdint>
#include <string>

#include "flowood/experiment/run_dir.hpp"
#include "flowood/train/trainer.hpp"

namespace flowood::app {

class TrainProgressView {
 public:
  TrainProgressView();
  void operator()(const train::TrainProgress& p);
  /// Ends the bar line (call once after training).
  void finish();

 private:
  bool tty_;
  bool drawn_ = false;
};

/// experiment::train_stage as the verbs run it: progress on stderr, the YAML codec, and SIGINT,
/// SIGTERM or SIGUSR1 stopping it after the current step with a checkpoint (result.stopped).
train::TrainResult train_in_terminal(const config::ExperimentConfig& config, const experiment::RunPaths& run);

}  // namespace flowood::app
