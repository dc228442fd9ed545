#pragma once
/// Any directory of images (PNG, JPEG, BMP, PGM/PPM, TIFF) as a dataset: `folder:PATH?OPTIONS`.
/// With class sub-folders the label is the sub-folder's index in sorted order.
#include <cstdint>
#include <string>
#include <vector>

#include "flowood/data/dataset.hpp"
#include "flowood/data/image_decode.hpp"
#include "flowood/data/kind.hpp"

namespace flowood::data {

/// An image folder read with `transform`. Layout: when `dir` has sub-folders, each is a class
/// (label = index in sorted name order, images found recursively inside it; loose files beside the
/// class folders are skipped with a warning); otherwise every image in `dir` (recursively) is read
/// without labels. Images are read in path order. `class_names` receives the sub-folder names.
/// Throws DataError naming the folder (no images) or the image (unreadable, other size, …).
ImageDataset load_image_folder(const std::string& dir, const ImageTransform& transform, int64_t limit = 0,
                               std::vector<std::string>* class_names = nullptr);

/// The transform a `folder:` spec's options ask for: gray|rgb, size=S, resize=S|HxW, crop=S|HxW,
/// invert. Throws DataError(spec) for contradictory options (gray with rgb, size with resize/crop).
ImageTransform folder_transform(const DatasetSpec& spec);

/// The factory-table entry "folder:PATH[?OPTIONS]".
DatasetKind folder_kind();

}  // namespace flowood::data
