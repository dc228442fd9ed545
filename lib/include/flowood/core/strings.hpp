#pragma once
/// The small string helpers every parser needs, once.
#include <string>

namespace flowood {

/// `s` without leading and trailing spaces, tabs, carriage returns and newlines.
std::string trim(const std::string& s);

/// `s` with ASCII letters in lower case (other bytes, UTF-8 included, unchanged).
std::string lower(std::string s);

}  // namespace flowood
