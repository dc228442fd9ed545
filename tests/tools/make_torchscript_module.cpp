// Writes a small TorchScript feature network (tests/unit/embedding/torchscript_fixture.hpp) for the
// e2e tests and experiments/embeddings_torchscript.yaml, without Python.
// Usage: make_torchscript_module OUT.pt [CHANNELS] [2d|3d|4d]
#include <iostream>
#include <string>

#include "../unit/embedding/torchscript_fixture.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: make_torchscript_module OUT.pt [CHANNELS] [2d|3d|4d]\n";
    return 2;
  }
  try {
    flowood::testing::save_feature_module(argv[1], argc > 2 ? std::stoll(argv[2]) : 1, argc > 3 ? argv[3] : "2d");
  } catch (const std::exception& e) {
    std::cerr << "make_torchscript_module: " << e.what() << "\n";
    return 1;
  }
  std::cout << argv[1] << "\n";
  return 0;
}
