#include "flowood/viz/grid.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "flowood/core/error.hpp"
#include "flowood/io/atomic_file.hpp"

namespace flowood::viz {
namespace {
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr double kFontScale = 0.42;
const cv::Scalar kWhite(255, 255, 255), kBlack(0, 0, 0), kGreyBg(235, 235, 235);

cv::Size text_size(const std::string& s, double scale = kFontScale) {
  int base = 0;
  return cv::getTextSize(s, kFont, scale, 1, &base);
}

torch::Tensor as_chw(const torch::Tensor& v) {
  if (v.dim() == 2) return v.unsqueeze(0);
  if (v.dim() == 3 && (v.size(0) == 1 || v.size(0) == 3)) return v;
  throw ConfigError("panels", fmt::format("a panel must be [H, W], [1, H, W] or [3, H, W] (got {} dimensions)", v.dim()));
}
}  // namespace

torch::Tensor panel_to_bytes(const Panel& p) {
  auto v = as_chw(p.values.detach().to(torch::kCPU, torch::kFloat64));
  switch (p.scale) {
    case PanelScale::kUnit:
      break;
    case PanelScale::kClip:
      v = (v.clamp(p.lo, p.hi) - p.lo) / std::max(p.hi - p.lo, 1e-12);
      break;
    case PanelScale::kStandardise: {
      const double mean = v.mean().item<double>(), sd = v.std(false).item<double>();
      v = sd > 1e-12 ? ((v - mean) / sd).clamp(-2.5, 2.5) / 5.0 + 0.5 : torch::full_like(v, 0.5);
      break;
    }
  }
  return (v.clamp(0.0, 1.0) * 255.0).round().to(torch::kUInt8).permute({1, 2, 0}).contiguous();
}

void write_grid_png(const std::string& path, const std::vector<std::vector<Panel>>& rows,
                    const std::vector<std::string>& row_labels, const std::vector<std::string>& column_labels,
                    const GridOptions& o) {
  if (rows.empty()) throw ConfigError("panels", "nothing to draw");
  const size_t cols = rows[0].size();
  int cell_h = 0, cell_w = 0;
  for (const auto& row : rows) {
    if (row.size() != cols) throw ConfigError("panels", "every row needs the same number of panels");
    for (const auto& p : row)
      if (p.values.defined()) {
        const auto v = as_chw(p.values);
        cell_h = std::max<int>(cell_h, static_cast<int>(v.size(1)) * o.pixel);
        cell_w = std::max<int>(cell_w, static_cast<int>(v.size(2)) * o.pixel);
      }
  }
  if (cell_h == 0) throw ConfigError("panels", "every panel is empty");
  // Column labels may be wider than a cell: widen the cells to fit them.
  for (const auto& l : column_labels) cell_w = std::max(cell_w, text_size(l).width + 6);
  int label_w = 0;
  for (const auto& l : row_labels) label_w = std::max(label_w, text_size(l).width + 10);
  const int header_h = column_labels.empty() ? 0 : text_size("Ag").height + 12;
  const int title_h = o.title.empty() ? 0 : text_size(o.title, 0.5).height + 14;
  const int width = label_w + static_cast<int>(cols) * (cell_w + o.gap) + o.gap;
  const int height = title_h + header_h + static_cast<int>(rows.size()) * (cell_h + o.gap) + o.gap;
  cv::Mat img(height, width, CV_8UC3, kWhite);
  if (!o.title.empty())
    cv::putText(img, o.title, {o.gap, title_h - 8}, kFont, 0.5, kBlack, 1, cv::LINE_AA);
  for (size_t c = 0; c < column_labels.size() && c < cols; ++c) {
    const int x0 = label_w + o.gap + static_cast<int>(c) * (cell_w + o.gap);
    const auto sz = text_size(column_labels[c]);
    cv::putText(img, column_labels[c], {x0 + (cell_w - sz.width) / 2, title_h + header_h - 6}, kFont, kFontScale,
                kBlack, 1, cv::LINE_AA);
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    const int y0 = title_h + header_h + o.gap + static_cast<int>(r) * (cell_h + o.gap);
    if (r < row_labels.size()) {
      const auto sz = text_size(row_labels[r]);
      cv::putText(img, row_labels[r], {4, y0 + (cell_h + sz.height) / 2}, kFont, kFontScale, kBlack, 1, cv::LINE_AA);
    }
    for (size_t c = 0; c < cols; ++c) {
      const int x0 = label_w + o.gap + static_cast<int>(c) * (cell_w + o.gap);
      const auto& p = rows[r][c];
      if (!p.values.defined()) {
        cv::rectangle(img, cv::Rect(x0, y0, cell_w, cell_h), kGreyBg, cv::FILLED);
        continue;
      }
      const auto bytes = panel_to_bytes(p);
      const int h = static_cast<int>(bytes.size(0)), w = static_cast<int>(bytes.size(1));
      cv::Mat small(h, w, bytes.size(2) == 3 ? CV_8UC3 : CV_8UC1, const_cast<uint8_t*>(bytes.data_ptr<uint8_t>()));
      cv::Mat colour;
      if (bytes.size(2) == 3)
        cv::cvtColor(small, colour, cv::COLOR_RGB2BGR);
      else
        cv::cvtColor(small, colour, cv::COLOR_GRAY2BGR);
      cv::Mat big;
      cv::resize(colour, big, cv::Size(w * o.pixel, h * o.pixel), 0, 0, cv::INTER_NEAREST);
      big.copyTo(img(cv::Rect(x0 + (cell_w - big.cols) / 2, y0 + (cell_h - big.rows) / 2, big.cols, big.rows)));
    }
  }
  std::vector<unsigned char> png;
  if (!cv::imencode(".png", img, png)) throw IoError(path, "PNG encoding failed");
  io::write_file_atomic(path, png.data(), png.size());
}

}  // namespace flowood::viz
