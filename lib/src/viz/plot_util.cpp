#include "plot_util.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <opencv2/imgcodecs.hpp>

#include "flowood/core/error.hpp"
#include "flowood/io/atomic_file.hpp"

namespace flowood::viz::plot {

cv::Scalar palette(std::size_t i) {
  static const cv::Scalar kPalette[] = {
      {178, 114, 0}, {0, 159, 230}, {115, 158, 0}, {0, 94, 213},
      {167, 121, 204}, {233, 180, 86}, {66, 228, 240}, {0, 0, 0},
  };
  return kPalette[i % (sizeof(kPalette) / sizeof(kPalette[0]))];
}

Style::Style(int width, int height) {
  k = std::max(1.0, std::min(width / 900.0, height / 600.0));
  tick = 0.5 * k;
  label = 0.6 * k;
  title = 0.7 * k;
  stroke = std::max(1, cvRound(k));
  outline = std::max(2, cvRound(2 * k));
  tick_len = cvRound(5 * k);
  gap = cvRound(6 * k);
}

void check_image_size(int width, int height) {
  if (width < 320 || height < 240 || width > 10000 || height > 10000)
    throw ConfigError("size", "image must be between 320x240 and 10000x10000 pixels (got " + std::to_string(width) +
                                  "x" + std::to_string(height) + ")");
}

TextSize text_size(const std::string& s, double scale, int thickness) {
  int base = 0;
  const cv::Size sz = cv::getTextSize(s, kFont, scale, thickness, &base);
  return {sz.width, sz.height, base};
}

FittedText fit_text(const std::string& s, double scale, int thickness, int max_w) {
  for (double f = 1.0; f >= 0.75 - 1e-9; f -= 0.05)
    if (text_size(s, scale * f, thickness).w <= max_w) return {s, scale * f};
  const double small = scale * 0.75;
  std::string cut = s;
  while (!cut.empty() && text_size(cut + "...", small, thickness).w > max_w) cut.pop_back();
  return {cut + "...", small};
}

void put_centered(cv::Mat& img, const FittedText& t, int cx, int top, int thickness) {
  const TextSize sz = text_size(t.text, t.scale, thickness);
  cv::putText(img, t.text, {cx - sz.w / 2, top + sz.h}, kFont, t.scale, kBlack, thickness, cv::LINE_AA);
}

double nice_step(double range, int target) {
  const double raw = range / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0) * mag;
}

std::string format_tick(double v, double step) {
  if (std::fabs(v) < step * 1e-9) v = 0.0;  // no "-0"
  char buf[64];
  if (step >= 1e-6 && std::fabs(v) < 1e9) {
    const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
    std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.3g", v);
  }
  return buf;
}

Ticks make_ticks(double lo, double hi, int target, const Style& st) {
  Ticks t;
  const double step = nice_step(hi - lo, target);
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k += 1.0) {
    t.values.push_back(k * step);
    t.labels.push_back(format_tick(k * step, step));
    t.max_width = std::max(t.max_width, text_size(t.labels.back(), st.tick, st.stroke).w);
  }
  return t;
}

Ticks make_x_ticks(double lo, double hi, int plot_w, const Style& st) {
  for (int target = 10; target >= 2; --target) {
    Ticks t = make_ticks(lo, hi, target, st);
    if (t.values.size() < 2) return t;
    const double px_step = (t.values[1] - t.values[0]) / (hi - lo) * plot_w;
    if (px_step >= t.max_width + st.px(14)) return t;
  }
  return make_ticks(lo, hi, 1, st);
}

AxisText fit_axis_text(const Style& st, int width, int height, const std::string& title, const std::string& x_label,
                       const std::string& y_label) {
  AxisText a;
  const int edge = st.px(14);  // empty border around everything
  a.title = fit_text(title, st.title, st.stroke, width - 2 * edge);
  a.x_label = fit_text(x_label, st.label, st.stroke, width - 2 * edge);
  const TextSize digits = text_size("0123456789", st.tick, st.stroke);
  const TextSize title_sz = text_size(a.title.text, a.title.scale, st.stroke);
  const TextSize xlab = text_size(a.x_label.text, a.x_label.scale, st.stroke);
  a.top = title.empty() ? st.px(20) : edge + title_sz.h + title_sz.base + st.px(14);
  a.bottom = st.tick_len + st.gap + digits.h + (x_label.empty() ? 0 : st.px(14) + xlab.h + xlab.base) + edge;
  a.y_label = fit_text(y_label, st.label, st.stroke, std::max(10, height - a.top - a.bottom));
  return a;
}

cv::Rect axes_box(const AxisText& text, const Style& st, int width, int height, int y_tick_width,
                  const std::string& last_x_label) {
  const TextSize ylab = text_size(text.y_label.text, text.y_label.scale, st.stroke);
  const int left = st.px(14) + (text.y_label.text.empty() ? 0 : ylab.h + ylab.base + st.px(12)) + y_tick_width +
                   st.gap + st.tick_len;
  const int right = std::max(st.px(24), text_size(last_x_label, st.tick, st.stroke).w / 2 + st.px(8));
  const cv::Rect plot(left, text.top, width - left - right, height - text.top - text.bottom);
  if (plot.width < 80 || plot.height < 60)
    throw ConfigError("size", "image " + std::to_string(width) + "x" + std::to_string(height) +
                                  " is too small for the axes and labels");
  return plot;
}

void draw_axes(cv::Mat& img, const cv::Rect& plot, const Ticks& x_ticks, const Ticks& y_ticks,
               const std::function<int(double)>& x_px, const std::function<int(double)>& y_px, const Style& st) {
  cv::rectangle(img, plot, kBlack, st.stroke);
  const int y_axis_bottom = plot.y + plot.height;
  const TextSize digits = text_size("0123456789", st.tick, st.stroke);
  for (std::size_t k = 0; k < x_ticks.values.size(); ++k) {
    const int x = x_px(x_ticks.values[k]);
    if (x < plot.x || x > plot.x + plot.width) continue;
    cv::line(img, {x, y_axis_bottom}, {x, y_axis_bottom + st.tick_len}, kBlack, st.stroke);
    put_centered(img, {x_ticks.labels[k], st.tick}, x, y_axis_bottom + st.tick_len + st.gap, st.stroke);
  }
  for (std::size_t k = 0; k < y_ticks.values.size(); ++k) {
    const int y = y_px(y_ticks.values[k]);
    if (y < plot.y || y > y_axis_bottom) continue;
    cv::line(img, {plot.x - st.tick_len, y}, {plot.x, y}, kBlack, st.stroke);
    const TextSize t = text_size(y_ticks.labels[k], st.tick, st.stroke);
    cv::putText(img, y_ticks.labels[k], {plot.x - st.tick_len - st.gap - t.w, y + digits.h / 2}, kFont, st.tick,
                kBlack, st.stroke, cv::LINE_AA);
  }
}

void draw_axis_text(cv::Mat& img, const AxisText& text, const cv::Rect& plot, const Style& st) {
  const int y_axis_bottom = plot.y + plot.height;
  const TextSize digits = text_size("0123456789", st.tick, st.stroke);
  if (!text.x_label.text.empty())
    put_centered(img, text.x_label, plot.x + plot.width / 2,
                 y_axis_bottom + st.tick_len + st.gap + digits.h + st.px(14), st.stroke);
  if (!text.y_label.text.empty()) {
    // Rendered horizontally on its own canvas, rotated, then darkened into the image.
    const TextSize t = text_size(text.y_label.text, text.y_label.scale, st.stroke);
    cv::Mat label(t.h + t.base + 4, t.w + 4, CV_8UC3, kWhite);
    cv::putText(label, text.y_label.text, {2, t.h + 2}, kFont, text.y_label.scale, kBlack, st.stroke, cv::LINE_AA);
    cv::rotate(label, label, cv::ROTATE_90_COUNTERCLOCKWISE);
    const int x = st.px(14);
    const int y = std::max(0, plot.y + plot.height / 2 - label.rows / 2);
    const cv::Rect dst(x, y, std::min(label.cols, img.cols - x), std::min(label.rows, img.rows - y));
    cv::Mat target = img(dst);
    cv::min(target, label(cv::Rect(0, 0, dst.width, dst.height)), target);
  }
  if (!text.title.text.empty()) put_centered(img, text.title, img.cols / 2, st.px(14), st.stroke);
}

Legend size_legend(const std::vector<std::string>& labels, int plot_width, const Style& st) {
  Legend legend;
  const int pad = st.px(10), key_w = st.px(26), key_gap = st.px(8);
  const int max_text_w = std::max(20, static_cast<int>(0.6 * plot_width) - 2 * pad - key_w - key_gap);
  double scale = st.tick;  // one font size for all rows: the smallest any label needs
  for (const auto& label : labels) scale = std::min(scale, fit_text(label, st.tick, st.stroke, max_text_w).scale);
  int text_w = 0, text_h = 0;
  for (const auto& label : labels) {
    std::string text = label;  // cut only labels too long even at the smallest size
    if (text_size(text, scale, st.stroke).w > max_text_w) {
      while (!text.empty() && text_size(text + "...", scale, st.stroke).w > max_text_w) text.pop_back();
      text += "...";
    }
    legend.labels.push_back({text, scale});
    const TextSize t = text_size(text, scale, st.stroke);
    text_w = std::max(text_w, t.w);
    text_h = std::max(text_h, t.h + t.base);
  }
  legend.row_h = std::max(text_h, st.px(14)) + st.px(10);
  legend.box.width = pad + key_w + key_gap + text_w + pad;
  legend.box.height = static_cast<int>(labels.size()) * legend.row_h + st.px(10);
  return legend;
}

void draw_legend(cv::Mat& img, const Legend& legend, const Style& st,
                 const std::function<void(std::size_t, const cv::Rect&)>& draw_key) {
  cv::rectangle(img, legend.box, kWhite, cv::FILLED);
  cv::rectangle(img, legend.box, kLegendEdge, st.stroke);
  for (std::size_t s = 0; s < legend.labels.size(); ++s) {
    const int row_top = legend.box.y + st.px(5) + static_cast<int>(s) * legend.row_h;
    const int mid = row_top + legend.row_h / 2;
    const cv::Rect key(legend.box.x + st.px(10), mid - st.px(7), st.px(26), st.px(14));
    draw_key(s, key);
    const FittedText& label = legend.labels[s];
    const TextSize t = text_size(label.text, label.scale, st.stroke);
    cv::putText(img, label.text, {key.x + key.width + st.px(8), mid + t.h / 2}, kFont, label.scale, kBlack,
                st.stroke, cv::LINE_AA);
  }
}

void write_png(const std::string& path, const cv::Mat& img) {
  std::vector<unsigned char> png;
  if (!cv::imencode(".png", img, png)) throw IoError(path, "PNG encoding failed");
  io::write_file_atomic(path, png.data(), png.size());
}

}  // namespace flowood::viz::plot
