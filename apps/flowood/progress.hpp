#pragma once
// Renders training and scoring progress on stderr: a live bar on a terminal, plain log lines
// otherwise (CI logs, Slurm output files).
#include <cstdint>
#include <string>

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

/// "1m05s" style durations.
std::string format_duration(double seconds);

}  // namespace flowood::app
