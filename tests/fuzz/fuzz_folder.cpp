// Image folders (data::load_image_folder with a folder: spec's transform): the input is split at
// "\n--\n" into the spec's options (first part) and image files, written as a folder with class
// sub-folders (odd-numbered files) and loose files (even-numbered); then loaded. Mixed sizes,
// broken images, resize/crop options that do not fit.
#include <filesystem>
#include <fstream>

#include <opencv2/imgcodecs.hpp>

#include "flowood/core/error.hpp"
#include "flowood/data/folder.hpp"
#include "flowood/data/spec.hpp"
#include "fuzz_target.hpp"

namespace fs = std::filesystem;

namespace {
const std::string kSeparator = "\n--\n";

std::string encoded(int rows, int cols, const char* ext) {
  cv::Mat img(rows, cols, CV_8UC3);
  cv::randu(img, 0, 255);
  std::vector<uchar> bytes;
  cv::imencode(ext, img, bytes);
  return {bytes.begin(), bytes.end()};
}
}  // namespace

std::vector<std::string> fuzz_seeds() {
  return {"gray&size=4" + kSeparator + encoded(6, 5, ".png") + kSeparator + encoded(6, 5, ".bmp"),
          "resize=8x6&crop=4" + kSeparator + encoded(9, 7, ".png") + kSeparator + encoded(9, 7, ".jpg") + kSeparator +
              encoded(9, 7, ".png")};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  for (size_t at = 0;;) {
    const auto next = text.find(kSeparator, at);
    parts.push_back(text.substr(at, next == std::string::npos ? std::string::npos : next - at));
    if (next == std::string::npos) break;
    at = next + kSeparator.size();
  }
  if (parts.size() > 9) return 0;  // a handful of files is enough
  const fs::path dir = "/tmp/flowood_fuzz_" + std::to_string(::getpid()) + "_folder";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const bool classes = parts.size() > 2;
  for (size_t k = 1; k < parts.size(); ++k) {
    const auto sub = classes ? dir / ("c" + std::to_string(k % 2)) : dir;
    fs::create_directories(sub);
    std::ofstream(sub / ("img" + std::to_string(k) + (k % 3 == 0 ? ".jpg" : ".png")), std::ios::binary) << parts[k];
  }
  try {
    const auto spec = flowood::data::parse_dataset_spec("folder:" + dir.string() + "?" + parts[0]);
    std::vector<std::string> class_names;
    const auto set = flowood::data::load_image_folder(dir.string(), flowood::data::folder_transform(spec), 0, &class_names);
    FUZZ_ASSERT_TRUE(set.images.dim() == 4 && set.images.size(0) >= 1, "a folder loaded as no images without an error");
    FUZZ_ASSERT_TRUE(!set.labels.defined() || set.labels.size(0) == set.images.size(0), "labels and images differ in length");
    ++fuzz_accepted();
  } catch (const flowood::Error&) {
  }
  fs::remove_all(dir);
  return 0;
}
