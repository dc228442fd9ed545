#pragma once
/// Decoding PNG/JPEG/BMP images (through OpenCV) into uint8 tensors, on several threads, with the
/// preprocessing of spec §1.1 (resize the shorter side, centre crop) and channel conversion.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace flowood::data {

/// How each decoded image becomes the dataset's pixels. Steps run in this order: channels, resize,
/// crop, invert.
struct ImageTransform {
  int channels = 0;              ///< 1 grayscale, 3 RGB; 0 = as stored (grey stays 1, colour 3; alpha dropped)
  int64_t resize_shorter = 0;    ///< > 0: scale so the shorter side has this length, aspect kept (torchvision Resize(int))
  int64_t resize_h = 0;          ///< > 0 (with resize_w): resize to exactly resize_h x resize_w
  int64_t resize_w = 0;
  int64_t crop_h = 0;            ///< > 0 (with crop_w): centre crop (torchvision CenterCrop); larger than the image is an error
  int64_t crop_w = 0;
  bool invert = false;           ///< value -> 255 - value
  int64_t expect_h = 0;          ///< > 0: every result must be expect_h x expect_w (lets the decoder write in place)
  int64_t expect_w = 0;

  /// "rgb,resize32,crop32x32" — stable text for cache keys.
  std::string key() const;
};

/// One encoded image: its bytes in memory, or a file to read (when `bytes` is empty).
struct EncodedImage {
  std::string name;                 ///< for error messages: the file, or "archive.tar.gz:member"
  std::string path;                 ///< read from here when `bytes` is empty
  std::vector<std::uint8_t> bytes;  ///< the encoded file
};

/// Threads used to decode: $FLOWOOD_DECODE_THREADS when set (>= 1), else the number of cores (at most 16).
int decode_thread_count();

/// Decodes `images` in order into [N, C, H, W] uint8 (RGB channel order), on `threads` threads
/// (0 = decode_thread_count()). With channels = 0 the result has 3 channels when any image is in
/// colour (grey ones replicated), else 1. Every image must end up the same size. Throws DataError
/// naming the image: unreadable, truncated (a JPEG without its end marker, a PNG without IEND), not
/// an image, or of another size than the first (the message suggests ?size=).
torch::Tensor decode_images(const std::vector<EncodedImage>& images, const ImageTransform& transform,
                            int threads = 0);

/// True for file names OpenCV decodes here: .png .jpg .jpeg .bmp .pgm .ppm .tif .tiff (any case).
bool is_image_file_name(const std::string& name);

}  // namespace flowood::data
