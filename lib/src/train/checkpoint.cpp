#include "flowood/train/checkpoint.hpp"

#include <cstdio>
#include <filesystem>
#include <sstream>

#include <torch/serialize.h>
#include <unistd.h>

#include <fmt/format.h>

#include "flowood/core/error.hpp"
#include "flowood/io/atomic_file.hpp"
#include "flowood/io/sha256.hpp"

namespace flowood::train {

namespace {
/// SHA-256 over every parameter and buffer (name, dtype, shape, bytes, in registration order), the
/// step, the config text and the meta: what a flipped bit in a checkpoint would change silently.
std::string content_digest(const torch::nn::Module& model, const CheckpointInfo& info) {
  io::Sha256 h;
  const auto feed_text = [&](const std::string& t) {
    const uint64_t n = t.size();
    h.update(&n, sizeof n);
    h.update(t.data(), t.size());
  };
  const auto feed_tensor = [&](const std::string& name, const torch::Tensor& value) {
    feed_text(name);
    const auto t = value.detach().to(torch::kCPU).contiguous();
    feed_text(c10::toString(t.scalar_type()));
    for (const auto d : t.sizes()) h.update(&d, sizeof d);
    h.update(t.data_ptr(), t.numel() * t.element_size());
  };
  for (const auto& p : model.named_parameters()) feed_tensor(p.key(), p.value());
  for (const auto& b : model.named_buffers()) feed_tensor(b.key(), b.value());
  h.update(&info.step, sizeof info.step);
  feed_text(info.config_text);
  feed_text(info.meta);
  return h.hex_digest();
}

// The file seal: a SHA-256 of the whole serialised archive, stored as the zip archive's comment
// (the last field of the end-of-central-directory record, which zip readers, LibTorch's included,
// skip). Every byte of the file is covered: the content digest above only covers what LibTorch
// reads back, not, say, the debug records of the TorchScript code it also stores.
constexpr std::size_t kEndRecord = 22;  // end-of-central-directory record without its comment
const std::string kSealPrefix = "flowood-sha256:";
constexpr std::size_t kSealSize = 15 + 64;  // prefix + hex digest

bool is_end_record(const std::string& bytes, std::size_t at, std::size_t comment_size) {
  if (at + kEndRecord > bytes.size()) return false;
  const auto u8 = [&](std::size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(bytes[at + i])); };
  return u8(0) == 0x50 && u8(1) == 0x4b && u8(2) == 0x05 && u8(3) == 0x06 &&
         (u8(20) | (u8(21) << 8)) == comment_size;
}

std::string seal(std::string bytes) {
  const std::size_t end = bytes.size() - kEndRecord;
  if (bytes.size() < kEndRecord || !is_end_record(bytes, end, 0)) return bytes;  // not LibTorch's layout: unsealed
  io::Sha256 h;
  h.update(bytes.data(), bytes.size());
  bytes[end + 20] = static_cast<char>(kSealSize & 0xFF);
  bytes[end + 21] = static_cast<char>(kSealSize >> 8);
  return bytes + kSealPrefix + h.hex_digest();
}

/// The archive without its seal, after checking it. A file without a seal (written before seals
/// existed) is returned as it is; one whose seal is damaged or disagrees is refused.
std::string unseal(std::string bytes, const std::string& path) {
  if (bytes.size() >= kEndRecord && is_end_record(bytes, bytes.size() - kEndRecord, 0)) return bytes;
  const std::size_t end = bytes.size() >= kEndRecord + kSealSize ? bytes.size() - kEndRecord - kSealSize : 0;
  if (bytes.size() < kEndRecord + kSealSize || !is_end_record(bytes, end, kSealSize) ||
      bytes.compare(end + kEndRecord, kSealPrefix.size(), kSealPrefix) != 0)
    throw IoError(path, "checkpoint is damaged or truncated: it does not end in a zip end record with flowood's seal");
  const std::string recorded = bytes.substr(end + kEndRecord + kSealPrefix.size());
  bytes.resize(end + kEndRecord);
  bytes[end + 20] = 0;
  bytes[end + 21] = 0;
  io::Sha256 h;
  h.update(bytes.data(), bytes.size());
  if (h.hex_digest() != recorded)
    throw IoError(path, "checkpoint is damaged: its bytes do not match the SHA-256 sealed in it when it was written "
                        "(a changed byte); use an earlier checkpoint or retrain");
  return bytes;
}
}  // namespace

void save_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                     const CheckpointInfo& info) {
  // Serialised in memory first: LibTorch's file writer aborts the process (an exception from a
  // destructor) when the disk fills up mid-write. The bytes then go through write_file_atomic, which
  // reports a full disk as an IoError and leaves the previous checkpoint in place.
  std::ostringstream bytes;
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
    archive.write("digest", c10::IValue(content_digest(model, info)));
    archive.write("format", c10::IValue(std::string("flowood-checkpoint-1")));
    archive.save_to(bytes);
  } catch (const c10::Error& e) {
    throw IoError(path, std::string("cannot serialise the checkpoint: ") + e.what_without_backtrace());
  }
  io::write_file_atomic(path, seal(bytes.str()));
}

namespace {
torch::serialize::InputArchive open_archive(const std::string& path, const torch::Device& device) {
  if (!std::filesystem::is_regular_file(path)) throw IoError(path, "no checkpoint here");
  // Read whole (memory follows the file's real size), checked against its seal, then parsed.
  const std::string bytes = unseal(io::read_file(path), path);
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(bytes.data(), bytes.size(), device);
  } catch (const c10::Error& e) {
    throw IoError(path, std::string("not a readable flowood checkpoint: ") + e.what_without_backtrace());
  } catch (const std::exception& e) {  // TorchScript's parser reports a damaged record with its own types
    throw IoError(path, std::string("not a readable flowood checkpoint (damaged): ") + e.what());
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
  } catch (const std::exception& e) {
    throw IoError(path, std::string("checkpoint is damaged: ") + e.what());
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
  } catch (const std::exception& e) {
    throw IoError(path, std::string("checkpoint is damaged: ") + e.what());
  }
  c10::IValue digest;
  if (archive.try_read("digest", digest) && digest.isString() && digest.toStringRef() != content_digest(model, info))
    throw IoError(path, fmt::format("checkpoint is damaged: its content does not match the SHA-256 recorded when it "
                                    "was written (a changed byte in a tensor, the step or the config); use an earlier "
                                    "checkpoint or retrain"));
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
