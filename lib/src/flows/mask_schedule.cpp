#include "flowood/core/strings.hpp"
#include "flowood/flows/mask_schedule.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "flowood/core/error.hpp"

namespace flowood::flows {
namespace {

// A parsed entry before expansion: enough to build it and to say what comes next.
struct Unit {
  std::string name;
  bool reverse = false;
  int in = -1, out = -1;  // quadrants
  int64_t margin = 4;     // center
  int64_t factor = 2;     // sub-quadrant
  std::string path;       // file

  MaskPtr build() const {
    if (name == "quadrant") return std::make_shared<QuadrantMask>(in, out);
    if (name == "sub-quadrant") return std::make_shared<SubQuadrantMask>(in, out, factor);
    if (name == "center") return std::make_shared<CenterMask>(margin, reverse);
    if (name == "file") return std::make_shared<FileMask>(path, reverse);
    return make_mask(name, reverse);
  }
  // The next layer of this entry's schedule.
  Unit next() const {
    Unit u = *this;
    if (name == "quadrant" || name == "sub-quadrant") {
      u.in = (in + 1) % 4;
      u.out = (out + 1) % 4;
    } else {
      u.reverse = !reverse;
    }
    return u;
  }
};

std::optional<int64_t> parse_int(const std::string& s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  return std::stoll(s);
}

std::vector<std::string> split_colons(const std::string& s) {
  std::vector<std::string> parts;
  std::string::size_type start = 0;
  while (true) {
    const auto colon = s.find(':', start);
    parts.push_back(s.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return parts;
}

// Parses "A>B" into quadrants.
bool parse_quadrants(const std::string& s, Unit& u) {
  const auto gt = s.find('>');
  if (gt == std::string::npos) return false;
  const auto a = parse_int(s.substr(0, gt)), b = parse_int(s.substr(gt + 1));
  if (!a || !b) return false;
  u.in = static_cast<int>(*a);
  u.out = static_cast<int>(*b);
  return true;
}

// "name:opt:opt" → Unit; throws std::string on error (the caller adds the entry's key).
Unit parse_unit(const std::string& text) {
  Unit u;
  if (text.rfind("file:", 0) == 0) {
    u.name = "file";
    u.path = text.substr(5);
    const std::string rev = ":reverse";
    if (u.path.size() > rev.size() && u.path.compare(u.path.size() - rev.size(), rev.size(), rev) == 0) {
      u.reverse = true;
      u.path.resize(u.path.size() - rev.size());
    }
    if (u.path.empty()) throw std::string("file: needs a path (file:PATH[:reverse])");
    return u;
  }
  const auto parts = split_colons(text);
  u.name = parts[0];
  const auto names = mask_names();
  if (std::find(names.begin(), names.end(), u.name) == names.end())
    throw fmt::format("unknown mask '{}' (valid: {})", u.name, fmt::join(names, ", "));
  const bool quadrant = u.name == "quadrant" || u.name == "sub-quadrant";
  for (size_t i = 1; i < parts.size(); ++i) {
    const auto& opt = parts[i];
    const auto eq = opt.find('=');
    const auto key = opt.substr(0, eq);
    const auto value = eq == std::string::npos ? std::string() : opt.substr(eq + 1);
    if (opt == "reverse" && !quadrant && u.name != "cycle") {
      u.reverse = true;
    } else if (quadrant && parse_quadrants(opt, u)) {
    } else if (u.name == "center" && key == "margin" && parse_int(value)) {
      u.margin = *parse_int(value);
    } else if (u.name == "sub-quadrant" && key == "factor" && parse_int(value)) {
      u.factor = *parse_int(value);
    } else {
      throw fmt::format("'{}': unknown option '{}' for {}", text, opt, u.name);
    }
  }
  if (quadrant && u.in < 0) throw fmt::format("'{}': {} needs input and output quadrants, e.g. {}:0>1", text, u.name, u.name);
  return u;
}

// An error's message without the "key: " prefix of a ConfigError (the caller names the entry).
std::string bare(const Error& e) {
  std::string what = e.what();
  if (const auto* c = dynamic_cast<const ConfigError*>(&e); c && !c->key().empty() && what.rfind(c->key() + ": ", 0) == 0)
    what = what.substr(c->key().size() + 2);
  return what;
}

}  // namespace

std::vector<std::string> mask_names() {
  return {"checkerboard", "channel", "horizontal", "vertical", "quadrant", "sub-quadrant",
          "center",       "tabular", "file",       "cycle"};
}

std::vector<MaskPtr> parse_masks(const std::vector<std::string>& entries, const Shape& input) {
  std::vector<MaskPtr> masks;
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto key = fmt::format("model.masks[{}]", i);
    auto text = trim(entries[i]);
    try {
      int64_t count = 1;
      // " xK" repeats the entry.
      if (const auto sp = text.find_last_of(" \t"); sp != std::string::npos) {
        const auto tail = text.substr(sp + 1);
        const auto k = tail.size() > 1 && tail[0] == 'x' ? parse_int(tail.substr(1)) : std::nullopt;
        if (!k) throw fmt::format("'{}': expected MASK or 'MASK xK' (K a count)", text);
        if (*k < 1) throw fmt::format("'{}': the repeat count must be >= 1", text);
        if (*k > kMaxCouplingLayers)
          throw fmt::format("'{}': at most {} coupling layers in a flow (got a repeat count of {})", text,
                            kMaxCouplingLayers, *k);
        count = *k;
        text = trim(text.substr(0, sp));
      }
      if (text.empty()) throw std::string("empty mask entry");
      std::vector<Unit> schedule;
      if (text == "cycle") {
        Unit q;
        q.name = "quadrant";
        q.in = 0;
        q.out = 1;
        for (int j = 0; j < 4; ++j, q = q.next()) schedule.push_back(q);
      } else {
        schedule.push_back(parse_unit(text));
      }
      // Repeating continues the schedule: a single mask alternates/advances, `cycle` restarts
      // (four clockwise steps lead back to the start, so the two agree).
      Unit u = schedule.front();
      if (static_cast<int64_t>(masks.size()) + count * static_cast<int64_t>(schedule.size()) > kMaxCouplingLayers)
        throw fmt::format("'{}': the masks list makes more than {} coupling layers", text, kMaxCouplingLayers);
      for (int64_t r = 0; r < count; ++r) {
        for (size_t j = 0; j < schedule.size(); ++j) {
          auto mask = (schedule.size() > 1 ? schedule[j] : u).build();
          try {
            mask->check_shape(input);
          } catch (const Error& e) {
            throw fmt::format("'{}': layer {} ({}): {}", entries[i], masks.size(), mask->describe(), bare(e));
          }
          masks.push_back(std::move(mask));
        }
        u = u.next();
      }
    } catch (const std::string& message) {
      throw ConfigError(key, message);
    } catch (const Error& e) {
      throw ConfigError(key, fmt::format("'{}': {}", entries[i], bare(e)));
    }
  }
  return masks;
}

std::string coverage_warning(const std::vector<MaskPtr>& masks, const Shape& input) {
  if (masks.empty()) return "";
  auto covered = torch::zeros(input, torch::kFloat32);
  for (const auto& m : masks) covered = torch::maximum(covered, m->transformed(input));
  const auto never = covered.eq(0);
  const auto count = never.sum().item<int64_t>();
  if (count == 0) return "";
  const auto first = never.nonzero()[0];
  std::vector<int64_t> at(first.data_ptr<int64_t>(), first.data_ptr<int64_t>() + first.numel());
  return fmt::format("{} of {} positions are never transformed by any of the {} layers (the first at index [{}])",
                     count, covered.numel(), masks.size(), fmt::join(at, ", "));
}

}  // namespace flowood::flows
