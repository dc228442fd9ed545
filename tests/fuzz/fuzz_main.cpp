// Runs a fuzz target without libFuzzer: every seed, the files given, then --runs random mutations of
// them (bit flips, interesting bytes, insertions, deletions, truncations, splices, large integers
// written over header fields), reproducible from --seed. Exit 0 when every input was handled;
// a crash, a sanitizer report or an exception other than flowood::Error ends it non-zero.
// --seconds T runs mutations for T seconds instead (CI's bounded-time runs under the sanitizers).
//   fuzz_npy [--runs N | --seconds T] [--seed S] [--write-seeds DIR] [FILE|DIR...]
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "fuzz_target.hpp"

namespace {

std::string mutate(std::string s, std::mt19937_64& rng) {
  const auto pick = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    switch (rng() % 7) {
      case 0:  // flip a bit
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1: {  // an interesting byte
        static const unsigned char values[] = {0x00, 0x01, 0x7F, 0x80, 0xFF, '0', '9', '[', '{', ':', '\n'};
        if (!s.empty()) s[pick(s.size())] = static_cast<char>(values[rng() % sizeof values]);
        break;
      }
      case 2: {  // insert random bytes
        std::string bytes(1 + rng() % 16, '\0');
        for (auto& c : bytes) c = static_cast<char>(rng());
        s.insert(pick(s.size() + 1), bytes);
        break;
      }
      case 3:  // delete a range
        if (!s.empty()) {
          const auto at = pick(s.size());
          s.erase(at, 1 + pick(std::min<size_t>(64, s.size() - at)));
        }
        break;
      case 4:  // truncate
        s.resize(pick(s.size() + 1));
        break;
      case 5: {  // splice: repeat a chunk
        if (s.empty()) break;
        const auto at = pick(s.size());
        s.insert(pick(s.size() + 1), s.substr(at, 1 + pick(32)));
        break;
      }
      default: {  // a large 32-bit integer over a (header) field, either byte order
        if (s.size() < 4) break;
        static const uint32_t values[] = {0xFFFFFFFFu, 0x7FFFFFFFu, 0x80000000u, 100000u, 0x00010000u, 0u};
        const uint32_t v = values[rng() % 6];
        const auto at = pick(s.size() - 3);
        for (int b = 0; b < 4; ++b)
          s[at + static_cast<size_t>(b)] = static_cast<char>(rng() % 2 ? (v >> (8 * b)) & 0xFF : (v >> (8 * (3 - b))) & 0xFF);
      }
    }
  }
  return s;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

int main(int argc, char** argv) {
  long long runs = 1000;
  double seconds = 0;
  unsigned long long seed = 0;
  std::string write_dir;
  std::vector<std::string> corpus = fuzz_seeds();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) runs = std::stoll(argv[++i]);
    else if (a == "--seconds" && i + 1 < argc) seconds = std::stod(argv[++i]);
    else if (a == "--seed" && i + 1 < argc) seed = std::stoull(argv[++i]);
    else if (a == "--write-seeds" && i + 1 < argc) write_dir = argv[++i];
    else if (std::filesystem::is_directory(a)) {  // every file in it, in name order
      std::vector<std::filesystem::path> files;
      for (const auto& e : std::filesystem::directory_iterator(a)) files.push_back(e.path());
      std::sort(files.begin(), files.end());
      for (const auto& f : files) corpus.push_back(read_all(f.string()));
    } else {
      corpus.push_back(read_all(a));
    }
  }
  if (!write_dir.empty()) {  // a corpus directory for libFuzzer
    std::filesystem::create_directories(write_dir);
    for (size_t k = 0; k < corpus.size(); ++k)
      std::ofstream(write_dir + "/seed" + std::to_string(k), std::ios::binary) << corpus[k];
    return 0;
  }
  const auto run = [](const std::string& input) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  };
  // The target's own seeds must be accepted; files given (earlier findings, say) need only be handled.
  const size_t own_seeds = fuzz_seeds().size();
  for (size_t k = 0; k < corpus.size(); ++k) {
    const auto before = fuzz_accepted();
    run(corpus[k]);
    if (k >= own_seeds) continue;
    if (fuzz_accepted() != before + 1) std::cerr << "fuzz: seed " << k << " was rejected\n";
    FUZZ_ASSERT_TRUE(fuzz_accepted() == before + 1, "a seed (a valid input) was rejected");
  }
  std::mt19937_64 rng(seed);
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  long long r = 0;
  for (; seconds > 0 ? elapsed() < seconds : r < runs; ++r) {
    auto input = corpus[static_cast<size_t>(rng() % corpus.size())];
    input = mutate(std::move(input), rng);
    if (rng() % 8 == 0) corpus.push_back(input);  // mutations of mutations, too
    run(input);
  }
  std::cout << "fuzz: " << corpus.size() << " corpus inputs, " << r << " mutations in " << static_cast<int>(elapsed())
            << " s (seed " << seed << "): all handled\n";
  return 0;
}
