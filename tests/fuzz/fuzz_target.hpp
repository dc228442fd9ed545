#pragma once
// One fuzz target per parser: LLVMFuzzerTestOneInput (libFuzzer's entry point) and fuzz_seeds()
// (valid inputs built by flowood's own writers, from which the mutations start). A target may
// throw flowood::Error for bad input — that is the clear error a user sees — and nothing else:
// any other exception, a crash, a sanitizer report or an allocation beyond the input's size is a
// bug. fuzz_main.cpp runs a target without libFuzzer (GCC builds, CTest).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

/// Valid inputs for the target (the seed corpus).
std::vector<std::string> fuzz_seeds();

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

/// Inputs the target accepted (parsed without error) so far: the driver checks that every seed is
/// accepted, so a target that rejects everything cannot pass.
inline long long& fuzz_accepted() {
  static long long n = 0;
  return n;
}

/// An invariant of an accepted input; a violation aborts (the fuzzer's notion of a failure).
void fuzz_check(bool ok, const char* what);
#define FUZZ_ASSERT_TRUE(condition, what) fuzz_check((condition), (what))

/// A scratch file holding the input, for parsers that read paths; removed when it goes out of scope.
/// The name has the process id, so targets run side by side do not collide.
class FuzzFile {
 public:
  FuzzFile(const uint8_t* data, size_t size, const std::string& name)
      : path_("/tmp/flowood_fuzz_" + std::to_string(::getpid()) + "_" + name) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  ~FuzzFile() { std::remove(path_.c_str()); }
  FuzzFile(const FuzzFile&) = delete;
  FuzzFile& operator=(const FuzzFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};
