#pragma once
// TorchScript modules built in C++ (no Python): what a user exports from PyTorch, in miniature.
#include <string>

#include <torch/script.h>

namespace flowood::testing {

/// A fixed random-feature network saved at `path`: x [B, C, H, W] → conv 3×3 stride 2 (C → 8
/// channels) → ReLU → 2×2 average pool of the map → [B, 32] features. `output` picks what forward
/// returns: "2d" the [B, 32] features, "4d" the [B, 8, 2, 2] map, "3d" a [B, 8, 4] tensor.
inline void save_feature_module(const std::string& path, int64_t channels, const std::string& output = "2d",
                                uint64_t seed = 0) {
  torch::jit::Module m("FeatureNet");
  auto gen = at::detail::createCPUGenerator(seed);
  m.register_parameter("weight", torch::randn({8, channels, 3, 3}, gen) * 0.5, false);
  m.register_parameter("bias", torch::randn({8}, gen) * 0.1, false);
  const std::string tail = output == "4d"   ? "return y"
                           : output == "3d" ? "return y.flatten(2)"
                                            : "return y.flatten(1)";
  m.define(R"(
def forward(self, x):
    y = torch.relu(torch.conv2d(x, self.weight, self.bias, [2, 2]))
    y = torch.adaptive_avg_pool2d(y, [2, 2])
    )" + tail + "\n");
  m.save(path);
}

}  // namespace flowood::testing
