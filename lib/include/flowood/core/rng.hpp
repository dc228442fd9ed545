#pragma once
/// Seeded random streams. Every random draw of a run comes from a generator derived from the
/// experiment seed and the draw's purpose and position, so results do not depend on batch size,
/// thread count or where a run was resumed.
#include <cstdint>

#include <ATen/core/Generator.h>

namespace flowood {

/// Purposes of independent random streams.
enum class Stream : uint64_t { kShuffle = 1, kTrainNoise = 2, kEvalNoise = 3, kScoreNoise = 4, kInit = 5, kDataSplit = 6, kMutation = 7, kClassifier = 8, kNegative = 9, kLidProbe = 10 };

/// A well-mixed 64-bit seed from a base seed, a stream and up to two indices (splitmix64).
uint64_t derive_seed(uint64_t seed, Stream stream, uint64_t a = 0, uint64_t b = 0);

/// A CPU generator seeded with derive_seed(seed, stream, a, b).
at::Generator make_generator(uint64_t seed, Stream stream, uint64_t a = 0, uint64_t b = 0);

}  // namespace flowood
