#include "flowood/experiment/scoring.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/flows/precision.hpp"
#include "flowood/flows/preprocess.hpp"
#include "flowood/experiment/embeddings.hpp"
#include "flowood/experiment/stages.hpp"
#include "flowood/io/json_file.hpp"
#include "flowood/ood/classifier_scores.hpp"
#include "flowood/ood/gradient.hpp"
#include "flowood/ood/lid.hpp"
#include "flowood/ood/statistics.hpp"

namespace fs = std::filesystem;

namespace flowood::experiment {
namespace {

/// NaN or +inf log-likelihoods come from a numerically broken model (diverged training, an
/// overflow), never from the data: refuse them rather than write scores no one should rank. −inf
/// (an example the model gives zero density in float32) is a legitimate, extreme score: warned.
void check_finite_loglik(const std::vector<double>& loglik, const std::string& spec, const std::string& model_dir,
                         int64_t step) {
  int64_t broken = 0, minus_inf = 0, first = -1;
  for (size_t i = 0; i < loglik.size(); ++i) {
    if (std::isnan(loglik[i]) || loglik[i] == std::numeric_limits<double>::infinity()) {
      if (broken++ == 0) first = static_cast<int64_t>(i);
    } else if (std::isinf(loglik[i])) {
      ++minus_inf;
    }
  }
  if (broken > 0)
    throw DataError(model_dir, fmt::format("the model (checkpoint step {}) gives {} of {} examples of {} a NaN or +inf "
                                           "log-likelihood (first: example {}); it is numerically broken (diverged "
                                           "training?), so no scores were written",
                                           step, broken, loglik.size(), spec, first));
  if (minus_inf > 0)
    log().warn("{} of {} examples of {} have log-likelihood -inf under {} (zero density in float32)", minus_inf,
               loglik.size(), spec, model_dir);
}

std::vector<double> labels_of(const data::ImageDataset& d) {
  if (!d.has_labels()) return {};
  const auto l = d.labels.to(torch::kFloat64).contiguous();
  return {l.data_ptr<double>(), l.data_ptr<double>() + l.numel()};
}

/// index,label then the named columns, with `meta`.
io::CsvTable per_example_table(const io::CsvTable& like, std::map<std::string, std::string> meta,
                               std::vector<std::pair<std::string, std::vector<double>>> columns) {
  io::CsvTable t;
  t.meta = std::move(meta);
  t.add_column(io::kScoreIndexColumn, like.column(io::kScoreIndexColumn));
  t.add_column(io::kScoreLabelColumn, like.column(io::kScoreLabelColumn));
  for (auto& [name, values] : columns) t.add_column(name, std::move(values));
  return t;
}

std::string step_list(const std::vector<std::unique_ptr<LoadedRun>>& runs) {
  std::vector<std::string> steps;
  for (const auto& r : runs) steps.push_back(std::to_string(r->step));
  return fmt::format("{}", fmt::join(steps, ";"));
}



using Meta = std::map<std::string, std::string>;

std::string elapsed_text(std::chrono::steady_clock::time_point start) {
  return fmt::format("{:.2f}", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

/// One score method: the metadata known before computing (a score file whose metadata match is
/// reused) and the computation from the run's log-likelihood table `base`.
struct Method {
  bool needs_loglik = true;  ///< computes from the run's log-likelihoods (`base`)
  std::function<void(MethodScorer&, const std::string& spec, Meta&)> describe;
  std::function<io::CsvTable(MethodScorer&, const std::string& spec, const io::CsvTable& base, Meta&)> compute;
};

io::CsvTable loglik_method(const std::string& method, const io::CsvTable& base) {
  const auto& info = ood::score_method(method);
  auto table = base;
  table.meta["score"] = method;
  table.meta["higher_is_in"] = info.higher_is_in ? "true" : "false";
  table.meta["unit"] = info.unit;
  return table;
}

const config::ScoreConfig& score_config(const MethodScorer& s) { return s.run().config.score; }

std::string reference_spec(const MethodScorer& s) {
  return s.sources().typicality_reference.empty() ? s.run().config.data.train : s.sources().typicality_reference;
}

/// index,label and the named columns of an embedding run's per-example scores.
io::CsvTable embedding_table(const embedding::Embeddings& e, Meta meta,
                             std::vector<std::pair<std::string, std::vector<double>>> columns) {
  io::CsvTable t;
  t.meta = std::move(meta);
  const int64_t n = e.features.size(0);
  std::vector<double> index(static_cast<size_t>(n)), label(static_cast<size_t>(n), std::nan(""));
  for (int64_t i = 0; i < n; ++i) index[static_cast<size_t>(i)] = static_cast<double>(i);
  if (e.labels.defined())
    for (int64_t i = 0; i < n; ++i) label[static_cast<size_t>(i)] = static_cast<double>(e.labels[i].item<int64_t>());
  t.add_column(io::kScoreIndexColumn, std::move(index));
  t.add_column(io::kScoreLabelColumn, std::move(label));
  for (auto& [name, values] : columns) t.add_column(name, std::move(values));
  return t;
}

/// A classifier baseline: the extractor's identity makes the file current; `score` computes the column.
Method classifier_method(const std::string& name,
                         std::function<std::vector<double>(MethodScorer&, const embedding::Embeddings&)> score) {
  return {false,
          [](MethodScorer& s, const std::string&, Meta& meta) {
            meta["extractor"] = run_extractor(s.run().config, s.run_dir())->identity();
          },
          [name, score](MethodScorer& s, const std::string& spec, const io::CsvTable&, Meta& meta) {
            const auto e = embeddings_of(s.run().config, s.run_dir(), spec, s.limit());
            meta["dataset"] = spec;
            return embedding_table(e, meta, {{name, score(s, e)}});
          }};
}

std::vector<double> logits_score(const embedding::Embeddings& e, const std::string& spec, bool energy) {
  if (!e.logits.defined())
    throw ConfigError("scores", fmt::format("{} needs classifier logits: {} has none (embedding.extractor classifier "
                                            "gives them; a torchscript module or a feature file does not)",
                                            energy ? "energy" : "msp", spec));
  return energy ? ood::negative_energy(e.logits) : ood::max_softmax_probability(e.logits);
}

/// The noise scheme of every score file: files from before the per-set noise are recomputed.
constexpr const char* kNoiseScheme = "per-set";

std::string fit_spec(const MethodScorer& s) {
  return score_config(s).fit_data.empty() ? s.run().config.data.train : score_config(s).fit_data;
}

/// The formats of the fits: a new format makes older fits and the score files made with them stale.
constexpr const char* kDoseFit = "dose-1";
constexpr const char* kGradientFit = "gradient-1";
constexpr const char* kLidFit = "lid-1";

/// `describe` of a fitted method: its files are current while the fit data, limit and format are.
std::function<void(MethodScorer&, const std::string&, Meta&)> describe_fit(std::string format) {
  return [format](MethodScorer& s, const std::string&, Meta& meta) {
    meta["fit_data"] = fit_spec(s);
    meta["fit_limit"] = std::to_string(score_config(s).fit_limit);
    meta["fit_format"] = format;
  };
}

/// The metadata a fit must match to be reused (the model, its noise and the fit data).
io::Json fit_meta(const MethodScorer& s, const std::string& format) {
  io::Json m = io::Json::object();
  m["format"] = format;
  m["model"] = s.run_dir();
  m["step"] = s.run().step;
  m["fit_data"] = fit_spec(s);
  m["fit_limit"] = score_config(s).fit_limit;
  m["seed"] = s.options().seed;
  m["samples"] = s.options().samples;
  m["noise"] = kNoiseScheme;
  m["precision"] = flows::precision_name(flows::st_precision());
  return m;
}

/// The fit stored at `path` when its metadata equal `meta`, read by `parse`; nullopt when absent,
/// stale or damaged (it is then fitted again).
template <class Parse>
auto reuse_fit(const std::string& path, const io::Json& meta, Parse parse) -> std::optional<decltype(parse(meta))> {
  if (!fs::exists(path)) return std::nullopt;
  try {
    const auto j = io::read_json_file(path);
    if (io::json_at(j, "meta") == meta) return parse(j);
    log().info("fit {} was made for another model, data or format: fitting again", path);
  } catch (const Error& e) {
    log().warn("fit {} is unreadable ({}): fitting again", path, e.what());
  }
  return std::nullopt;
}

void write_fit(const std::string& path, const io::Json& fit) {
  try {
    fs::create_directories(fs::path(path).parent_path());
    io::write_json_file(path, fit);
  } catch (const std::exception& e) {
    log().warn("cannot save the fit at {} ({}); it is used for this command only", path, e.what());
  }
}

std::vector<double> json_values(const io::Json& array, const std::string& source) {
  if (!array.is_array()) throw DataError(source, "a fit's values must be an array");
  std::vector<double> v;
  v.reserve(array.size());
  for (const auto& x : array) v.push_back(io::json_number(x));
  return v;
}

/// DoSE's density estimates, fitted on the fit set's statistics (or read back from RUN/fits/dose.json).
std::pair<std::vector<ood::Kde>, std::vector<std::string>> dose_fit(MethodScorer& s) {
  const auto path = s.fit_file("dose");
  const auto meta = fit_meta(s, kDoseFit);
  using Fit = std::pair<std::vector<ood::Kde>, std::vector<std::string>>;
  if (auto fit = reuse_fit(path, meta, [&](const io::Json& j) {
        Fit f;
        for (const auto& st : io::json_at(j, "statistics")) {
          f.second.push_back(io::json_string(io::json_at(st, "name")));
          f.first.push_back({json_values(io::json_at(st, "points"), path), io::json_number(io::json_at(st, "bandwidth"))});
          if (f.first.back().points.empty() || !(f.first.back().bandwidth > 0))
            throw DataError(path, "a statistic has no points or a bandwidth <= 0");
        }
        return f;
      })) {
    log().info("dose fit read from {} ({} statistics)", path, fit->first.size());
    return *fit;
  }
  std::vector<ood::Kde> kdes;
  std::vector<std::string> names;
  const auto spec = fit_spec(s);
  const auto table = s.loglik_of(s.run(), s.run_dir(), spec, s.cache_file(s.run_dir(), spec), false, score_config(s).fit_limit);
  io::Json stats = io::Json::array();
  for (auto& st : ood::dose_statistics(loglik_terms(table))) {
    kdes.push_back(ood::fit_kde(st.values, spec + " (" + st.name + ")"));
    names.push_back(st.name);
    stats.push_back({{"name", st.name}, {"bandwidth", kdes.back().bandwidth}, {"points", kdes.back().points}});
  }
  log().info("dose fitted on {} examples of {}: {} statistics, saved to {}", table.num_rows(), spec, kdes.size(), path);
  write_fit(path, {{"meta", meta}, {"statistics", stats}});
  return {kdes, names};
}

/// The gradient score's fit: each layer's log-norm mean and sd, and the references of the two tests
/// Fisher's method combines (the standardised sum of the layers, one-sided; log p(x), two-sided).
struct GradientFit {
  std::vector<ood::StandardizedReference> layers;
  std::vector<ood::StandardizedReference> tests;
};

io::Json reference_json(const ood::StandardizedReference& r) {
  return {{"name", r.name}, {"mean", r.mean}, {"sd", r.sd}, {"two_sided", r.two_sided}, {"sorted", r.sorted}};
}

ood::StandardizedReference reference_from_json(const io::Json& j, const std::string& path) {
  ood::StandardizedReference r;
  r.name = io::json_string(io::json_at(j, "name"));
  r.mean = io::json_number(io::json_at(j, "mean"));
  r.sd = io::json_number(io::json_at(j, "sd"));
  r.two_sided = io::json_bool(io::json_at(j, "two_sided"));
  r.sorted = json_values(io::json_at(j, "sorted"), path);
  if (!std::isfinite(r.mean) || !(r.sd > 0) || r.sorted.empty() || !std::is_sorted(r.sorted.begin(), r.sorted.end()))
    throw DataError(path, fmt::format("statistic {}: a non-finite mean, an sd <= 0, or no or unsorted values", r.name));
  return r;
}

/// The gradient score's statistics, per layer, from per-example gradients (the last is log p(x)).
std::pair<std::vector<ood::Statistic>, ood::Statistic> split_loglik(std::vector<ood::Statistic> stats) {
  auto loglik = std::move(stats.back());
  stats.pop_back();
  return {std::move(stats), std::move(loglik)};
}

/// Fitted on the fit set, or read back from RUN/fits/gradient.json.
GradientFit gradient_fit(MethodScorer& s) {
  const auto path = s.fit_file("gradient");
  const auto meta = fit_meta(s, kGradientFit);
  if (auto fit = reuse_fit(path, meta, [&](const io::Json& j) {
        GradientFit f;
        for (const auto& r : io::json_at(j, "layers")) f.layers.push_back(reference_from_json(r, path));
        for (const auto& r : io::json_at(j, "tests")) f.tests.push_back(reference_from_json(r, path));
        if (f.tests.size() != 2) throw DataError(path, "tests: expected the gradient sum and log p(x)");
        return f;
      })) {
    log().info("gradient fit read from {} ({} layers)", path, fit->layers.size());
    return *fit;
  }
  GradientFit fit;
  const auto spec = fit_spec(s);
  const auto dataset = load_for_model(s.run().config, spec, score_config(s).fit_limit, s.run_dir());
  log().info("gradient: per-example gradients of {} examples of {} for the fit", dataset.size(), spec);
  auto options = s.options();
  options.limit = score_config(s).fit_limit;
  const auto [layers, loglik] = split_loglik(ood::gradient_statistics(*s.run().model.ptr(), dataset, options));
  io::Json layers_json = io::Json::array(), tests_json = io::Json::array();
  for (const auto& st : layers) {
    fit.layers.push_back(ood::standardize_reference(st, spec + " (" + st.name + ")", /*two_sided=*/false));
    layers_json.push_back(reference_json(fit.layers.back()));
  }
  const auto sum = ood::standardized_sum(layers, fit.layers, "gradient_sum");
  fit.tests = {ood::standardize_reference(sum, spec + " (gradient_sum)", /*two_sided=*/false),
               ood::standardize_reference(loglik, spec + " (loglik)", /*two_sided=*/true)};
  for (const auto& t : fit.tests) tests_json.push_back(reference_json(t));
  write_fit(path, {{"meta", meta}, {"layers", layers_json}, {"tests", tests_json}});
  return fit;
}

ood::LidOptions lid_options(const MethodScorer& s) {
  const auto& c = score_config(s);
  return {c.lid_delta, c.lid_probes, c.lid_steps};
}

std::string lid_settings(const MethodScorer& s) {
  const auto o = lid_options(s);
  return fmt::format("delta={};probes={};steps={}", o.delta, o.probes, o.steps);
}

/// lid, lid_trace and lid_quadratic of the first `limit` examples of `spec`.
std::vector<ood::Statistic> lid_of(MethodScorer& s, const std::string& spec, int64_t limit) {
  const auto dataset = load_for_model(s.run().config, spec, limit, s.run_dir());
  log().info("lid: local intrinsic dimension of {} examples of {} ({})", dataset.size(), dataset.spec, lid_settings(s));
  auto options = s.options();
  options.limit = limit;
  return ood::lid_statistics(*s.run().model.ptr(), dataset, options, lid_options(s));
}

/// The dual threshold's references: log p(x) and LID of the fit set (or read back from RUN/fits/lid.json).
struct LidFit {
  std::vector<double> loglik, lid;
};

LidFit lid_fit(MethodScorer& s) {
  const auto path = s.fit_file("lid");
  auto meta = fit_meta(s, kLidFit);
  meta["lid"] = lid_settings(s);
  if (auto fit = reuse_fit(path, meta, [&](const io::Json& j) {
        LidFit f{json_values(io::json_at(j, "loglik"), path), json_values(io::json_at(j, "lid"), path)};
        if (f.loglik.empty() || f.loglik.size() != f.lid.size())
          throw DataError(path, "loglik and lid must be non-empty and of one length");
        return f;
      })) {
    log().info("lid fit read from {} ({} examples)", path, fit->lid.size());
    return *fit;
  }
  const auto spec = fit_spec(s);
  const auto limit = score_config(s).fit_limit;
  LidFit fit{s.loglik_of(s.run(), s.run_dir(), spec, s.cache_file(s.run_dir(), spec), false, limit)
                 .column(io::kScoreLoglikColumn),
             lid_of(s, spec, limit).front().values};
  write_fit(path, {{"meta", meta}, {"loglik", fit.loglik}, {"lid", fit.lid}});
  return fit;
}

/// The method table: every name of ood::score_methods() has a row.
const std::map<std::string, Method>& method_table() {
  static const std::map<std::string, Method> table = {
      {"loglik",
       {true, nullptr, [](MethodScorer&, const std::string&, const io::CsvTable& base, Meta&) { return loglik_method("loglik", base); }}},
      {"bpd",
       {true, nullptr, [](MethodScorer&, const std::string&, const io::CsvTable& base, Meta&) { return loglik_method("bpd", base); }}},
      {"input-complexity",
       {true, [](MethodScorer& s, const std::string&, Meta& meta) { meta["codec"] = score_config(s).codec; },
        [](MethodScorer& s, const std::string& spec, const io::CsvTable& base, Meta& meta) {
          const auto dataset = load_for_model(s.run().config, spec, s.limit());
          const auto bits = ood::compressed_bits(dataset.images, ood::parse_codec(score_config(s).codec));
          const auto& ll = base.column(io::kScoreLoglikColumn);
          return per_example_table(base, meta, {{"input-complexity", ood::input_complexity_scores(ll, bits)},
                                                {"loglik", ll},
                                                {"complexity_bits", bits}});
        }}},
      {"likelihood-ratio",
       {true,
        [](MethodScorer& s, const std::string&, Meta& meta) {
          meta["background"] = s.sources().background_dir;
          meta["background_step"] = std::to_string(s.background().step);
        },
        [](MethodScorer& s, const std::string& spec, const io::CsvTable& base, Meta& meta) {
          const auto& dir = s.sources().background_dir;
          const auto bg = s.loglik_of(s.background(), dir, spec, s.cache_file(dir, spec));
          const auto& ll = base.column(io::kScoreLoglikColumn);
          const auto& llb = bg.column(io::kScoreLoglikColumn);
          return per_example_table(base, meta, {{"likelihood-ratio", ood::likelihood_ratio(ll, llb)},
                                                {"loglik", ll},
                                                {"loglik_background", llb}});
        }}},
      {"waic",
       {true,
        [](MethodScorer& s, const std::string&, Meta& meta) {
          meta["ensemble"] = fmt::format("{}", fmt::join(s.sources().ensemble_dirs, ";"));
          meta["ensemble_steps"] = step_list(s.ensemble());
        },
        [](MethodScorer& s, const std::string& spec, const io::CsvTable& base, Meta& meta) {
          std::vector<std::vector<double>> members{base.column(io::kScoreLoglikColumn)};
          const auto& runs = s.ensemble();
          for (size_t k = 0; k < runs.size(); ++k) {
            const auto& dir = s.sources().ensemble_dirs[k];
            members.push_back(s.loglik_of(*runs[k], dir, spec, s.cache_file(dir, spec)).column(io::kScoreLoglikColumn));
          }
          const auto w = ood::waic(members);
          std::vector<double> mean(w.size()), var(w.size());
          for (size_t i = 0; i < w.size(); ++i) {
            for (const auto& m : members) mean[i] += m[i] / static_cast<double>(members.size());
            var[i] = mean[i] - w[i];
          }
          return per_example_table(base, meta, {{"waic", w}, {"loglik_mean", mean}, {"loglik_var", var}});
        }}},
      {"bn-train",
       {false, [](MethodScorer& s, const std::string&, Meta& meta) { meta["batch_size"] = std::to_string(s.options().batch_size); },
        [](MethodScorer& s, const std::string& spec, const io::CsvTable&, Meta& meta) {
          const auto bn = s.loglik_of(s.run(), s.run_dir(), spec, {}, /*bn_train=*/true);
          meta["dataset"] = bn.meta.at("dataset");
          return per_example_table(bn, meta, {{"bn-train", bn.column(io::kScoreLoglikColumn)}, {"bpd", bn.column(io::kScoreBpdColumn)}});
        }}},
      {"typicality",
       {true,
        [](MethodScorer& s, const std::string&, Meta& meta) {
          const auto& ref = s.typicality_reference();
          meta["batch_m"] = std::to_string(score_config(s).typicality_batch);
          meta["reference"] = reference_spec(s);
          meta["heldout"] = s.typicality_heldout_spec();
          meta["entropy"] = fmt::format("{}", ref.entropy);
          meta["threshold"] = fmt::format("{}", ref.threshold);
        },
        [](MethodScorer& s, const std::string& spec, const io::CsvTable& base, Meta& meta) {
          const auto& ref = s.typicality_reference();
          const int64_t m = score_config(s).typicality_batch;
          const auto batches = ood::typicality_batches(base.column(io::kScoreLoglikColumn), ref.entropy, m);
          if (batches.empty())
            throw DataError(spec, fmt::format("has {} examples, fewer than one typicality batch of {}", base.num_rows(), m));
          std::vector<double> index, first, eps, mean_nll;
          for (const auto& b : batches) {
            index.push_back(static_cast<double>(index.size()));
            first.push_back(static_cast<double>(b.first));
            eps.push_back(b.epsilon);
            mean_nll.push_back(b.mean_nll);
          }
          io::CsvTable table;
          table.meta = meta;
          table.add_column("batch", std::move(index));
          table.add_column("first", std::move(first));
          table.add_column("typicality", std::move(eps));
          table.add_column("mean_nll", std::move(mean_nll));
          return table;
        }}},
      {"level-ratio",
       {true, nullptr,
        [](MethodScorer&, const std::string&, const io::CsvTable& base, Meta& meta) {
          const auto terms = loglik_terms(base);
          std::vector<std::pair<std::string, std::vector<double>>> columns = {{"level-ratio", ood::level_ratio(terms)},
                                                                              {"loglik", terms.loglik}};
          for (size_t l = 0; l < terms.level.size(); ++l)
            columns.emplace_back(fmt::format("loglik_level{}", l), terms.level[l]);
          meta["level_dims"] = base.meta.count("level_dims") ? base.meta.at("level_dims") : "";
          return per_example_table(base, meta, std::move(columns));
        }}},
      {"dose",
       {true,
        describe_fit(kDoseFit),
        [](MethodScorer& s, const std::string&, const io::CsvTable& base, Meta& meta) {
          const auto [kdes, names] = dose_fit(s);
          const auto stats = ood::dose_statistics(loglik_terms(base));
          std::vector<std::pair<std::string, std::vector<double>>> columns = {{"dose", ood::dose_scores(kdes, names, stats)}};
          for (size_t j = 0; j < stats.size(); ++j)
            columns.emplace_back("logkde_" + stats[j].name, ood::kde_log_density(kdes[j], stats[j].values));
          return per_example_table(base, meta, std::move(columns));
        }}},
      {"gradient",
       {true,
        describe_fit(kGradientFit),
        [](MethodScorer& s, const std::string& spec, const io::CsvTable& base, Meta& meta) {
          const auto fit = gradient_fit(s);
          const auto dataset = load_for_model(s.run().config, spec, s.limit(), s.run_dir());
          log().info("gradient: per-example gradients of {} examples of {}", dataset.size(), dataset.spec);
          auto options = s.options();
          options.limit = s.limit();
          const auto [layers, loglik] = split_loglik(ood::gradient_statistics(*s.run().model.ptr(), dataset, options));
          if (loglik.values.size() != base.num_rows())
            throw Error(fmt::format("gradient: {} examples of {} against {} log-likelihoods", loglik.values.size(), spec,
                                    base.num_rows()));
          const auto sum = ood::standardized_sum(layers, fit.layers, "gradient_sum");
          std::vector<std::pair<std::string, std::vector<double>>> columns = {
              {"gradient", ood::fisher_scores(fit.tests, {sum, loglik})}, {"gradient_sum", sum.values}, {"loglik", loglik.values}};
          for (const auto& st : layers) columns.emplace_back(st.name, st.values);
          return per_example_table(base, meta, std::move(columns));
        }}},
      {"lid",
       {true,
        [](MethodScorer& s, const std::string& spec, Meta& meta) {
          describe_fit(kLidFit)(s, spec, meta);
          meta["lid"] = lid_settings(s);
        },
        [](MethodScorer& s, const std::string& spec, const io::CsvTable& base, Meta& meta) {
          const auto fit = lid_fit(s);
          const auto stats = lid_of(s, spec, s.limit());
          const auto& ll = base.column(io::kScoreLoglikColumn);
          if (stats.front().values.size() != ll.size())
            throw Error(fmt::format("lid: {} examples of {} against {} log-likelihoods", stats.front().values.size(), spec,
                                    ll.size()));
          const auto score = ood::dual_threshold_scores(fit.loglik, fit.lid, ll, stats.front().values, s.fit_file("lid"));
          return per_example_table(base, meta, {{"lid", score}, {"loglik", ll}, {"lid_estimate", stats[0].values},
                                                {"lid_trace", stats[1].values}, {"lid_quadratic", stats[2].values}});
        }}},
      {"msp", classifier_method("msp", [](MethodScorer& s, const embedding::Embeddings& e) {
         return logits_score(e, s.run().config.data.test, false);
       })},
      {"energy", classifier_method("energy", [](MethodScorer& s, const embedding::Embeddings& e) {
         return logits_score(e, s.run().config.data.test, true);
       })},
      {"mahalanobis", classifier_method("mahalanobis", [](MethodScorer& s, const embedding::Embeddings& e) {
         const auto& cfg = s.run().config;
         const auto train = embeddings_of(cfg, s.run_dir(), cfg.data.train, cfg.data.train_limit);
         if (!train.labels.defined())
           throw DataError(cfg.data.train, "mahalanobis needs the training set's labels (class means); it has none");
         return ood::mahalanobis_scores(ood::fit_mahalanobis(train.features, train.labels), e.features);
       })},
  };
  return table;
}

/// The row of `method`; ConfigError listing the valid names (ood::score_method) otherwise.
const Method& method_of(const std::string& method) {
  (void)ood::score_method(method);  // an unknown name lists the valid ones
  const auto& table = method_table();
  const auto it = table.find(method);
  if (it == table.end()) throw Error(fmt::format("score method {} has no implementation in experiment/scoring", method));
  return it->second;
}

}  // namespace

std::vector<std::string> MethodScorer::method_names() {
  std::vector<std::string> names;
  for (const auto& [name, method] : method_table()) names.push_back(name);
  return names;
}

std::string method_score_file(const RunPaths& run, const std::string& spec, const std::string& method) {
  auto path = run.score_file(spec);
  if (method == "loglik" || method == "bpd") return path;
  return path.substr(0, path.size() - 4) + "." + method + ".csv";
}

bool score_file_is_current(const std::string& path, const std::map<std::string, std::string>& meta) {
  if (path.empty() || !fs::exists(path)) return false;
  try {
    const auto t = io::read_score_csv(path);
    for (const auto& [key, value] : meta) {
      if (key == "precision" && value == "fp32" && !t.meta.count(key)) continue;  // files from before the key
      if (!t.meta.count(key) || t.meta.at(key) != value) return false;
    }
    return true;
  } catch (const Error&) {
    return false;
  }
}

MethodScorer::MethodScorer(const LoadedRun& run, std::string run_dir, ood::LoglikOptions options, int64_t limit,
                           MethodSources sources, ConfigCodec codec, std::string cache_dir)
    : run_(run),
      run_dir_(std::move(run_dir)),
      options_(std::move(options)),
      limit_(limit),
      sources_(std::move(sources)),
      codec_(std::move(codec)),
      cache_dir_(std::move(cache_dir)) {}

std::string MethodScorer::cache_file(const std::string& dir, const std::string& spec) const {
  return cache_dir_.empty() ? std::string() : method_score_file(RunPaths{dir}, spec, "loglik");
}

io::CsvTable MethodScorer::own_loglik(const std::string& spec) {
  return loglik_of(run_, run_dir_, spec, cache_file(run_dir_, spec));
}

MethodScorer::~MethodScorer() = default;

std::map<std::string, std::string> MethodScorer::base_meta(const std::string& method, const std::string& spec) const {
  const auto& info = ood::score_method(method);
  return {{"spec", spec},
          {"score", method},
          {"higher_is_in", info.higher_is_in ? "true" : "false"},
          {"unit", info.unit},
          {"model", run_dir_},
          {"step", std::to_string(run_.step)},
          {"samples", std::to_string(options_.samples)},
          {"seed", std::to_string(options_.seed)},
          {"limit", std::to_string(limit_)},
          {"noise", kNoiseScheme},
          {"precision", flows::precision_name(flows::st_precision())}};
}

io::CsvTable MethodScorer::loglik_of(const LoadedRun& model, const std::string& model_dir, const std::string& spec,
                                     const std::string& cache_csv, bool bn_train, int64_t limit) {
  if (limit < 0) limit = limit_;
  std::map<std::string, std::string> meta = {{"spec", spec},
                                             {"score", "loglik"},
                                             {"higher_is_in", "true"},
                                             {"model", model_dir},
                                             {"step", std::to_string(model.step)},
                                             {"samples", std::to_string(options_.samples)},
                                             {"seed", std::to_string(options_.seed)},
                                             {"limit", std::to_string(limit)},
                                             {"noise", kNoiseScheme},
                                             {"precision", flows::precision_name(flows::st_precision())}};
  if (score_file_is_current(cache_csv, meta)) {
    log().info("scores of {} under {} are current: {}", spec, model_dir, cache_csv);
    return io::read_score_csv(cache_csv);
  }
  const auto dataset = load_for_model(model.config, spec, limit, model_dir);
  if (dataset.size() == 0)
    throw DataError(dataset.spec, "no examples to score (the selection or --limit left none)");
  auto options = options_;
  options.batch_norm_train_mode = bn_train;
  log().info("scoring {} under {} ({} examples, {} sample{} each{})", dataset.spec, model_dir, dataset.size(),
             options.samples, options.samples == 1 ? "" : "s", bn_train ? ", batch norm in train mode" : "");
  const auto started = std::chrono::steady_clock::now();
  const auto scores = ood::score_loglik(*model.model.ptr(), dataset, options);
  check_finite_loglik(scores.loglik, dataset.spec, model_dir, model.step);
  meta["dataset"] = dataset.spec;
  meta["level_dims"] = fmt::format("{}", fmt::join(scores.level_dims, ";"));
  meta["seconds"] = elapsed_text(started);
  auto table = io::make_loglik_score_table(scores.loglik, scores.bpd, labels_of(dataset), meta);
  table.add_column("loglik_outside", scores.outside);
  for (size_t l = 0; l < scores.level.size(); ++l) {
    table.add_column(fmt::format("loglik_level{}", l), scores.level[l]);
    table.add_column(fmt::format("sqnorm_level{}", l), scores.sqnorm[l]);
  }
  if (!cache_csv.empty()) {
    fs::create_directories(fs::path(cache_csv).parent_path());
    io::write_score_csv(cache_csv, table);
  }
  return table;
}

const LoadedRun& MethodScorer::background() {
  if (!background_) {
    if (sources_.background_dir.empty() || !fs::exists(RunPaths{sources_.background_dir}.checkpoint()))
      throw ConfigError("scores", fmt::format("likelihood-ratio needs a background run ({}); `flowood run` trains it "
                                              "when scores lists likelihood-ratio, `score` takes --background DIR",
                                              sources_.background_dir.empty() ? "none given" : sources_.background_dir + " has no checkpoint"));
    background_ = std::make_unique<LoadedRun>(load_run(sources_.background_dir, run_.device, codec_));
  }
  return *background_;
}

const std::vector<std::unique_ptr<LoadedRun>>& MethodScorer::ensemble() {
  if (ensemble_.empty()) {
    if (sources_.ensemble_dirs.empty())
      throw ConfigError("score.ensemble", "waic needs other ensemble members; `flowood run` trains score.ensemble − 1 "
                                          "of them when scores lists waic, `score` takes --ensemble DIR (repeatable)");
    for (const auto& dir : sources_.ensemble_dirs) {
      ensemble_.push_back(std::make_unique<LoadedRun>(load_run(dir, run_.device, codec_)));
      if (ensemble_.back()->model->dim() != run_.model->dim())
        throw ConfigError("score.ensemble", fmt::format("{} models {} dimensions, this run {}", dir,
                                                        ensemble_.back()->model->dim(), run_.model->dim()));
    }
  }
  return ensemble_;
}

const ood::TypicalityReference& MethodScorer::typicality_reference() {
  if (!reference_) {
    const auto& cfg = run_.config;
    const auto spec = reference_spec(*this);
    const auto heldout = typicality_heldout_spec();
    const auto table = own_loglik(spec);
    const auto held = heldout == spec ? table : own_loglik(heldout);
    ood::TypicalityOptions o;
    o.batch = cfg.score.typicality_batch;
    o.bootstrap = cfg.score.typicality_bootstrap;
    o.alpha = cfg.score.typicality_alpha;
    o.seed = static_cast<uint64_t>(cfg.seed);
    reference_ = std::make_unique<ood::TypicalityReference>(ood::typicality_reference(
        table.column(io::kScoreLoglikColumn), held.column(io::kScoreLoglikColumn), o));
    log().info("typicality: entropy estimate {:.2f} nats from {} ({} examples), threshold {:.3f} nats from {} ({} "
               "examples; M = {}, alpha {})",
               reference_->entropy, spec, reference_->n, reference_->threshold, heldout, reference_->n_heldout, o.batch,
               o.alpha);
  }
  return *reference_;
}

io::CsvTable MethodScorer::score(const std::string& method, const std::string& spec, const std::string& out_csv,
                                 const std::function<void(const io::CsvTable&)>& before_write) {
  const auto& impl = method_of(method);
  auto meta = base_meta(method, spec);
  if (impl.describe) impl.describe(*this, spec, meta);
  // loglik and bpd are the cached log-likelihood table itself, current or recomputed below.
  if (method != "loglik" && method != "bpd" && score_file_is_current(out_csv, meta)) {
    log().info("{} scores of {} are current: {}", method, spec, out_csv);
    return io::read_score_csv(out_csv);
  }
  const auto base = impl.needs_loglik ? own_loglik(spec) : io::CsvTable{};
  if (!base.columns.empty()) meta["dataset"] = base.meta.at("dataset");
  const auto started = std::chrono::steady_clock::now();
  auto table = impl.compute(*this, spec, base, meta);
  // The method's own time, beyond the log-likelihoods it starts from (their file has theirs).
  if (method != "loglik" && method != "bpd") table.meta["seconds"] = elapsed_text(started);
  if (!out_csv.empty()) {
    fs::create_directories(fs::path(out_csv).parent_path());
    if (before_write) before_write(table);
    io::write_score_csv(out_csv, table);
  }
  return table;
}

std::string MethodScorer::typicality_heldout_spec() const {
  if (!sources_.typicality_heldout.empty()) return sources_.typicality_heldout;
  const auto& cfg = run_.config;
  if (!cfg.score.typicality_heldout.empty()) return cfg.score.typicality_heldout;
  // The in-distribution test examples this run never scores: data.test after its first data.test_limit.
  if (cfg.data.test_limit > 0) {
    const auto spec = cfg.data.test + (cfg.data.test.find('?') == std::string::npos ? "?" : "&") +
                      fmt::format("skip={}", cfg.data.test_limit);
    // Whether any example is left over, known once per process (a check loads the test set).
    static std::map<std::string, bool> left_over;
    const auto key = run_dir_ + "\n" + spec;
    if (!left_over.count(key)) {
      try {
        left_over[key] = load_for_model(cfg, spec, 1, run_dir_).size() > 0;
      } catch (const DataError&) {
        left_over[key] = false;  // fewer test examples than data.test_limit
      }
    }
    if (left_over[key]) return spec;
  }
  static bool warned = false;
  if (!std::exchange(warned, true))
    log().warn("typicality: no held-out in-distribution data (set score.typicality_heldout, or data.test_limit below "
               "the test set's size); the threshold comes from {}, so fewer than 1 - alpha of in-distribution batches "
               "will be accepted", reference_spec(*this));
  return reference_spec(*this);
}

std::string MethodScorer::fit_file(const std::string& method) const { return run_dir_ + "/fits/" + method + ".json"; }

ood::LoglikScores loglik_terms(const io::CsvTable& t) {
  ood::LoglikScores s;
  s.loglik = t.column(io::kScoreLoglikColumn);
  s.bpd = t.column(io::kScoreBpdColumn);
  s.outside = t.column("loglik_outside");
  const auto dims = t.meta_at("level_dims");
  std::stringstream in(dims);
  for (std::string d; std::getline(in, d, ';');) {
    const auto l = s.level.size();
    s.level.push_back(t.column(fmt::format("loglik_level{}", l)));
    s.sqnorm.push_back(t.column(fmt::format("sqnorm_level{}", l)));
    try {
      s.level_dims.push_back(std::stoll(d));
    } catch (const std::exception&) {
      throw IoError(t.source, fmt::format("metadata level_dims: '{}' is not a list of integers", dims));
    }
  }
  return s;
}

MethodSources default_sources(const std::string& run_dir, const config::ExperimentConfig& config,
                              const std::string& background, const std::vector<std::string>& ensemble,
                              const std::string& reference, const std::string& heldout) {
  MethodSources s;
  s.background_dir = background.empty() ? run_dir + "/background" : background;
  s.ensemble_dirs = ensemble;
  const auto members = fs::path(run_dir) / "ensemble";
  if (s.ensemble_dirs.empty() && fs::is_directory(members)) {
    for (const auto& entry : fs::directory_iterator(members))
      if (fs::exists(entry.path() / "checkpoint.pt")) s.ensemble_dirs.push_back(entry.path().string());
    std::sort(s.ensemble_dirs.begin(), s.ensemble_dirs.end());
  }
  s.typicality_reference = reference.empty() ? config.score.typicality_reference : reference;
  s.typicality_heldout = heldout;
  return s;
}

}  // namespace flowood::experiment
