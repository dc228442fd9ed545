// flowood histogram: overlaid density histograms of score files (the paper's likelihood plots),
// as a PNG plus the binned counts as CSV.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "flowood/core/error.hpp"
#include "flowood/io/atomic_file.hpp"
#include "flowood/io/csv.hpp"
#include "flowood/viz/histogram.hpp"

namespace flowood::app {
namespace {

struct HistogramCmdOptions {
  std::vector<std::string> files;
  std::string out_path;
  std::string csv_path;
  std::string column = io::kScoreLoglikColumn;
  double clip_percent = 5.0;
  int bins = viz::HistogramOptions{}.bins;
  std::string title;
  int width = viz::HistogramOptions{}.width;
  int height = viz::HistogramOptions{}.height;
  std::vector<std::string> labels;
};

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string x_label_for(const std::string& column) {
  if (column == io::kScoreLoglikColumn) return "log-likelihood (nats)";
  if (column == io::kScoreBpdColumn) return "bits/dim";
  return column;
}

// OUT with its .png extension (any case) replaced by .csv, or .csv appended.
std::string default_csv_path(const std::string& out) {
  std::filesystem::path p(out);
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".png") return p.replace_extension(".csv").string();
  return out + ".csv";
}

void run_histogram(HistogramCmdOptions o) {
  if (!(o.clip_percent >= 0.0 && o.clip_percent < 100.0))
    throw ConfigError("--clip-percent", "must be in [0, 100) (got " + format_number(o.clip_percent) + ")");
  if (o.labels.size() > o.files.size())
    throw ConfigError("--label", "given " + std::to_string(o.labels.size()) + " times for " +
                                     std::to_string(o.files.size()) + " file(s)");
  if (o.csv_path.empty()) o.csv_path = default_csv_path(o.out_path);
  if (std::filesystem::path(o.csv_path).lexically_normal() == std::filesystem::path(o.out_path).lexically_normal())
    throw ConfigError("--csv", "must differ from --out (both are " + o.out_path + ")");
  io::check_output_path(o.out_path, "--out");
  io::check_output_path(o.csv_path, "--csv");

  std::vector<viz::HistogramSeries> series;
  std::vector<std::int64_t> dropped;
  for (std::size_t i = 0; i < o.files.size(); ++i) {
    auto one = viz::score_file_series(o.files[i], o.column, o.clip_percent / 100.0, i < o.labels.size() ? o.labels[i] : "");
    series.push_back(std::move(one.series));
    dropped.push_back(one.dropped);
  }
  viz::HistogramOptions ho;
  ho.title = o.title;
  ho.x_label = x_label_for(o.column);
  ho.bins = o.bins;
  ho.drop_lowest_fraction = 0.0;  // clipped above, in the right direction per column
  ho.width = o.width;
  ho.height = o.height;
  viz::Histogram h = viz::write_histogram_png(o.out_path, series, ho);
  h.n_dropped = dropped;
  viz::write_histogram_csv(o.csv_path, h);
  std::cout << o.out_path << "\n" << o.csv_path << "\n";
  std::cout.flush();
}

}  // namespace

void register_histogram(CLI::App& app) {
  auto o = std::make_shared<HistogramCmdOptions>();
  auto* cmd = app.add_subcommand("histogram", "Overlaid density histograms of score files, as PNG plus binned CSV");
  cmd->add_option("files", o->files, "Score CSV files, one series each")->required()->type_name("FILE");
  cmd->add_option("--out,-o", o->out_path, "PNG file to write")->required()->type_name("FILE");
  cmd->add_option("--column", o->column,
                  "Score column to plot (default loglik; x label: loglik = nats, bpd = bits/dim)")
      ->type_name("NAME");
  cmd->add_option("--clip-percent", o->clip_percent,
                  "Drop this percentage of each series' least in-distribution tail (lowest loglik, highest "
                  "bpd) before binning (default 5, as the paper)")
      ->type_name("P");
  cmd->add_option("--bins", o->bins, "Number of equal-width bins (default 60)")
      ->check(CLI::Range(1, 10000))
      ->type_name("N");
  cmd->add_option("--title", o->title, "Plot title (default: none)")->type_name("TEXT");
  cmd->add_option("--csv", o->csv_path, "Binned counts CSV to write (default: OUT with a .csv extension)")
      ->type_name("FILE");
  cmd->add_option("--width", o->width, "Image width in pixels (default 900)")
      ->check(CLI::Range(320, 10000))
      ->type_name("W");
  cmd->add_option("--height", o->height, "Image height in pixels (default 600)")
      ->check(CLI::Range(240, 10000))
      ->type_name("H");
  cmd->add_option("--label", o->labels,
                  "Legend label of the next file, in order (repeatable; default: the file's dataset metadata)")
      ->type_name("NAME")
      ->allow_extra_args(false);  // one label per --label, so labels never swallow the files
  cmd->callback([o] { run_histogram(*o); });
}

}  // namespace flowood::app
