#pragma once
// One fuzz target per parser: LLVMFuzzerTestOneInput (libFuzzer's entry point) and fuzz_seeds()
// (valid inputs built by flowood's own writers, from which the mutations start). A target may
// throw flowood::Error for bad input — that is the clear error a user sees — and nothing else:
// any other exception, a crash, a sanitizer report or an allocation beyond the input's size is a
// bug. fuzz_driver.cpp runs a target without libFuzzer (GCC builds, CTest).
#include <cstddef>
#include <cstdint>
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
