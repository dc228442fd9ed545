#include "flowood/core/strings.hpp"

#include <algorithm>
#include <cctype>

namespace flowood {

std::string trim(const std::string& s) {
  constexpr const char* kSpace = " \t\r\n";
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace flowood
