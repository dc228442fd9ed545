#pragma once
/// Overlaid density histograms of score samples (the paper's likelihood plots), drawn as PNG with
/// OpenCV, plus the binned counts as CSV.
#include <cstdint>
#include <string>
#include <vector>

#include "flowood/io/csv.hpp"

namespace flowood::viz {

/// One sample to plot: a legend label (e.g. "mnist:test") and its values (e.g. log-likelihoods).
struct HistogramSeries {
  std::string label;
  std::vector<double> values;
};

/// Appearance and binning of a histogram plot.
struct HistogramOptions {
  /// Plot title; empty = no title.
  std::string title;
  /// x-axis label (say the unit).
  std::string x_label = "log-likelihood (nats)";
  /// y-axis label.
  std::string y_label = "density";
  /// Number of equal-width bins over the union range of the kept values, in [1, 10000].
  int bins = 60;
  /// Fraction in [0, 1) of each series dropped from its low end before binning: the
  /// floor(fraction · n) smallest values go. The paper's training scripts use 0.05.
  double drop_lowest_fraction = 0.0;
  /// Image width in pixels (at least 320; fonts grow with images larger than 900×600).
  int width = 900;
  /// Image height in pixels (at least 240).
  int height = 600;
  /// Opacity of the filled bars in (0, 1]; outlines are always opaque.
  double alpha = 0.45;
  /// When non-empty, write_histogram_png also writes the binned counts here (write_histogram_csv).
  std::string csv_path;
};

/// Binned series, sharing one set of bin edges.
struct Histogram {
  /// Series labels, in input order.
  std::vector<std::string> labels;
  /// bins + 1 increasing edges; bin i is [edges[i], edges[i+1]) and the last bin is closed.
  std::vector<double> edges;
  /// counts[s][i]: number of kept values of series s in bin i.
  std::vector<std::vector<std::int64_t>> counts;
  /// densities[s][i] = counts[s][i] / (n_kept[s] · bin width): each series integrates to 1.
  std::vector<std::vector<double>> densities;
  /// Values of each series that were binned.
  std::vector<std::int64_t> n_kept;
  /// Values of each series dropped as the lowest fraction.
  std::vector<std::int64_t> n_dropped;

  /// The table written as CSV: bin_left, bin_right, count[<label>]…, density[<label>]…, with
  /// metadata n_kept[<label>], n_dropped[<label>].
  io::CsvTable to_table() const;
};

/// Drops the lowest fraction of each series and bins the rest over their common range.
/// ConfigError("bins" / "drop_lowest_fraction") for out-of-range options; DataError(label) when a
/// series holds NaN, keeps no values, or keeps ±inf values (which cannot be binned).
Histogram compute_histogram(const std::vector<HistogramSeries>& series, int bins,
                            double drop_lowest_fraction = 0.0);

/// Writes the binned counts and densities (Histogram::to_table) to `path` atomically.
void write_histogram_csv(const std::string& path, const Histogram& histogram);

/// Renders overlaid, semi-transparent density histograms (one colour-blind-safe colour per series,
/// legend, labelled axes with ticks, title) and writes the PNG to `path` atomically, plus the CSV
/// when options.csv_path is set. Returns the binned data. IoError(path) when the file cannot be
/// written (no partial file is left); ConfigError for bad options; DataError as compute_histogram.
Histogram write_histogram_png(const std::string& path, const std::vector<HistogramSeries>& series,
                              const HistogramOptions& options = {});

/// One score file as a histogram series: column `column` of the score CSV at `path`, its least
/// in-distribution `clip_fraction` dropped (the lowest values, or the highest where lower means
/// in-distribution, as for bpd). `label` empty: the file's dataset metadata, else its name.
/// DataError(path) for NaN values, nothing left, or infinite values left after clipping.
struct ScoreSeries {
  HistogramSeries series;
  int64_t dropped = 0;  ///< values clipped
};
ScoreSeries score_file_series(const std::string& path, const std::string& column, double clip_fraction,
                              const std::string& label);

}  // namespace flowood::viz
