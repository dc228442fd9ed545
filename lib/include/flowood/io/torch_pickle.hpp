#pragma once
/// Files written by PyTorch's `torch.save`, read without Python: the zip format (PyTorch ≥ 1.6)
/// and the legacy format before it. The pickled object is rebuilt as a tree of PyValue; tensors
/// become CPU tensors. Only what checkpoints hold is understood — dicts (OrderedDict included),
/// lists, tuples, strings, numbers, booleans, None and tensors; any other object (an argparse
/// Namespace, an optimiser's class) becomes an opaque PyValue of kind kObject naming its class,
/// so a checkpoint that also stores such things still loads.
///
/// LibTorch's own torch::pickle_load cannot be used: it turns every OrderedDict — which is what a
/// state_dict is — into None. Memory stays bounded by the file's size: the file is read once, and
/// a tensor whose claimed storage is larger than what the file holds is an error.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace flowood::io {

struct PyValue;
/// The root of an unpickled tree; it keeps every value of the tree alive. Values inside refer to
/// each other by plain pointers (a pickle may build cycles, e.g. a list appended to itself, which
/// shared pointers would leak).
using PyRef = std::shared_ptr<const PyValue>;

/// One unpickled Python value.
struct PyValue {
  enum class Kind { kNone, kBool, kInt, kFloat, kString, kTensor, kList, kTuple, kDict, kObject };
  Kind kind = Kind::kNone;
  bool boolean = false;
  int64_t integer = 0;
  double number = 0;
  std::string text;                           ///< kString; kObject: "module.Class"
  torch::Tensor tensor;                       ///< kTensor
  std::vector<const PyValue*> items;          ///< kList, kTuple
  std::vector<std::pair<const PyValue*, const PyValue*>> entries;  ///< kDict, in insertion order

  /// The entry of a dict whose key is the string `key`, or null.
  const PyValue* find(const std::string& key) const;
  /// "dict", "tensor", "str", … for messages.
  std::string type_name() const;
};

/// Reads a `torch.save` file. Throws IoError naming `path` when it is missing, truncated, not a
/// PyTorch file, or uses pickle features a checkpoint does not need.
PyRef load_torch_file(const std::string& path);

/// The same from the file's bytes; `name` is used in error messages.
PyRef parse_torch_file(const std::string& bytes, const std::string& name);

}  // namespace flowood::io
