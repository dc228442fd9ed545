// JSON files flowood reads back (metrics.json, embedding-cache sidecars, sweep plans) through
// io::parse_json and the typed accessors the readers use.
#include "flowood/core/error.hpp"
#include "flowood/io/json_file.hpp"
#include "fuzz_target.hpp"

std::vector<std::string> fuzz_seeds() {
  return {R"({"methods": [{"method": "loglik", "ood": "mnist:test", "auroc": 0.0731, "ci": {"auroc": {"low": 0.06, "high": 0.08}}}]})",
          R"({"name": "q", "steps": 200, "ok": true, "seeds": [0, 1, 2], "bpd": null, "x": -1.5e-300})",
          "[1, \"\\u00e9\\ud83d\\ude00\", {\"a\": [[], {}]}]"};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto j = flowood::io::parse_json(text, "fuzz.json");
    // What flowood writes reads back to the same value.
    FUZZ_ASSERT_TRUE(flowood::io::parse_json(j.dump(), "dumped.json") == j, "JSON does not round-trip");
    // What the report does with a metrics.json: typed reads that fail with DataError, not a crash.
    if (j.is_object() && j.contains("methods")) {
      for (const auto& e : flowood::io::json_at(j, "methods")) {
        flowood::io::json_string(flowood::io::json_at(e, "method"));
        flowood::io::json_number(flowood::io::json_at(e, "auroc"));
        if (e.contains("ci")) flowood::io::json_number(flowood::io::json_at(flowood::io::json_at(flowood::io::json_at(e, "ci"), "auroc"), "low"));
      }
    }
    if (j.is_object())
      for (const auto& key : flowood::io::json_keys(j)) FUZZ_ASSERT_TRUE(j.contains(key), "json_keys named a missing key");
    ++fuzz_accepted();
  } catch (const flowood::Error&) {
  }
  return 0;
}
