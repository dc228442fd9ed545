#include "flowood/viz/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "flowood/core/error.hpp"
#include "flowood/io/csv.hpp"
#include "plot_util.hpp"

namespace flowood::viz {
namespace {

using plot::Style;
using plot::Ticks;

// Column-name / metadata-safe form of a label.
std::string clean_label(std::string s) {
  for (char& c : s)
    if (c == ',' || c == '=' || c == '\n' || c == '\r') c = '_';
  return s;
}

void check_options(const HistogramOptions& o) {
  if (o.bins < 1 || o.bins > 10000) throw ConfigError("bins", "must be in [1, 10000] (got " + std::to_string(o.bins) + ")");
  if (!(o.drop_lowest_fraction >= 0.0 && o.drop_lowest_fraction < 1.0))
    throw ConfigError("drop_lowest_fraction", "must be in [0, 1) (got " + std::to_string(o.drop_lowest_fraction) + ")");
  plot::check_image_size(o.width, o.height);
  if (!(o.alpha > 0.0 && o.alpha <= 1.0)) throw ConfigError("alpha", "must be in (0, 1] (got " + std::to_string(o.alpha) + ")");
}

struct HistogramLayout {
  cv::Rect plot;  // the axes box
  double x_lo = 0, x_hi = 1, y_max = 1;
  Ticks x_ticks, y_ticks;
  plot::AxisText text;
  plot::Legend legend;

  int px(double x) const { return plot.x + cvRound((x - x_lo) / (x_hi - x_lo) * plot.width); }
  int py(double y) const { return plot.y + plot.height - cvRound(y / y_max * plot.height); }
};

// Places the axes box, ticks and legend so that no text overlaps or leaves the image, and puts
// the legend in the upper corner where it forces the least headroom above the bars.
HistogramLayout make_layout(const Histogram& h, const HistogramOptions& o, const Style& st) {
  HistogramLayout L;
  const double range = h.edges.back() - h.edges.front();
  L.x_lo = h.edges.front() - 0.03 * range;
  L.x_hi = h.edges.back() + 0.03 * range;
  double d_max = 0.0;
  for (const auto& d : h.densities) d_max = std::max(d_max, *std::max_element(d.begin(), d.end()));
  if (!(d_max > 0.0)) d_max = 1.0;

  L.text = plot::fit_axis_text(st, o.width, o.height, o.title, o.x_label, o.y_label);
  L.y_max = d_max * 1.05;
  for (int pass = 0; pass < 4; ++pass) {  // y-tick widths and legend headroom depend on each other
    L.y_ticks = plot::make_ticks(0.0, L.y_max, 6, st);
    const std::string last_x = plot::format_tick(L.x_hi, plot::nice_step(L.x_hi - L.x_lo, 10));
    L.plot = plot::axes_box(L.text, st, o.width, o.height, L.y_ticks.max_width, last_x);
    L.legend = plot::size_legend(h.labels, L.plot.width, st);
    const int legend_w = L.legend.box.width, legend_h = L.legend.box.height;

    // Headroom each corner would need so the bars under the legend end below it.
    const int margin = st.px(10);
    double best_ymax = std::numeric_limits<double>::infinity();
    cv::Rect best_rect(L.plot.x + L.plot.width - margin - legend_w, L.plot.y + margin, legend_w, legend_h);
    for (const bool right_corner : {true, false}) {
      const int lx = right_corner ? L.plot.x + L.plot.width - margin - legend_w : L.plot.x + margin;
      const cv::Rect rect(lx, L.plot.y + margin, legend_w, legend_h);
      double under = 0.0;  // highest density drawn under the legend's x span
      for (std::size_t s = 0; s < h.densities.size(); ++s)
        for (std::size_t i = 0; i + 1 < h.edges.size(); ++i) {
          const double x0 = L.plot.x + (h.edges[i] - L.x_lo) / (L.x_hi - L.x_lo) * L.plot.width;
          const double x1 = L.plot.x + (h.edges[i + 1] - L.x_lo) / (L.x_hi - L.x_lo) * L.plot.width;
          if (x1 >= rect.x - 4 && x0 <= rect.x + rect.width + 4) under = std::max(under, h.densities[s][i]);
        }
      const double free_px = L.plot.height - (rect.y + rect.height + st.px(6) - L.plot.y);
      const double need = free_px > 10 ? under * L.plot.height / free_px : std::numeric_limits<double>::infinity();
      const double ymax = std::max(d_max * 1.05, need);
      if (ymax < best_ymax * 0.999) {  // prefer the right corner on (near) ties
        best_ymax = ymax;
        best_rect = rect;
      }
    }
    L.legend.box = best_rect;
    L.y_max = std::isfinite(best_ymax) ? best_ymax : d_max * 1.05;
  }
  L.y_ticks = plot::make_ticks(0.0, L.y_max, 6, st);
  L.x_ticks = plot::make_x_ticks(L.x_lo, L.x_hi, L.plot.width, st);
  return L;
}

cv::Mat render(const Histogram& h, const HistogramOptions& o) {
  const Style st(o.width, o.height);
  const HistogramLayout L = make_layout(h, o, st);
  cv::Mat img(o.height, o.width, CV_8UC3, plot::kWhite);

  // Filled bars, one translucent layer per series.
  const std::size_t n_bins = h.edges.size() - 1;
  for (std::size_t s = 0; s < h.densities.size(); ++s) {
    const cv::Scalar colour = plot::palette(s);
    cv::Mat roi = img(L.plot);
    cv::Mat overlay = roi.clone();
    for (std::size_t i = 0; i < n_bins; ++i) {
      if (h.counts[s][i] == 0) continue;
      const cv::Point a(L.px(h.edges[i]) - L.plot.x, L.py(h.densities[s][i]) - L.plot.y);
      const cv::Point b(L.px(h.edges[i + 1]) - L.plot.x - 1, L.plot.height - 1);
      cv::rectangle(overlay, a, b, colour, cv::FILLED);
    }
    cv::addWeighted(overlay, o.alpha, roi, 1.0 - o.alpha, 0.0, roi);
  }
  // Opaque step outlines on top, so every series stays visible where they overlap. One outline
  // per run of non-empty bins, none along the x axis, which would hide the axis line.
  for (std::size_t s = 0; s < h.densities.size(); ++s) {
    for (std::size_t i = 0; i < n_bins;) {
      if (h.counts[s][i] == 0) {
        ++i;
        continue;
      }
      std::vector<cv::Point> pts;
      pts.emplace_back(L.px(h.edges[i]), L.py(0.0));
      for (; i < n_bins && h.counts[s][i] > 0; ++i) {
        pts.emplace_back(L.px(h.edges[i]), L.py(h.densities[s][i]));
        pts.emplace_back(L.px(h.edges[i + 1]), L.py(h.densities[s][i]));
      }
      pts.emplace_back(pts.back().x, L.py(0.0));
      cv::polylines(img, pts, false, plot::palette(s), st.outline, cv::LINE_AA);
    }
  }

  plot::draw_axes(img, L.plot, L.x_ticks, L.y_ticks, [&L](double x) { return L.px(x); },
                  [&L](double y) { return L.py(y); }, st);
  plot::draw_axis_text(img, L.text, L.plot, st);
  plot::draw_legend(img, L.legend, st, [&](std::size_t s, const cv::Rect& swatch) {
    const cv::Scalar colour = plot::palette(s);
    cv::Mat sw = img(swatch);
    cv::Mat fill(sw.size(), sw.type(), colour);
    cv::addWeighted(fill, o.alpha, sw, 1.0 - o.alpha, 0.0, sw);
    cv::rectangle(img, swatch, colour, st.outline);
  });
  return img;
}

}  // namespace

io::CsvTable Histogram::to_table() const {
  io::CsvTable t;
  const std::size_t n_bins = edges.empty() ? 0 : edges.size() - 1;
  t.add_column("bin_left", std::vector<double>(edges.begin(), edges.begin() + static_cast<std::ptrdiff_t>(n_bins)));
  t.add_column("bin_right", std::vector<double>(edges.begin() + 1, edges.end()));
  std::vector<std::string> names;
  for (const auto& label : labels) {
    std::string name = clean_label(label);
    for (int k = 2; std::find(names.begin(), names.end(), name) != names.end(); ++k)
      name = clean_label(label) + "_" + std::to_string(k);
    names.push_back(name);
  }
  for (std::size_t s = 0; s < labels.size(); ++s)
    t.add_column("count[" + names[s] + "]", std::vector<double>(counts[s].begin(), counts[s].end()));
  for (std::size_t s = 0; s < labels.size(); ++s) t.add_column("density[" + names[s] + "]", densities[s]);
  for (std::size_t s = 0; s < labels.size(); ++s) {
    t.meta["n_kept[" + names[s] + "]"] = std::to_string(n_kept[s]);
    t.meta["n_dropped[" + names[s] + "]"] = std::to_string(n_dropped[s]);
  }
  return t;
}

Histogram compute_histogram(const std::vector<HistogramSeries>& series, int bins, double drop_lowest_fraction) {
  if (bins < 1 || bins > 10000) throw ConfigError("bins", "must be in [1, 10000] (got " + std::to_string(bins) + ")");
  if (!(drop_lowest_fraction >= 0.0 && drop_lowest_fraction < 1.0))
    throw ConfigError("drop_lowest_fraction", "must be in [0, 1) (got " + std::to_string(drop_lowest_fraction) + ")");
  if (series.empty()) throw DataError("", "histogram needs at least one series");

  Histogram h;
  std::vector<std::vector<double>> kept;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (std::size_t s = 0; s < series.size(); ++s) {
    const std::string label = series[s].label.empty() ? "series " + std::to_string(s + 1) : series[s].label;
    std::vector<double> v = series[s].values;
    const auto nans = std::count_if(v.begin(), v.end(), [](double x) { return std::isnan(x); });
    if (nans) throw DataError(label, std::to_string(nans) + " of " + std::to_string(v.size()) + " values are NaN");
    std::sort(v.begin(), v.end());
    const auto drop = static_cast<std::size_t>(std::floor(drop_lowest_fraction * static_cast<double>(v.size()) + 1e-9));
    v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(drop));
    if (v.empty()) throw DataError(label, "no values left to plot (" + std::to_string(series[s].values.size()) + " given)");
    const auto infs = std::count_if(v.begin(), v.end(), [](double x) { return std::isinf(x); });
    if (infs)
      throw DataError(label, std::to_string(infs) + " infinite values remain after dropping the lowest " +
                                 std::to_string(drop) + "; they cannot be binned");
    lo = std::min(lo, v.front());
    hi = std::max(hi, v.back());
    h.labels.push_back(label);
    h.n_kept.push_back(static_cast<std::int64_t>(v.size()));
    h.n_dropped.push_back(static_cast<std::int64_t>(drop));
    kept.push_back(std::move(v));
  }
  if (hi == lo) {  // one distinct value: give it a unit-wide range
    lo -= 0.5;
    hi += 0.5;
  }
  h.edges.resize(static_cast<std::size_t>(bins) + 1);
  for (int i = 0; i <= bins; ++i) h.edges[static_cast<std::size_t>(i)] = lo + (hi - lo) * i / bins;
  h.edges.back() = hi;
  const double width = (hi - lo) / bins;
  for (const auto& v : kept) {
    std::vector<std::int64_t> c(static_cast<std::size_t>(bins), 0);
    for (const double x : v) {
      auto i = static_cast<std::int64_t>((x - lo) / (hi - lo) * bins);
      c[static_cast<std::size_t>(std::clamp<std::int64_t>(i, 0, bins - 1))] += 1;
    }
    std::vector<double> d(c.size());
    for (std::size_t i = 0; i < c.size(); ++i) d[i] = static_cast<double>(c[i]) / (static_cast<double>(v.size()) * width);
    h.counts.push_back(std::move(c));
    h.densities.push_back(std::move(d));
  }
  return h;
}

void write_histogram_csv(const std::string& path, const Histogram& histogram) { io::write_csv(path, histogram.to_table()); }

Histogram write_histogram_png(const std::string& path, const std::vector<HistogramSeries>& series,
                              const HistogramOptions& options) {
  check_options(options);
  Histogram h = compute_histogram(series, options.bins, options.drop_lowest_fraction);
  plot::write_png(path, render(h, options));
  if (!options.csv_path.empty()) write_histogram_csv(options.csv_path, h);
  return h;
}

ScoreSeries score_file_series(const std::string& path, const std::string& column, double clip_fraction,
                              const std::string& label) {
  const io::CsvTable table = io::read_score_csv(path);
  ScoreSeries out;
  auto& s = out.series;
  if (!label.empty()) {
    s.label = label;
  } else if (const auto it = table.meta.find("dataset"); it != table.meta.end() && !it->second.empty()) {
    s.label = it->second;
  } else {
    s.label = std::filesystem::path(path).filename().string();
  }
  std::vector<double> v = table.column(column);
  const auto nans = std::count_if(v.begin(), v.end(), [](double x) { return std::isnan(x); });
  if (nans > 0)
    throw DataError(path, "column '" + column + "' has " + std::to_string(nans) + " empty/NaN value(s) of " +
                              std::to_string(v.size()));
  // Clip the least in-distribution tail (the paper drops the lowest 5 % of log-likelihoods):
  // the lowest values, or the highest where lower means in-distribution (bpd).
  std::sort(v.begin(), v.end());
  const auto drop = static_cast<std::size_t>(std::floor(clip_fraction * static_cast<double>(v.size()) + 1e-9));
  if (io::score_column_higher_is_in(table, column)) {
    v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(drop));
  } else {
    v.resize(v.size() - drop);
  }
  if (v.empty())
    throw DataError(path, "no values of column '" + column + "' left to plot (" + std::to_string(drop) +
                              " clipped by --clip-percent)");
  const auto infs = std::count_if(v.begin(), v.end(), [](double x) { return std::isinf(x); });
  if (infs > 0)
    throw DataError(path, "column '" + column + "' has " + std::to_string(infs) +
                              " infinite value(s) left after clipping; raise --clip-percent to drop them");
  s.values = std::move(v);
  out.dropped = static_cast<int64_t>(drop);
  return out;
}

}  // namespace flowood::viz
