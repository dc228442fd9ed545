#pragma once
// Files in the format of PyTorch's torch.save, written byte by byte for tests of io::torch_pickle:
// {'net': OrderedDict(name → tensor), 'epoch': N} as a zip archive (PyTorch >= 1.6) or in the
// legacy format, plus the pickle opcodes to build other objects by hand. Each tensor is contiguous
// float32/float64/int64 with its own storage; `claimed_numel` (when >= 0) overrides the element
// count written for every storage, for files that lie about their size.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace flowood::testing {

inline std::string le(uint64_t v, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
  return s;
}

/// Pickle opcodes (protocol 2) for a few values.
inline std::string pk_str(const std::string& s) { return "X" + le(s.size(), 4) + s; }
inline std::string pk_int(int32_t v) { return "J" + le(static_cast<uint32_t>(v), 4); }
inline std::string pk_global(const std::string& module, const std::string& name) { return "c" + module + "\n" + name + "\n"; }
inline std::string pk_ordered_dict() { return pk_global("collections", "OrderedDict") + ")R"; }

/// A torch.save zip archive holding `pickle` as data.pkl and storage i as data/i.
inline std::string torch_zip_bytes(const std::string& pickle, const std::vector<std::string>& storages) {
  std::vector<std::pair<std::string, std::string>> entries = {{"archive/data.pkl", pickle}};
  for (size_t i = 0; i < storages.size(); ++i) entries.emplace_back("archive/data/" + std::to_string(i), storages[i]);
  entries.emplace_back("archive/version", "3\n");
  std::string out, directory;
  for (const auto& [name, data] : entries) {
    const auto offset = out.size();
    const auto header = [&](bool central) {
      std::string h = le(central ? 0x02014b50 : 0x04034b50, 4) + (central ? le(20, 2) : "") + le(20, 2) + le(0, 2) +
                      le(0, 2) + le(0, 4) + le(0, 4) + le(data.size(), 4) + le(data.size(), 4) + le(name.size(), 2) +
                      le(0, 2);
      if (central) h += le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(offset, 4);
      return h + name;
    };
    out += header(false) + data;
    directory += header(true);
  }
  const auto cd_offset = out.size();
  out += directory + le(0x06054b50, 4) + le(0, 2) + le(0, 2) + le(entries.size(), 2) + le(entries.size(), 2) +
         le(directory.size(), 4) + le(cd_offset, 4) + le(0, 2);
  return out;
}

struct TorchFileOptions {
  bool zip = true;
  int64_t claimed_numel = -1;
  int64_t epoch = 7;
};

inline std::string storage_class(const torch::Tensor& t) {
  if (t.scalar_type() == torch::kFloat64) return "DoubleStorage";
  if (t.scalar_type() == torch::kInt64) return "LongStorage";
  return "FloatStorage";
}

/// The bytes of torch.save({'net': state, 'epoch': epoch}).
inline std::string torch_file_bytes(const std::vector<std::pair<std::string, torch::Tensor>>& state,
                                    const TorchFileOptions& o = {}) {
  std::string p = "\x80\x02}(" + pk_str("net") + pk_ordered_dict() + "(";
  for (size_t i = 0; i < state.size(); ++i) {
    const auto& t = state[i].second;
    const int64_t numel = o.claimed_numel >= 0 ? o.claimed_numel : t.numel();
    p += pk_str(state[i].first) + pk_global("torch._utils", "_rebuild_tensor_v2") + "(";
    p += "(" + pk_str("storage") + pk_global("torch", storage_class(t)) + pk_str(std::to_string(i)) + pk_str("cpu") +
         pk_int(static_cast<int32_t>(numel)) + (o.zip ? "" : "N") + "tQ";
    p += pk_int(0) + "(";
    for (const auto d : t.sizes()) p += pk_int(static_cast<int32_t>(d));
    p += "t(";
    for (const auto d : t.strides()) p += pk_int(static_cast<int32_t>(d));
    p += "t\x89" + pk_ordered_dict() + "tR";
  }
  p += "u" + pk_str("epoch") + pk_int(static_cast<int32_t>(o.epoch)) + "u.";
  const auto raw = [](const torch::Tensor& t) {
    const auto c = t.contiguous();
    return std::string(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
  };
  if (!o.zip) {
    std::string out = std::string("\x80\x02\x8a\x0a", 4) + std::string("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10) + ".";
    out += std::string("\x80\x02M\xe9\x03.", 6) + "\x80\x02}." + p + "\x80\x02](";
    for (size_t i = 0; i < state.size(); ++i) out += pk_str(std::to_string(i));
    out += "e.";
    for (const auto& [_, t] : state) out += le(static_cast<uint64_t>(t.numel()), 8) + raw(t);
    return out;
  }
  std::vector<std::string> storages;
  for (const auto& [_, t] : state) storages.push_back(raw(t));
  return torch_zip_bytes(p, storages);
}

}  // namespace flowood::testing
