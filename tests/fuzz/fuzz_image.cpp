// Image decoding (data::decode_images): PNG, JPEG and BMP headers and data, including headers that
// claim huge sizes.
#include <opencv2/imgcodecs.hpp>

#include "flowood/core/error.hpp"
#include "flowood/data/image_decode.hpp"
#include "fuzz_target.hpp"

std::vector<std::string> fuzz_seeds() {
  cv::Mat img(6, 5, CV_8UC3);
  cv::randu(img, 0, 255);
  std::vector<std::string> seeds;
  for (const char* ext : {".png", ".jpg", ".bmp"}) {
    std::vector<uchar> bytes;
    cv::imencode(ext, img, bytes);
    seeds.emplace_back(bytes.begin(), bytes.end());
  }
  return seeds;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  flowood::data::EncodedImage image{"fuzz", "fuzz.img", std::vector<std::uint8_t>(data, data + size)};
  try {
    const auto t = flowood::data::decode_images({image}, flowood::data::ImageTransform{}, 1);
    FUZZ_ASSERT_TRUE(t.dim() == 4 && t.size(0) == 1, "decoded batch is not [1, C, H, W]");
    FUZZ_ASSERT_TRUE(static_cast<size_t>(t.numel()) <= 2048 * size + (size_t{64} << 20), "decoded more pixels than the file allows");
    ++fuzz_accepted();
  } catch (const flowood::Error&) {
  }
  return 0;
}
