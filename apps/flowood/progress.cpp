#include "progress.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <unistd.h>

#include <fmt/format.h>

#include "flowood/core/log.hpp"
#include "config_yaml.hpp"
#include "flowood/experiment/stages.hpp"

namespace flowood::app {
namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop.store(true); }

struct SignalScope {
  SignalScope() {
    g_stop.store(false);
    for (int sig : {SIGINT, SIGTERM, SIGUSR1}) std::signal(sig, on_stop_signal);
  }
  // Once a stop was requested the process is on its way to exit 75 with a checkpoint: a second
  // signal (an impatient Ctrl-C, Slurm's TERM after its USR1) must not kill it on the way, so the
  // handlers stay. Without a request, signals get their default meaning back (interrupt scoring).
  ~SignalScope() {
    if (!g_stop.load())
      for (int sig : {SIGINT, SIGTERM, SIGUSR1}) std::signal(sig, SIG_DFL);
  }
};
}  // namespace

train::TrainResult train_in_terminal(const config::ExperimentConfig& config, const experiment::RunPaths& run) {
  TrainProgressView view;
  experiment::TrainHooks hooks;
  hooks.progress = [&view](const train::TrainProgress& p) { view(p); };
  hooks.stop = &g_stop;
  SignalScope signals;
  auto result = experiment::train_stage(config, run, yaml_codec(), hooks);
  view.finish();
  return result;
}

TrainProgressView::TrainProgressView() : tty_(::isatty(STDERR_FILENO) == 1) {}

void TrainProgressView::operator()(const train::TrainProgress& p) {
  // The rate is over the steps of this (re)start: elapsed_s counts from it, not from step 0.
  const int64_t done_here = p.step - p.start_step;
  const double eta =
      done_here > 0 ? p.elapsed_s / static_cast<double>(done_here) * static_cast<double>(p.total_steps - p.step) : 0;
  const std::string test = p.test_bpd ? fmt::format("  test {:.4f} bpd", *p.test_bpd) : "";
  if (tty_) {
    constexpr int kWidth = 28;
    const int filled = p.total_steps > 0 ? static_cast<int>(kWidth * p.step / p.total_steps) : 0;
    const std::string bar = std::string(filled, '=') + (filled < kWidth ? ">" : "") +
                            std::string(std::max(0, kWidth - filled - 1), ' ');
    fmt::print(stderr, "\r[{}] {}/{} ep {}/{}  {:.4f} bpd  {:.1f} img/s  eta {}{}\033[K", bar, p.step, p.total_steps,
               p.epoch + 1, p.epochs, p.bpd, p.images_per_s, experiment::format_duration(eta), test);
    drawn_ = true;
    if (p.test_bpd) {
      fmt::print(stderr, "\n");
      drawn_ = false;
    }
    std::fflush(stderr);
  } else if (p.log_line) {
    log().info("step {}/{} epoch {}/{} loss {:.2f} nats {:.4f} bpd {:.1f} img/s eta {}{}", p.step, p.total_steps,
               p.epoch + 1, p.epochs, p.loss, p.bpd, p.images_per_s, experiment::format_duration(eta), test);
  }
}

void TrainProgressView::finish() {
  if (tty_ && drawn_) fmt::print(stderr, "\n");
  drawn_ = false;
}

}  // namespace flowood::app
