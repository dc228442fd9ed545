// The dataset spec grammar (data::parse_dataset_spec and the typed option readers): names, splits,
// paths with '?', options, flags, numbers out of range.
#include "flowood/core/error.hpp"
#include "flowood/data/spec.hpp"
#include "fuzz_target.hpp"

std::vector<std::string> fuzz_seeds() {
  return {"fashion-mnist:train", "MNIST:test", "folder:/data/imgs?gray&size=28", "idx:/x/y-images-idx3-ubyte",
          "noise:uniform?shape=3x32x32&n=2000", "npz:/f/emb.npz#embeddings", "csv:/t/a.csv?label=last&delimiter=semicolon",
          "folder:/odd?path?resize=32x16&crop=28"};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto spec = flowood::data::parse_dataset_spec(text);
    // The canonical text names the same dataset.
    FUZZ_ASSERT_TRUE(flowood::data::parse_dataset_spec(spec.to_string()) == spec, "spec does not round-trip through to_string");
    for (const auto& [key, value] : spec.options) {
      try {
        const auto n = flowood::data::spec_int_option(spec, key, 0, -5, 1000000);
        FUZZ_ASSERT_TRUE(n >= -5 && n <= 1000000, "an integer option outside its bounds");
      } catch (const flowood::Error&) {
      }
      try {
        const auto x = flowood::data::spec_double_option(spec, key, 0.0, 0.0, 1.0);
        FUZZ_ASSERT_TRUE(x >= 0.0 && x <= 1.0, "a real option outside its bounds");
      } catch (const flowood::Error&) {
      }
      try {
        if (const auto s = flowood::data::spec_size_option(spec, key))
          FUZZ_ASSERT_TRUE(s->first >= 1 && s->first <= 65536 && s->second >= 1 && s->second <= 65536, "a size outside 1..65536");
      } catch (const flowood::Error&) {
      }
      try {
        const auto shape = flowood::data::spec_shape_option(spec, key, {1, 1, 1});
        FUZZ_ASSERT_TRUE(shape.size() == 3 && shape[1] <= 4096 && shape[2] <= 4096, "a shape outside its bounds");
      } catch (const flowood::Error&) {
      }
    }
    ++fuzz_accepted();
  } catch (const flowood::Error&) {
  }
  return 0;
}
