#include "progress.hpp"

#include <cstdio>
#include <unistd.h>

#include <fmt/format.h>

#include "flowood/core/log.hpp"

namespace flowood::app {

std::string format_duration(double s) {
  if (!(s >= 0) || s > 1e7) return "?";
  const auto total = static_cast<int64_t>(s + 0.5);
  if (total < 60) return fmt::format("{}s", total);
  if (total < 3600) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
}

TrainProgressView::TrainProgressView() : tty_(::isatty(STDERR_FILENO) == 1) {}

void TrainProgressView::operator()(const train::TrainProgress& p) {
  const double eta = p.images_per_s > 0 && p.step > 0
                         ? p.elapsed_s / std::max<int64_t>(p.step, 1) * static_cast<double>(p.total_steps - p.step)
                         : 0;
  const std::string test = p.test_bpd ? fmt::format("  test {:.4f} bpd", *p.test_bpd) : "";
  if (tty_) {
    constexpr int kWidth = 28;
    const int filled = p.total_steps > 0 ? static_cast<int>(kWidth * p.step / p.total_steps) : 0;
    const std::string bar = std::string(filled, '=') + (filled < kWidth ? ">" : "") +
                            std::string(std::max(0, kWidth - filled - 1), ' ');
    fmt::print(stderr, "\r[{}] {}/{} ep {}/{}  {:.4f} bpd  {:.1f} img/s  eta {}{}\033[K", bar, p.step, p.total_steps,
               p.epoch + 1, p.epochs, p.bpd, p.images_per_s, format_duration(eta), test);
    drawn_ = true;
    if (p.test_bpd) {
      fmt::print(stderr, "\n");
      drawn_ = false;
    }
    std::fflush(stderr);
  } else if (p.log_line) {
    log().info("step {}/{} epoch {}/{} loss {:.2f} nats {:.4f} bpd {:.1f} img/s eta {}{}", p.step, p.total_steps,
               p.epoch + 1, p.epochs, p.loss, p.bpd, p.images_per_s, format_duration(eta), test);
  }
}

void TrainProgressView::finish() {
  if (tty_ && drawn_) fmt::print(stderr, "\n");
  drawn_ = false;
}

}  // namespace flowood::app
