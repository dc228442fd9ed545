// Builds the paper's RealNVP from the installed headers and library, scores two images and
// checks the log-likelihood is finite: the least a second program needs from find_package(flowood).
#include <cmath>
#include <iostream>

#include <torch/torch.h>

#include "flowood/config/experiment.hpp"
#include "flowood/flows/factory.hpp"
#include "flowood/version.hpp"

int main() {
  torch::manual_seed(0);
  flowood::config::ModelConfig model;  // the defaults: RealNVP on 1x28x28 images
  auto flow = flowood::flows::make_flow(model);
  flow->eval();
  torch::NoGradGuard no_grad;
  const auto images = torch::randint(0, 256, {2, 1, 28, 28}).to(torch::kFloat32) / 255;  // pixels k/255
  const auto loglik = flow->log_prob(images);
  const bool ok = loglik.size(0) == 2 && torch::isfinite(loglik).all().item<bool>();
  std::cout << "flowood " << FLOWOOD_VERSION_STRING << " consumer: log p = " << loglik[0].item<double>()
            << (ok ? " ok" : " NOT FINITE") << "\n";
  return ok ? 0 : 1;
}
