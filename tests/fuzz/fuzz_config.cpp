// The YAML experiment reader (apps/flowood/config_yaml): any text is a config or a ConfigError.
#include "config_yaml.hpp"
#include "flowood/core/error.hpp"
#include "flowood/experiment/run_dir.hpp"
#include "fuzz_target.hpp"

std::vector<std::string> fuzz_seeds() {
  return {flowood::app::reference_yaml(),
          "model: {flow: tabular, in_shape: [128], masks: [tabular x8], st_net: mlp}\n"
          "embedding: {extractor: classifier, width: 32, mean: [0.5], std: [0.5]}\n"
          "train: {negative: {data: mnist:test, threshold: -30000}}\nscores: [loglik, msp]\n"};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto c = flowood::app::load_config_text(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml").config;
    // An accepted config writes out and reads back to itself.
    const auto again = flowood::app::load_config_text(flowood::app::to_yaml(c), "written.yaml").config;
    FUZZ_ASSERT_TRUE(flowood::experiment::flatten(again) == flowood::experiment::flatten(c), "config does not round-trip");
    ++fuzz_accepted();
  } catch (const flowood::Error&) {
  }
  return 0;
}
