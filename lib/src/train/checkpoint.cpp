#include "flowood/train/checkpoint.hpp"

#include <cstdio>
#include <filesystem>

#include <torch/serialize.h>
#include <unistd.h>

#include <fmt/format.h>

#include "flowood/core/error.hpp"

namespace flowood::train {

void save_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                     const CheckpointInfo& info) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive model_archive;
    model.save(model_archive);
    archive.write("model", model_archive);
    if (optimizer) {
      torch::serialize::OutputArchive opt_archive;
      optimizer->save(opt_archive);
      archive.write("optimizer", opt_archive);
    }
    archive.write("step", torch::tensor(info.step, torch::kInt64));
    archive.write("config", c10::IValue(info.config_text));
    if (!info.meta.empty()) archive.write("meta", c10::IValue(info.meta));
    archive.write("format", c10::IValue(std::string("flowood-checkpoint-1")));
    archive.save_to(tmp);
  } catch (const c10::Error& e) {
    std::remove(tmp.c_str());
    throw IoError(path, std::string("cannot write checkpoint: ") + e.what_without_backtrace());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw IoError(path, "cannot move checkpoint into place: " + ec.message());
  }
}

namespace {
torch::serialize::InputArchive open_archive(const std::string& path, const torch::Device& device) {
  if (!std::filesystem::is_regular_file(path)) throw IoError(path, "no checkpoint here");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path, device);
  } catch (const c10::Error& e) {
    throw IoError(path, std::string("not a readable flowood checkpoint: ") + e.what_without_backtrace());
  }
  return archive;
}

CheckpointInfo read_info(torch::serialize::InputArchive& archive, const std::string& path) {
  CheckpointInfo info;
  try {
    torch::Tensor step;
    archive.read("step", step);
    info.step = step.item<int64_t>();
    c10::IValue config;
    archive.read("config", config);
    info.config_text = config.toStringRef();
    c10::IValue meta;
    if (archive.try_read("meta", meta)) info.meta = meta.toStringRef();
  } catch (const c10::Error& e) {
    throw IoError(path, std::string("checkpoint lacks step/config: ") + e.what_without_backtrace());
  }
  return info;
}
}  // namespace

CheckpointInfo load_checkpoint(const std::string& path, torch::nn::Module& model,
                               torch::optim::Optimizer* optimizer, const torch::Device& device) {
  auto archive = open_archive(path, device);
  auto info = read_info(archive, path);
  try {
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    // Module::load replaces tensors whatever their shape: compare shapes to catch a checkpoint
    // of another architecture.
    std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
    for (const auto& p : model.named_parameters()) shapes.emplace_back(p.key(), p.value().sizes().vec());
    for (const auto& b : model.named_buffers()) shapes.emplace_back(b.key(), b.value().sizes().vec());
    model.load(model_archive);
    const auto params = model.named_parameters();
    const auto buffers = model.named_buffers();
    for (const auto& [name, shape] : shapes) {
      const auto* t = params.find(name) ? params.find(name) : buffers.find(name);
      if (t && t->sizes().vec() != shape)
        throw IoError(path, "checkpoint does not fit this model: " + name + " has shape " +
                                c10::str(t->sizes()) + ", the model expects " + c10::str(c10::IntArrayRef(shape)));
    }
    if (optimizer) {
      torch::serialize::InputArchive opt_archive;
      if (archive.try_read("optimizer", opt_archive)) optimizer->load(opt_archive);
    }
  } catch (const c10::Error& e) {
    throw IoError(path, std::string("checkpoint does not fit this model: ") + e.what_without_backtrace());
  }
  if (const auto bad = first_non_finite(model))
    throw IoError(path, fmt::format("the checkpoint holds non-finite values (NaN or inf) in {}: the run diverged "
                                    "at or before step {}; retrain with a lower train.lr or from an earlier checkpoint",
                                    *bad, info.step));
  model.to(device);
  return info;
}

std::optional<std::string> first_non_finite(const torch::nn::Module& model) {
  for (const auto& p : model.named_parameters())
    if (p.value().is_floating_point() && !torch::isfinite(p.value()).all().item<bool>()) return p.key();
  for (const auto& b : model.named_buffers())
    if (b.value().is_floating_point() && !torch::isfinite(b.value()).all().item<bool>()) return b.key();
  return std::nullopt;
}

CheckpointInfo read_checkpoint_info(const std::string& path) {
  auto archive = open_archive(path, torch::kCPU);
  return read_info(archive, path);
}

}  // namespace flowood::train
