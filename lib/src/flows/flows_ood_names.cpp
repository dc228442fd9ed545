#include "flowood/flows/flows_ood_names.hpp"

#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/flows/coupling.hpp"
#include "flowood/flows/glow.hpp"
#include "flowood/flows/squeeze.hpp"
#include "flowood/flows/st_net.hpp"

namespace flowood::flows {
namespace {

std::vector<std::string> split(const std::string& name) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const auto dot = name.find('.', start);
    parts.push_back(name.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

std::string join(const std::vector<std::string>& parts) { return fmt::format("{}", fmt::join(parts, ".")); }

/// Inside an st-network: flowood's name → the authors'.
/// - resnet, resnet-bottleneck, convnet: every weight-normalised convolution is a module holding
///   the wrapped nn.Conv2d as `conv` (x.weight_v → x.conv.weight_v); batch norms keep their names;
///   the bottleneck's two Linear layers are `bottleneck.0` and `bottleneck.1`.
/// - highway: convolutions wrapped as `conv`; gate convolution i is `layers.i.conv_t`, the
///   transform `layers.i.conv_h`.
/// - glow-convnet: an nn.Sequential of conv, ReLU, conv, ReLU, conv: indices 0, 2 and 4.
std::string st_net_name(const StNetImpl& st, const std::string& name) {
  auto p = split(name);
  const auto last = p.back();
  if (dynamic_cast<const ResNetStImpl*>(&st) || dynamic_cast<const ConvNetStImpl*>(&st)) {
    if (p.size() >= 2 && (p[p.size() - 2] == "in_norm" || p[p.size() - 2] == "out_norm")) return name;
    if (p[0] == "encode") return "bottleneck.0." + last;
    if (p[0] == "decode") return "bottleneck.1." + last;
    p.insert(p.end() - 1, "conv");
    return join(p);
  }
  if (dynamic_cast<const HighwayStImpl*>(&st)) {
    if (p.size() == 3 && (p[0] == "gates" || p[0] == "transforms"))
      return fmt::format("layers.{}.{}.conv.{}", p[1], p[0] == "gates" ? "conv_t" : "conv_h", last);
    p.insert(p.end() - 1, "conv");
    return join(p);
  }
  if (dynamic_cast<const GlowConvNetStImpl*>(&st)) {
    const std::string index = p[0] == "in_conv" ? "0" : p[0] == "mid_conv" ? "2" : "4";
    return index + ".conv." + last;
  }
  throw ConfigError("model.st_net", "the authors' image flows have no mlp st-network");
}

/// Every parameter and buffer of a layer (prefix "": the layer's own names), minus ActNorm's flag.
std::vector<std::string> tensor_names(torch::nn::Module& layer) {
  std::vector<std::string> names;
  for (const auto& p : layer.named_parameters()) names.push_back(p.key());
  for (const auto& b : layer.named_buffers())
    if (b.key() != "initialized") names.push_back(b.key());
  return names;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> flows_ood_names(FlowModelImpl& model) {
  const auto& family = model.family();
  if (family == "tabular")
    throw ConfigError("model.flow", "importing is for the authors' image flows (realnvp, coupling, glow); their "
                                    "tabular flows standardise in the data loader, which a flowood tabular run does not");
  if (model.preprocessing() != Preprocessing::kLogit)
    throw ConfigError("model.flow", "the authors' image flows start with the dequantisation and logit layer");
  // The authors' body: addZslot, the logit layer, then one passThrough group per block of layers —
  // up to three couplings of RealNVP, one Glow step (ActNorm, 1×1 conv, coupling), a single
  // coupling of the fixed-size stacks — with every squeeze and factor-out a group of its own.
  // Layer k of a group is "body.<group>.<k>.module1." (passThrough wraps it in both(layer, Id)).
  const size_t group_size = family == "coupling" ? 1 : 3;
  auto& body = model.body();
  std::vector<std::pair<std::string, std::string>> out;
  size_t group = 2, in_group = 0;
  const auto close_group = [&] {
    if (in_group > 0) ++group;
    in_group = 0;
  };
  for (size_t i = 0; i < body.num_steps(); ++i) {
    const auto layer = body.step_layer(i);
    if (!layer || dynamic_cast<SqueezeImpl*>(layer.get())) {  // factor-out, squeeze: a group each
      close_group();
      ++group;
      continue;
    }
    if (in_group == group_size) close_group();
    const std::string ours = fmt::format("body.{}.", i);
    const std::string theirs = fmt::format("body.{}.{}.module1.", group, in_group++);
    if (const auto* inv = dynamic_cast<InvConv1x1Impl*>(layer.get()); inv && inv->lu())
      throw ConfigError("model.conv_lu", "the authors' Glow has plain 1×1 convolutions: set model.conv_lu: false");
    const auto* coupling = dynamic_cast<AffineCouplingImpl*>(layer.get());
    const StNetImpl* st = nullptr;
    if (coupling)
      for (const auto& child : layer->named_children())
        if (child.key() == "st_net") st = dynamic_cast<const StNetImpl*>(child.value().get());
    if (!coupling && !dynamic_cast<ActNormImpl*>(layer.get()) && !dynamic_cast<InvConv1x1Impl*>(layer.get()))
      throw ConfigError("model", fmt::format("layer {} ({}) has no counterpart in the authors' code", i, layer->describe()));
    for (const auto& name : tensor_names(*layer)) {
      std::string mapped = name;
      if (st && name.rfind("st_net.", 0) == 0) mapped = "st_net." + st_net_name(*st, name.substr(7));
      out.emplace_back(ours + name, theirs + mapped);
    }
  }
  return out;
}

void load_flows_ood_state(FlowModelImpl& model, const std::map<std::string, torch::Tensor>& state,
                          const std::string& source) {
  const auto names = flows_ood_names(model);
  auto params = model.named_parameters();
  auto buffers = model.named_buffers();
  std::vector<std::string> missing, wrong_shape;
  std::set<std::string> used;
  std::vector<std::pair<torch::Tensor*, const torch::Tensor*>> copies;
  for (const auto& [ours, theirs] : names) {
    auto* target = params.find(ours) ? params.find(ours) : buffers.find(ours);
    const auto it = state.find(theirs);
    if (it == state.end()) {
      missing.push_back(fmt::format("{} {}", theirs, c10::str(target->sizes())));
      continue;
    }
    used.insert(theirs);
    if (it->second.sizes() != target->sizes()) {
      wrong_shape.push_back(fmt::format("{} is {}, the config's model needs {}", theirs, c10::str(it->second.sizes()),
                                        c10::str(target->sizes())));
      continue;
    }
    copies.emplace_back(target, &it->second);
  }
  std::vector<std::string> unexpected;
  for (const auto& [name, _] : state)
    if (!used.count(name)) unexpected.push_back(name);
  std::vector<std::string> problems;
  // Every name goes to the log; the message shows the first few of each kind.
  constexpr size_t kShown = 8;
  const auto list = [&](const std::vector<std::string>& v, const char* what) {
    if (v.empty()) return;
    for (const auto& name : v) log().error("{}: {}: {}", source, what, name);
    const std::vector<std::string> shown(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(std::min(v.size(), kShown)));
    problems.push_back(fmt::format("{} {}: {}{}", v.size(), what, fmt::join(shown, "; "),
                                   v.size() > kShown ? fmt::format("; and {} more (all in the log)", v.size() - kShown) : ""));
  };
  list(missing, "missing (the config's model has them, the checkpoint does not)");
  list(unexpected, "unexpected (in the checkpoint, not in the config's model)");
  list(wrong_shape, "of the wrong shape");
  if (!problems.empty())
    throw IoError(source, fmt::format("does not fit the model the config describes — check model.* against the "
                                      "architecture it was trained with. {}",
                                      fmt::join(problems, ". ")));
  torch::NoGradGuard no_grad;
  for (const auto& [ours, theirs] : names) {
    const auto& t = state.at(theirs);
    if (t.is_floating_point() && !torch::isfinite(t).all().item<bool>())
      throw IoError(source, fmt::format("{} holds NaN or inf: the run that wrote it diverged", theirs));
  }
  for (auto& [target, value] : copies) target->copy_(value->to(target->dtype()));
  for (const auto& layer : model.body().layers())
    if (auto* actnorm = dynamic_cast<ActNormImpl*>(layer.get())) actnorm->mark_initialized();
}

}  // namespace flowood::flows
