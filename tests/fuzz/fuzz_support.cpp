// fuzz_check for both drivers (fuzz_main.cpp and libFuzzer): a violated invariant aborts, which
// both report as a failure with the input that caused it.
#include <cstdlib>
#include <iostream>

#include "fuzz_target.hpp"

void fuzz_check(bool ok, const char* what) {
  if (!ok) {
    std::cerr << "fuzz: invariant violated: " << what << "\n";
    std::abort();
  }
}
