#include "flowood/experiment/report.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/io/atomic_file.hpp"
#include "flowood/ood/curves.hpp"
#include "flowood/ood/methods.hpp"
#include "flowood/viz/document.hpp"
#include "flowood/viz/lines.hpp"

namespace fs = std::filesystem;

namespace flowood::experiment {
namespace {
}  // namespace

ReportRun read_report_run(const std::string& dir, const ConfigCodec& codec) {
  if (!fs::is_directory(dir)) throw IoError(dir, "no such run directory");
  ReportRun r;
  r.dir = dir;
  r.config = codec.read(RunPaths{dir}.config(), {});
  r.label = fs::path(dir).filename().string();
  if (r.label.empty()) r.label = fs::path(dir).parent_path().filename().string();
  const auto metrics = dir + "/metrics.json";
  if (fs::exists(metrics)) r.metrics = io::read_json_file(metrics);
  else log().warn("{}: no metrics.json (not scored by `flowood run` yet): the report shows no metrics for it", dir);
  if (fs::exists(RunPaths{dir}.metrics_log())) r.curve = io::read_csv(RunPaths{dir}.metrics_log());
  return r;
}

namespace {

/// Evaluations of a run: metrics.json "methods", or the older "ood" (loglik only).
std::vector<io::Json> evaluations(const ReportRun& run) {
  std::vector<io::Json> out;
  if (!run.metrics) return out;
  if (run.metrics->contains("methods")) {
    for (const auto& e : io::json_at(*run.metrics, "methods")) out.push_back(e);
  } else if (run.metrics->contains("ood")) {
    for (auto e : io::json_at(*run.metrics, "ood")) {
      e["method"] = "loglik";
      out.push_back(std::move(e));
    }
  }
  return out;
}

std::string fixed(double v) { return std::isnan(v) ? "nan" : fmt::format("{:.4f}", v); }

std::string with_ci(const io::Json& e, const std::string& key) {
  std::string s = fixed(io::json_number(io::json_at(e, key)));
  if (e.contains("ci") && e.at("ci").contains(key)) {
    const auto& ci = e.at("ci").at(key);
    s += fmt::format(" [{:.3f}, {:.3f}]", io::json_number(io::json_at(ci, "low")), io::json_number(io::json_at(ci, "high")));
  }
  return s;
}

void configuration(viz::Document& doc, const std::vector<ReportRun>& runs) {
  doc.heading("Configuration");
  std::vector<std::string> header{"key"};
  for (const auto& r : runs) header.push_back(r.label);
  auto row = [&](const std::string& key, auto value) {
    std::vector<std::string> cells{key};
    for (const auto& r : runs) cells.push_back(value(r));
    return cells;
  };
  const std::vector<std::vector<std::string>> rows = {
      row("name", [](const ReportRun& r) { return r.config.name; }),
      row("flow", [](const ReportRun& r) {
        return fmt::format("{} [{}], st-net {} (mid {}, blocks {})", r.config.model.flow, fmt::join(r.config.model.in_shape, "×"),
                           r.config.model.st_net, r.config.model.mid_channels, r.config.model.num_blocks);
      }),
      row("data.train", [](const ReportRun& r) { return r.config.data.train; }),
      row("data.test", [](const ReportRun& r) { return r.config.data.test; }),
      row("data.ood", [](const ReportRun& r) { return fmt::format("{}", fmt::join(r.config.data.ood, ", ")); }),
      row("steps trained", [](const ReportRun& r) {
        return r.metrics && r.metrics->contains("step") ? std::to_string(io::json_int(io::json_at(*r.metrics, "step"))) : std::string("-");
      }),
      row("optimiser", [](const ReportRun& r) {
        return fmt::format("{}, lr {}, batch {}", r.config.train.optimizer, r.config.train.lr, r.config.train.batch_size);
      }),
      row("seed", [](const ReportRun& r) { return std::to_string(r.config.seed); }),
      row("scores", [](const ReportRun& r) { return fmt::format("{}", fmt::join(r.config.scores, ", ")); }),
  };
  doc.table(header, rows);
}

void training(viz::Document& doc, const std::vector<ReportRun>& runs, const std::string& out_dir) {
  std::vector<viz::LineSeries> series;
  for (const auto& r : runs) {
    if (!r.curve || r.curve->num_rows() == 0) continue;
    const auto& step = r.curve->column("step");
    series.push_back({r.label + " train", step, r.curve->column("train_bpd"), false});
    const auto& test = r.curve->column("test_bpd");
    if (std::any_of(test.begin(), test.end(), [](double v) { return !std::isnan(v); }))
      series.push_back({r.label + " test", step, test, true});
  }
  doc.heading("Training");
  if (series.empty()) {
    doc.paragraph("No training curve (metrics.csv) in these runs.");
    return;
  }
  viz::LinePlotOptions o;
  o.title = "training curve";
  o.x_label = "optimiser step";
  o.y_label = "bits/dim";
  const auto png = out_dir + "/training.png";
  viz::write_line_plot_png(png, series, o);
  doc.figure(png, "Training (solid) and periodic test (dashed) bits/dim per step, from metrics.csv.");
}

void metrics(viz::Document& doc, const std::vector<ReportRun>& runs) {
  doc.heading("OOD metrics");
  // Runs of the same experiment (config name) are pooled as repeats; runs of different experiments
  // (a pixel flow and an embedding flow, say) get rows of their own, side by side.
  std::vector<std::string> experiments;
  for (const auto& r : runs)
    if (std::find(experiments.begin(), experiments.end(), r.config.name) == experiments.end())
      experiments.push_back(r.config.name);
  const bool several = experiments.size() > 1;
  // (experiment, method) rows; (row, ood set) → the evaluation of each run that has it.
  std::vector<std::pair<std::string, std::string>> methods;
  std::vector<std::string> sets;
  std::map<std::pair<std::string, std::string>, std::vector<std::pair<std::string, io::Json>>> by_key;  // (run, evaluation)
  const auto row_name = [&](const std::pair<std::string, std::string>& m) {
    return several ? m.first + ": " + m.second : m.second;
  };
  for (const auto& r : runs) {
    for (const auto& e : evaluations(r)) {
      const std::pair<std::string, std::string> method{r.config.name, io::json_string(io::json_at(e, "method"))};
      const auto set = io::json_string(io::json_at(e, "dataset"));
      if (std::find(methods.begin(), methods.end(), method) == methods.end()) methods.push_back(method);
      if (std::find(sets.begin(), sets.end(), set) == sets.end()) sets.push_back(set);
      by_key[{row_name(method), set}].emplace_back(r.label, e);
    }
  }
  if (methods.empty()) {
    doc.paragraph("No metrics: score the runs with `flowood run`.");
    return;
  }
  const std::string in = runs.front().metrics ? io::json_string(io::json_at(*runs.front().metrics, "in_distribution")) : "";
  doc.paragraph(fmt::format("In-distribution (positive class): `{}`. AUROC of every score method against every OOD set{}{}; "
                            "intervals are 95 % bootstrap intervals.",
                            in, several ? ", one row per experiment and method" : "",
                            runs.size() > experiments.size() ? ", mean ± sd over the runs of an experiment" : ""));
  // Side by side: one row per method, one column per OOD set.
  std::vector<std::string> header{"method", "higher ="};
  for (const auto& s : sets) header.push_back("AUROC vs " + s);
  std::vector<std::vector<std::string>> rows;
  for (const auto& em : methods) {
    const auto& info = ood::score_method(em.second, "metrics.json");
    std::vector<std::string> row{row_name(em) + (info.per_example ? "" : " (per batch)"), info.higher_is_in ? "in" : "OOD"};
    for (const auto& s : sets) {
      const auto it = by_key.find({row_name(em), s});
      if (it == by_key.end()) {
        row.push_back("-");
      } else if (it->second.size() == 1) {
        row.push_back(with_ci(it->second.front().second, "auroc"));
      } else {
        std::vector<double> v;
        for (const auto& [label, e] : it->second) v.push_back(io::json_number(io::json_at(e, "auroc")));
        const auto ms = ood::mean_sd(v);
        row.push_back(fmt::format("{:.4f} ± {:.4f} (n = {})", ms.mean, ms.sd, ms.n));
      }
    }
    rows.push_back(std::move(row));
  }
  doc.table(header, rows);
  // Every metric, per method.
  for (const auto& em : methods) {
    const auto& m = em.second;
    doc.heading(row_name(em), 3);
    doc.paragraph(ood::score_method(m, "metrics.json").summary + ".");
    std::vector<std::vector<std::string>> detail;
    for (const auto& s : sets) {
      const auto it = by_key.find({row_name(em), s});
      if (it == by_key.end()) continue;
      for (const auto& [label, e] : it->second) {
        std::vector<std::string> row{s, label,
                                     std::to_string(io::json_int(io::json_at(e, "n_in"))), std::to_string(io::json_int(io::json_at(e, "n_out"))),
                                     with_ci(e, "auroc"), with_ci(e, "aupr_in"), with_ci(e, "aupr_out"),
                                     fixed(io::json_number(io::json_at(e, "fpr95_in_positive"))),
                                     fixed(io::json_number(io::json_at(e, "fpr95_ood_positive"))), fixed(io::json_number(io::json_at(e, "detection_error")))};
        if (e.contains("typicality")) {
          const auto& t = e.at("typicality");
          row.push_back(fmt::format("threshold {:.3f}; in accepted {:.3f}; OOD rejected {:.3f}; accuracy {:.3f}",
                                    io::json_number(io::json_at(t, "threshold")), io::json_number(io::json_at(t, "accepted_in")),
                                    io::json_number(io::json_at(t, "rejected_out")), io::json_number(io::json_at(t, "accuracy"))));
        }
        detail.push_back(std::move(row));
      }
    }
    std::vector<std::string> head{"ood", "run", "n_in", "n_out", "AUROC", "AUPR-in", "AUPR-out", "FPR95 (in+)",
                                  "FPR95 (ood+)", "detection error"};
    if (m == "typicality") head.push_back("group decisions");
    for (auto& row : detail) row.resize(head.size(), "-");
    doc.table(head, detail);
  }
}

void figures(viz::Document& doc, const std::vector<ReportRun>& runs) {
  struct Kind {
    std::string title, file, caption;
  };
  const std::vector<Kind> kinds = {
      {"Histograms", "histogram.png", "log-likelihood histograms of the test and OOD sets"},
      {"Latent representations", "latents.png", "visualize-latents: x, z, mean latent, batch-norm train mode"},
      {"Coupling layers", "coupling.png", "visualize-coupling: input, output, exp(s), −t of every coupling"},
      {"Samples", "samples.png", "samples from the flow"}};
  for (const auto& k : kinds) {
    bool any = false;
    for (const auto& r : runs) {
      const auto path = r.dir + "/" + k.file;
      if (!fs::exists(path)) continue;
      if (!any) doc.heading(k.title);
      any = true;
      doc.figure(path, fmt::format("{}: {}", r.label, k.caption));
    }
  }
  bool any = false;
  for (const auto& r : runs) {
    const auto dir = fs::path(r.dir) / "curves";
    if (!fs::is_directory(dir)) continue;
    std::vector<std::string> pngs;
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.path().extension() == ".png") pngs.push_back(entry.path().string());
    std::sort(pngs.begin(), pngs.end());
    for (const auto& p : pngs) {
      if (!any) doc.heading("ROC and precision-recall curves");
      any = true;
      doc.figure(p, fmt::format("{}: {}", r.label, fs::path(p).filename().string()));
    }
  }
}

}  // namespace

ReportFiles write_report(const std::vector<ReportRun>& runs, const std::string& out_flag, const std::string& title) {
  const std::string out = !out_flag.empty() ? out_flag : runs.size() == 1 ? runs.front().dir + "/report" : std::string("report");
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw IoError(out, "cannot create the report directory: " + ec.message());
  viz::Document doc(!title.empty() ? title
                    : runs.size() == 1 ? "flowood report: " + runs.front().config.name
                                       : fmt::format("flowood report: {} runs", runs.size()));
  std::vector<std::string> dirs;
  for (const auto& r : runs) dirs.push_back("`" + r.dir + "`");
  doc.paragraph(fmt::format("Run director{}: {}.", runs.size() == 1 ? "y" : "ies", fmt::join(dirs, ", ")));
  configuration(doc, runs);
  metrics(doc, runs);
  training(doc, runs, out);
  figures(doc, runs);
  ReportFiles files{out + "/report.md", out + "/report.html"};
  io::write_file_atomic(files.markdown, doc.markdown(out));
  io::write_file_atomic(files.html, doc.html());
  return files;
}

}  // namespace flowood::experiment
