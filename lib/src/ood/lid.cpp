#include "flowood/ood/lid.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <torch/autograd.h>
#include <torch/linalg.h>

#include "flowood/core/error.hpp"
#include "flowood/core/rng.hpp"
#include "flowood/flows/preprocess.hpp"

namespace flowood::ood {
namespace {

void check_options(const LidOptions& o) {
  if (!std::isfinite(o.delta)) throw ConfigError("score.lid_delta", fmt::format("must be finite (got {})", o.delta));
  if (o.probes < 0) throw ConfigError("score.lid_probes", fmt::format("must be >= 0 (got {})", o.probes));
  if (o.steps < 1) throw ConfigError("score.lid_steps", fmt::format("must be >= 1 (got {})", o.steps));
}

/// Σ_m w_m h(μ_m) per row for the two functions of M = JᵀJ the estimate needs: the trace term
/// tr((I + σ² N)⁻¹) = tr(M (M + σ² I)⁻¹), the quadratic σ² z0ᵀ N (I + σ² N)⁻² z0 = σ² z0ᵀ M (M + σ² I)⁻² z0.
torch::Tensor apply_trace(const GaussRule& r, double s2) { return (r.weights * r.nodes / (r.nodes + s2)).sum(1); }
torch::Tensor apply_quadratic(const GaussRule& r, double s2) {
  return (r.weights * s2 * r.nodes / (r.nodes + s2).pow(2)).sum(1);
}

/// The generator: latents z [N, D] → data points [N, D] (flattened), the exact inverse of latent_of.
torch::Tensor point_of(flows::FlowModelImpl& model, const torch::Tensor& z) {
  const auto h = model.body().inverse(z);
  if (model.preprocessing() == flows::Preprocessing::kNone) return h.flatten(1);
  return ((torch::sigmoid(h) - (1.0 - flows::kLogitC) / 2.0) / flows::kLogitC).flatten(1);
}

/// The estimate for the examples d [n, ...]: each latent z0 repeated 1 + probes times (z0, then
/// the probes), one generator pass with its graph kept, and Lanczos on M = JᵀJ. (M's large
/// eigenvalues are the directions the model spreads wide, the ones LID counts: Lanczos finds the
/// ends of a spectrum first, and N = A Aᵀ = M⁻¹ would put them at its small end.)
std::pair<torch::Tensor, torch::Tensor> estimate(flows::FlowModelImpl& model, const torch::Tensor& d,
                                                 const LidOptions& o, const torch::Tensor& probes) {
  const int64_t n = d.size(0), copies = 1 + o.probes;
  torch::Tensor z0;
  {
    torch::NoGradGuard no_grad;
    z0 = latent_of(model, d);
  }
  const auto dim = z0.size(1);
  auto z = z0.repeat_interleave(copies, 0).detach().requires_grad_(true);
  const auto x = point_of(model, z);
  // J v by double backward: g(w) = Jᵀ w is linear in w, and ∂⟨g(w), v⟩/∂w = J v.
  auto w = torch::zeros_like(x).requires_grad_(true);
  const auto g = torch::autograd::grad({x}, {z}, {w}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  const auto matvec = [&](const torch::Tensor& v) {
    const auto jv = torch::autograd::grad({g}, {w}, {v.to(z.dtype())}, true, false)[0];
    return torch::autograd::grad({x}, {z}, {jv}, true, false)[0];
  };
  // Start vectors: z0 for the quadratic term, the probes for the trace.
  auto start = z0.to(torch::kFloat64).repeat_interleave(copies, 0).reshape({n, copies, dim});
  if (o.probes > 0) start.narrow(1, 1, o.probes).copy_(probes.to(start.dtype()));
  const auto rule = lanczos_rule(matvec, start.reshape({n * copies, dim}), o.steps);
  const double s2 = std::exp(2.0 * o.delta);
  const auto quadratic = apply_quadratic(rule, s2).reshape({n, copies}).select(1, 0);
  const auto trace = o.probes > 0 ? apply_trace(rule, s2).reshape({n, copies}).narrow(1, 1, o.probes).mean(1)
                                  : torch::zeros({n}, torch::kFloat64);
  return {trace.to(torch::kCPU), quadratic.to(torch::kCPU)};
}

}  // namespace

LidTerms lid_exact(const torch::Tensor& jacobian, const torch::Tensor& z, double delta) {
  const auto a = jacobian.to(torch::kFloat64);
  if (a.dim() != 2 || a.size(0) != a.size(1) || z.numel() != a.size(0))
    throw Error(fmt::format("lid_exact: a square Jacobian and a latent of its size are needed (got {} dimensions, {} "
                            "elements and a latent of {})",
                            a.dim(), a.numel(), z.numel()));
  const auto [u, s, vh] = torch::linalg::svd(a, /*full_matrices=*/false, c10::nullopt);
  const auto w = torch::matmul(u.t(), z.to(torch::kFloat64).reshape({-1}));
  const double s2 = std::exp(2.0 * delta);
  const auto lam = s.pow(2);
  LidTerms t;
  t.trace = (1.0 / (1.0 + s2 * lam)).sum().item<double>();
  t.quadratic = (s2 * lam * w.pow(2) / (1.0 + s2 * lam).pow(2)).sum().item<double>();
  return t;
}

GaussRule lanczos_rule(const std::function<torch::Tensor(const torch::Tensor&)>& matvec, const torch::Tensor& v,
                       int64_t steps) {
  if (steps < 1) throw ConfigError("score.lid_steps", fmt::format("must be >= 1 (got {})", steps));
  const int64_t rows = v.size(0);
  const auto v64 = v.reshape({rows, -1}).to(torch::kFloat64);
  const auto norm2 = v64.pow(2).sum(1);
  auto q = v64 / norm2.sqrt().clamp_min(1e-300).unsqueeze(1);
  auto q_prev = torch::zeros_like(q);
  auto beta_prev = torch::zeros({rows}, v64.options());
  std::vector<torch::Tensor> basis, alpha, beta;
  for (int64_t j = 0; j < steps; ++j) {
    basis.push_back(q);
    auto w = matvec(q.to(v.dtype())).reshape({rows, -1}).to(torch::kFloat64);
    const auto scale = w.pow(2).sum(1).sqrt();
    const auto a = (q * w).sum(1);
    w = w - a.unsqueeze(1) * q - beta_prev.unsqueeze(1) * q_prev;
    for (int pass = 0; pass < 2; ++pass)  // full reorthogonalisation, twice is enough
      for (const auto& b : basis) w = w - (b * w).sum(1, true) * b;
    alpha.push_back(a);
    if (j + 1 == steps) break;
    const auto b = w.pow(2).sum(1).sqrt();
    // A row whose Krylov space is exhausted continues with zero vectors: its tridiagonal decouples.
    const auto alive = b > 1e-10 * scale.clamp_min(1e-300);
    const auto b_kept = torch::where(alive, b, torch::zeros_like(b));
    beta.push_back(b_kept);
    q_prev = q;
    q = torch::where(alive.unsqueeze(1), w / b.clamp_min(1e-300).unsqueeze(1), torch::zeros_like(w));
    beta_prev = b_kept;
  }
  auto t = torch::diag_embed(torch::stack(alpha, 1));
  if (!beta.empty()) {
    const auto off = torch::stack(beta, 1);
    t = t + torch::diag_embed(off, 1) + torch::diag_embed(off, -1);
  }
  const auto [theta, vecs] = torch::linalg::eigh(t, "L");
  return {theta.clamp_min(0.0), norm2.unsqueeze(1) * vecs.select(1, 0).pow(2)};
}

torch::Tensor data_point(const flows::FlowModelImpl& model, const torch::Tensor& x, const torch::Tensor& u) {
  if (model.preprocessing() == flows::Preprocessing::kNone) return x;
  return (x * 255.0 + u) / 256.0;
}

torch::Tensor latent_of(flows::FlowModelImpl& model, const torch::Tensor& d) {
  if (model.preprocessing() == flows::Preprocessing::kNone) return model.body().forward(d).y.flatten(1);
  // dequantize_logit's map from the data point on: y = (1 − c)/2 + c·d, l = logit(y).
  const auto y = d * flows::kLogitC + (1.0 - flows::kLogitC) / 2.0;
  return model.body().forward(torch::log(y) - torch::log1p(-y)).y.flatten(1);
}

torch::Tensor latent_jacobian(flows::FlowModelImpl& model, const torch::Tensor& d) {
  const int64_t dim = d[0].numel();
  // Row k of the Jacobian is the gradient of z_k: D copies of the point, copy k backpropagates e_k.
  auto sizes = d.sizes().vec();
  sizes[0] = dim;
  auto x = d.expand(sizes).contiguous().detach().requires_grad_(true);
  const auto z = latent_of(model, x);
  const auto eye = torch::eye(dim, z.options());
  return torch::autograd::grad({z}, {x}, {eye}, false, false)[0].reshape({dim, dim});
}

std::vector<Statistic> lid_statistics(flows::FlowModelImpl& model, const data::ImageDataset& data,
                                      const LoglikOptions& o, const LidOptions& lid) {
  check_options(lid);
  if (o.batch_size < 1) throw ConfigError("score.batch_size", "must be >= 1");
  if (flows::Shape(data.image_shape()) != model.input_shape())
    throw DataError(data.spec, "examples are " + flows::shape_string(data.image_shape()) + " but the model expects " +
                                   flows::shape_string(model.input_shape()));
  const bool was_training = model.is_training();
  model.eval();
  const auto params = model.parameters();
  const auto device = params.empty() ? torch::Device(torch::kCPU) : params.front().device();
  const auto dtype = params.empty() ? torch::kFloat32 : params.front().scalar_type();
  const int64_t total = o.limit > 0 ? std::min(o.limit, data.size()) : data.size();
  // A batch of b examples is b·(1 + probes) rows through a double-backward graph: keep rows near
  // score.batch_size. The exact mode is one example (D rows) at a time.
  const int64_t per_batch = lid.probes == 0 ? 1 : std::max<int64_t>(1, o.batch_size / (1 + lid.probes));
  std::vector<Statistic> out = {{"lid", {}}, {"lid_trace", {}}, {"lid_quadratic", {}}};
  for (auto& s : out) s.values.reserve(static_cast<size_t>(total));
  const auto key = dataset_key(data.spec);
  const auto dim = model.dim();
  for (int64_t first = 0; first < total; first += per_batch) {
    const auto n = std::min(per_batch, total - first);
    const auto x = data::to_model_input(data.images.narrow(0, first, n), device).to(dtype);
    const auto d = data_point(model, x, per_example_noise(x, first, o.seed, 0, key));
    std::vector<double> trace(static_cast<size_t>(n)), quadratic(static_cast<size_t>(n));
    if (lid.probes == 0) {
      for (int64_t i = 0; i < n; ++i) {
        const auto di = d.narrow(0, i, 1);
        torch::Tensor z;
        {
          torch::NoGradGuard g;
          z = latent_of(model, di);
        }
        const auto t = lid_exact(latent_jacobian(model, di), z, lid.delta);
        trace[static_cast<size_t>(i)] = t.trace;
        quadratic[static_cast<size_t>(i)] = t.quadratic;
      }
    } else {
      // Rademacher probes of example i from its own stream (batch-size independent, like its noise).
      std::vector<torch::Tensor> probes;
      for (int64_t i = 0; i < n; ++i) {
        auto gen = make_generator(derive_seed(o.seed, Stream::kLidProbe, key), Stream::kLidProbe,
                                  static_cast<uint64_t>(first + i));
        probes.push_back(torch::randint(0, 2, {lid.probes, dim}, gen, torch::kFloat64) * 2.0 - 1.0);
      }
      const auto [tr, quad] = estimate(model, d, lid, torch::stack(probes).to(device));
      const auto tr_cpu = tr.to(torch::kCPU).contiguous(), quad_cpu = quad.to(torch::kCPU).contiguous();
      std::copy_n(tr_cpu.data_ptr<double>(), n, trace.begin());
      std::copy_n(quad_cpu.data_ptr<double>(), n, quadratic.begin());
    }
    for (int64_t i = 0; i < n; ++i) {
      const auto k = static_cast<size_t>(i);
      if (!std::isfinite(trace[k]) || !std::isfinite(quadratic[k]))
        throw DataError(data.spec, fmt::format("example {}: the LID estimate is not finite (trace {}, quadratic {}); the "
                                               "model is numerically broken at this example",
                                               first + i, trace[k], quadratic[k]));
      out[0].values.push_back(trace[k] + quadratic[k]);
      out[1].values.push_back(trace[k]);
      out[2].values.push_back(quadratic[k]);
    }
    if (o.progress) o.progress(first + n, total);
  }
  model.train(was_training);
  return out;
}

std::vector<double> dual_threshold_scores(std::vector<double> reference_loglik, std::vector<double> reference_lid,
                                          const std::vector<double>& loglik, const std::vector<double>& lid,
                                          const std::string& source) {
  if (loglik.size() != lid.size())
    throw ConfigError("scores", fmt::format("lid: {} log-likelihoods against {} LID estimates", loglik.size(), lid.size()));
  for (auto* ref : {&reference_loglik, &reference_lid}) {
    if (ref->empty()) throw DataError(source, "lid: no reference examples");
    if (!std::all_of(ref->begin(), ref->end(), [](double v) { return std::isfinite(v); }))
      throw DataError(source, "lid: a reference value is not finite");
    std::sort(ref->begin(), ref->end());
  }
  const auto cdf = [](const std::vector<double>& sorted, double v) {
    return static_cast<double>(std::upper_bound(sorted.begin(), sorted.end(), v) - sorted.begin()) /
           static_cast<double>(sorted.size());
  };
  std::vector<double> out(loglik.size());
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = std::min(cdf(reference_loglik, loglik[i]), cdf(reference_lid, lid[i]));
  return out;
}

}  // namespace flowood::ood
