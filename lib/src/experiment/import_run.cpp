#include "flowood/experiment/import_run.hpp"

#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/flows/factory.hpp"
#include "flowood/flows/flows_ood_names.hpp"
#include "flowood/io/atomic_file.hpp"
#include "flowood/io/json_file.hpp"
#include "flowood/io/sha256.hpp"
#include "flowood/io/torch_pickle.hpp"
#include "flowood/train/checkpoint.hpp"

namespace flowood::experiment {
namespace {

/// The state dict inside what the authors' scripts save ({'net': …, 'epoch': …}), or a bare one.
const io::PyValue& state_dict_of(const io::PyValue& root, const std::string& path) {
  if (root.kind != io::PyValue::Kind::kDict)
    throw IoError(path, fmt::format("holds a {}, not a dict with a state dict", root.type_name()));
  for (const char* key : {"net", "state_dict", "model"})
    if (const auto v = root.find(key); v && v->kind == io::PyValue::Kind::kDict) return *v;
  bool all_tensors = !root.entries.empty();
  std::vector<std::string> keys;
  for (const auto& [k, v] : root.entries) {
    all_tensors = all_tensors && v->kind == io::PyValue::Kind::kTensor;
    keys.push_back(k->kind == io::PyValue::Kind::kString ? k->text : k->type_name());
  }
  if (all_tensors) return root;
  throw IoError(path, fmt::format("has no state dict: expected the authors' {{'net': state_dict, 'epoch': …}} or a "
                                  "state dict itself; its keys are {}",
                                  fmt::join(keys, ", ")));
}

}  // namespace

std::vector<std::string> import_sources() { return {"flows-ood"}; }

ImportResult import_checkpoint(const std::string& from, const std::string& checkpoint,
                               const config::ExperimentConfig& config, const RunPaths& run, const ConfigCodec& codec) {
  if (from != "flows-ood")
    throw ConfigError("--from", fmt::format("unknown source '{}' (valid: {})", from, fmt::join(import_sources(), ", ")));
  if (std::filesystem::exists(run.checkpoint()))
    throw IoError(run.checkpoint(), "the run directory already holds a checkpoint; import into a new --run-dir");
  if (!std::filesystem::is_regular_file(checkpoint)) throw IoError(checkpoint, "no such file");

  ImportResult result;
  const std::string bytes = io::read_file(checkpoint);
  result.sha256 = io::sha256_hex(bytes);
  const auto root = io::parse_torch_file(bytes, checkpoint);
  if (const auto epoch = root->find("epoch"); epoch && epoch->kind == io::PyValue::Kind::kInt) result.epoch = epoch->integer;
  std::map<std::string, torch::Tensor> state;
  for (const auto& [k, v] : state_dict_of(*root, checkpoint).entries) {
    if (k->kind != io::PyValue::Kind::kString || v->kind != io::PyValue::Kind::kTensor)
      throw IoError(checkpoint, fmt::format("state dict entry {} is a {}, not a tensor", k->text, v->type_name()));
    // DataParallel (the authors' scripts on a GPU) prefixes every name with "module.".
    const auto name = k->text.rfind("module.", 0) == 0 ? k->text.substr(7) : k->text;
    if (!state.emplace(name, v->tensor).second) throw IoError(checkpoint, "state dict names " + name + " twice");
  }

  torch::manual_seed(static_cast<uint64_t>(config.seed));
  auto model = flows::make_flow(config.model);
  flows::load_flows_ood_state(*model, state, checkpoint);
  result.tensors = static_cast<int64_t>(state.size());

  prepare_run_dir(run, config, codec);
  write_manifest(run, config, torch::kCPU, {}, command_line());
  const io::Json record{{"source", from},
                        {"checkpoint", std::filesystem::absolute(checkpoint).string()},
                        {"sha256", result.sha256},
                        {"epoch", result.epoch ? io::Json(*result.epoch) : io::Json()}};
  auto manifest = io::read_json_file(run.manifest());
  manifest["imported_from"] = record;
  io::write_json_file(run.manifest(), manifest);
  train::save_checkpoint(run.checkpoint(), *model, nullptr,
                         {0, codec.write(config), io::Json{{"imported_from", record}}.dump()});
  log().info("imported {} ({} tensors{}) into {}: {}", checkpoint, result.tensors,
             result.epoch ? fmt::format(", epoch {}", *result.epoch) : "", run.dir, model->name());
  return result;
}

std::optional<std::string> imported_from(const RunPaths& run) {
  if (!std::filesystem::exists(run.checkpoint())) return std::nullopt;
  try {
    const auto info = train::read_checkpoint_info(run.checkpoint());
    if (info.meta.empty()) return std::nullopt;
    const auto meta = io::parse_json(info.meta, run.checkpoint());
    if (!meta.is_object() || !meta.contains("imported_from")) return std::nullopt;
    return meta["imported_from"].dump();
  } catch (const Error&) {
    return std::nullopt;  // a damaged checkpoint: whoever loads it next reports how
  }
}

}  // namespace flowood::experiment
