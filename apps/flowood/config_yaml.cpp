#include "config_yaml.hpp"

#include <filesystem>
#include <functional>
#include <set>
#include <sstream>
#include <type_traits>
#include <variant>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/experiment/validate.hpp"

namespace flowood::app {
namespace fs = std::filesystem;
namespace {

using FieldPtr = std::variant<int64_t*, double*, bool*, std::string*, std::vector<std::string>*, std::vector<int64_t>*,
                              std::vector<double>*>;

template <class T>
constexpr bool kIsList = std::is_same_v<T, std::vector<std::string>> || std::is_same_v<T, std::vector<int64_t>> ||
                         std::is_same_v<T, std::vector<double>>;

struct Field {
  FieldPtr ptr;
  std::string doc;
};

std::map<std::string, Field> field_table(config::ExperimentConfig& c) {
  std::map<std::string, Field> table;
  config::visit_fields(c, [&](const char* key, auto& field, const char* doc) { table[key] = {&field, doc}; });
  return table;
}

const char* type_name(const FieldPtr& p) {
  struct V {
    const char* operator()(int64_t*) const { return "an integer"; }
    const char* operator()(double*) const { return "a number"; }
    const char* operator()(bool*) const { return "true or false"; }
    const char* operator()(std::string*) const { return "a string"; }
    const char* operator()(std::vector<std::string>*) const { return "a list of strings"; }
    const char* operator()(std::vector<int64_t>*) const { return "a list of integers"; }
    const char* operator()(std::vector<double>*) const { return "a list of numbers"; }
  };
  return std::visit(V{}, p);
}

/// Plain decimal integers only: yaml-cpp would read "010" as octal 8 and "0x10" as 16, which no
/// one writing batch_size: 010 means.
bool is_decimal_integer(const std::string& s) {
  std::size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i >= s.size()) return false;
  if (s[i] == '0') return i + 1 == s.size();
  for (; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

/// Well-formed UTF-8 without control characters: the writer would replace other bytes and drop a
/// lone carriage return, so the config stored with a run would differ from the one read.
bool is_clean_text(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return false;
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    i += n;
  }
  return true;
}

template <class T>
T scalar_as(const YAML::Node& node) {
  if (!node.IsScalar()) throw YAML::BadConversion(node.Mark());
  if (!is_clean_text(node.Scalar())) throw YAML::BadConversion(node.Mark());
  if constexpr (std::is_same_v<T, int64_t>)
    if (!is_decimal_integer(node.Scalar())) throw YAML::BadConversion(node.Mark());
  return node.as<T>();
}

/// What to write instead, for a value holding control characters or bytes that are not UTF-8, and
/// for an integer field given a number with a leading zero or a base prefix.
std::string value_hint(const FieldPtr& ptr, const YAML::Node& node) {
  std::vector<std::string> scalars;
  if (node.IsScalar()) scalars.push_back(node.Scalar());
  if (node.IsSequence())
    for (const auto& item : node)
      if (item.IsScalar()) scalars.push_back(item.Scalar());
  for (const auto& s : scalars)
    if (!is_clean_text(s)) return " (plain text: the value holds a control character or bytes that are not UTF-8)";
  if (!std::holds_alternative<int64_t*>(ptr) && !std::holds_alternative<std::vector<int64_t>*>(ptr)) return {};
  for (const auto& s : scalars) {
    const auto digits = s.find_first_not_of("+-");
    if (digits != std::string::npos && s[digits] == '0' && s.size() > digits + 1)
      return fmt::format(" in decimal digits without a leading 0 (got '{}', which YAML may read as octal or hex)", s);
  }
  return {};
}

// Assigns node to the field; returns false when the node has the wrong type.
bool assign(const FieldPtr& ptr, const YAML::Node& node) {
  try {
    std::visit(
        [&](auto* field) {
          using T = std::remove_pointer_t<decltype(field)>;
          if constexpr (kIsList<T>) {
            using E = typename T::value_type;
            T values;
            if (node.IsSequence()) {
              for (const auto& item : node) values.push_back(scalar_as<E>(item));
            } else if (node.IsNull()) {
            } else {
              values.push_back(scalar_as<E>(node));  // a single value is a list of one
            }
            *field = values;
          } else if constexpr (std::is_same_v<T, std::string>) {
            *field = scalar_as<std::string>(node);
          } else {
            *field = scalar_as<T>(node);
          }
        },
        ptr);
    return true;
  } catch (const YAML::Exception&) {
    return false;
  }
}

std::string closest_key(const std::string& key, const std::map<std::string, Field>& table) {
  // Smallest edit distance; only suggested when close.
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      size_t prev = row[0];
      row[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        const size_t cur = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1)});
        prev = cur;
      }
    }
    return row[b.size()];
  };
  // Candidates: every key and every section name (a misspelt section is suggested too).
  std::set<std::string> candidates;
  for (const auto& [k, f] : table) {
    candidates.insert(k);
    if (const auto dot = k.find('.'); dot != std::string::npos) candidates.insert(k.substr(0, dot));
  }
  std::string best;
  size_t best_d = 4;
  for (const auto& k : candidates) {
    const auto d = distance(key, k);
    if (d < best_d) best_d = d, best = k;
  }
  return best;
}

struct Reader {
  std::map<std::string, Field> table;
  std::string source;
  std::map<std::string, int> lines;
  std::vector<std::string> problems;

  std::string where(int line) const { return line > 0 ? fmt::format("{}:{}", source, line) : source; }

  void unknown(const std::string& key, int line) {
    const auto hint = closest_key(key, table);
    problems.push_back(fmt::format("{}: unknown key '{}'{}", where(line), key,
                                   hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
  }

  void walk(const YAML::Node& node, const std::string& prefix) {
    for (const auto& kv : node) {
      const int line = kv.first.Mark().line + 1;
      if (!kv.first.IsScalar()) {  // `? [a, b]: 1` or `~: 1`
        problems.push_back(fmt::format("{}: keys must be plain names", where(line)));
        continue;
      }
      const auto& name = kv.first.Scalar();
      const auto key = prefix.empty() ? name : prefix + "." + name;
      auto it = table.find(key);
      if (it != table.end()) {
        // yaml-cpp keeps both entries of a repeated key; "the last one wins" would hide a typo.
        if (const auto seen = lines.find(key); seen != lines.end()) {
          problems.push_back(fmt::format("{}: duplicate key '{}' (first on line {})", where(line), key, seen->second));
          continue;
        }
        lines[key] = line;
        if (!assign(it->second.ptr, kv.second))
          problems.push_back(fmt::format("{}: {} must be {}{}", where(line), key, type_name(it->second.ptr),
                                         value_hint(it->second.ptr, kv.second)));
        continue;
      }
      bool is_section = false;
      for (const auto& [k, f] : table) is_section |= k.rfind(key + ".", 0) == 0;
      if (!is_section)
        unknown(key, line);
      else if (kv.second.IsMap())
        walk(kv.second, key);
      else if (!kv.second.IsNull())  // `model:` alone is an empty section
        problems.push_back(fmt::format("{}: {} must be a mapping of keys", where(line), key));
    }
  }
};

}  // namespace

namespace {
LoadedConfig load_config_from(const std::string& path, const std::vector<std::string>& overrides, const std::string* text) {
  LoadedConfig out;
  out.source = path;
  Reader reader{field_table(out.config), path, {}, {}};
  if (!path.empty()) {
    if (!text && !std::filesystem::is_regular_file(path)) throw ConfigError("", path + ": no such config file");
    YAML::Node root;
    try {
      root = text ? YAML::Load(*text) : YAML::LoadFile(path);
    } catch (const YAML::ParserException& e) {
      throw ConfigError("", fmt::format("{}:{}: YAML syntax error: {}", path, e.mark.line + 1, e.msg));
    } catch (const YAML::BadFile&) {
      throw ConfigError("", path + ": cannot read config file");
    }
    if (root.IsMap())
      reader.walk(root, "");
    else if (!root.IsNull())
      reader.problems.push_back(path + ":1: the config must be a mapping of keys");
  }
  for (const auto& o : overrides) {
    const auto eq = o.find('=');
    if (eq == std::string::npos || eq == 0) {
      reader.problems.push_back(fmt::format("--set {}: expected key.path=value", o));
      continue;
    }
    const auto key = o.substr(0, eq);
    auto it = reader.table.find(key);
    if (it == reader.table.end()) {
      const auto hint = closest_key(key, reader.table);
      reader.problems.push_back(fmt::format("--set: unknown key '{}'{}", key,
                                            hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
      continue;
    }
    YAML::Node value;
    try {
      value = YAML::Load(o.substr(eq + 1));
    } catch (const YAML::Exception& e) {
      reader.problems.push_back(fmt::format("--set {}: cannot parse value: {}", key, e.msg));
      continue;
    }
    if (!assign(it->second.ptr, value))
      reader.problems.push_back(
          fmt::format("--set {}: must be {}{}", key, type_name(it->second.ptr), value_hint(it->second.ptr, value)));
    reader.lines[key] = -1;
  }
  if (reader.problems.empty()) {
    for (const auto& p : experiment::validate(out.config)) {
      // "model.masks[3]" is on the line of "model.masks".
      auto it = reader.lines.find(p.key.substr(0, p.key.find('[')));
      std::string where;
      if (it == reader.lines.end())
        where = path.empty() ? "(defaults)" : path;
      else if (it->second < 0)
        where = "--set";
      else
        where = reader.where(it->second);
      const auto line = fmt::format("{}: {} {}", where, p.key, p.message);
      if (p.warning)
        out.warnings.push_back(line);
      else
        reader.problems.push_back(line);
    }
  }
  if (!reader.problems.empty()) throw ConfigError("", fmt::format("{}", fmt::join(reader.problems, "\n")));
  out.key_lines = reader.lines;
  for (const auto& w : out.warnings) log().warn("{}", w);
  return out;
}
}  // namespace

LoadedConfig load_config(const std::string& path, const std::vector<std::string>& overrides) {
  return load_config_from(path, overrides, nullptr);
}

LoadedConfig load_config_text(const std::string& text, const std::string& source) {
  return load_config_from(source, {}, &text);
}


namespace {
void emit_value(YAML::Emitter& e, const FieldPtr& ptr) {
  std::visit(
      [&](auto* field) {
        using T = std::remove_pointer_t<decltype(field)>;
        if constexpr (kIsList<T>) {
          e << YAML::Flow << YAML::BeginSeq;
          for (const auto& v : *field) {
            if constexpr (std::is_same_v<T, std::vector<double>>)
              e << fmt::format("{}", v);
            else
              e << v;
          }
          e << YAML::EndSeq;
        } else if constexpr (std::is_same_v<T, double>) {
          e << fmt::format("{}", *field);
        } else {
          e << *field;
        }
      },
      ptr);
}

std::string emit(const config::ExperimentConfig& c, bool with_docs) {
  auto copy = c;
  std::vector<std::pair<std::string, Field>> fields;
  config::visit_fields(copy, [&](const char* key, auto& field, const char* doc) {
    fields.push_back({key, Field{&field, doc}});
  });
  YAML::Emitter e;
  e << YAML::BeginMap;
  // Keys are dotted paths ("train.negative.data"): open and close nested maps as the path changes.
  std::vector<std::string> open;
  for (const auto& [key, field] : fields) {
    std::vector<std::string> parts;
    for (size_t from = 0;;) {
      const auto dot = key.find('.', from);
      parts.push_back(key.substr(from, dot - from));
      if (dot == std::string::npos) break;
      from = dot + 1;
    }
    size_t common = 0;
    while (common < open.size() && common + 1 < parts.size() && open[common] == parts[common]) ++common;
    for (; open.size() > common; open.pop_back()) e << YAML::EndMap;
    for (; open.size() + 1 < parts.size(); open.push_back(parts[open.size()]))
      e << YAML::Key << parts[open.size()] << YAML::Value << YAML::BeginMap;
    e << YAML::Key << parts.back() << YAML::Value;
    emit_value(e, field.ptr);
    if (with_docs) e << YAML::Comment(field.doc);
  }
  for (; !open.empty(); open.pop_back()) e << YAML::EndMap;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}
}  // namespace

std::string to_yaml(const config::ExperimentConfig& config) { return emit(config, false); }

namespace {
std::string flow_text(const YAML::Node& node) {
  YAML::Emitter out;
  out << YAML::Flow << node;
  return out.c_str();
}

[[noreturn]] void grid_error(const std::string& grid, const std::string& what) {
  throw ConfigError("", fmt::format("{}: {}", grid, what));
}

std::string scalar(const YAML::Node& node, const std::string& grid, const std::string& key) {
  if (!node.IsScalar()) grid_error(grid, key + " must be a single value");
  return node.Scalar();
}

}  // namespace

experiment::SweepGrid read_sweep_grid(const std::string& grid_path, const std::string& dir) {
  if (!fs::is_regular_file(grid_path)) throw IoError(grid_path, "no such grid file");
  YAML::Node root;
  try {
    root = YAML::LoadFile(grid_path);
  } catch (const YAML::ParserException& e) {
    throw ConfigError("", fmt::format("{}:{}: YAML syntax error: {}", grid_path, e.mark.line + 1, e.msg));
  }
  if (!root.IsMap()) grid_error(grid_path, "a grid file is a mapping with base, axes and optionally name, dir, set, slurm");
  static const std::set<std::string> known = {"base", "name", "dir", "set", "axes", "slurm"};
  for (const auto& item : root) {
    const auto key = item.first.as<std::string>();
    if (!known.count(key))
      grid_error(grid_path, fmt::format("unknown key '{}' (valid: base, name, dir, set, axes, slurm)", key));
  }
  experiment::SweepGrid plan;
  plan.path = grid_path;
  if (!root["base"]) grid_error(grid_path, "needs base: the experiment file the sweep varies");
  plan.base = (fs::path(grid_path).parent_path() / scalar(root["base"], grid_path, "base")).lexically_normal().string();
  if (!fs::is_regular_file(plan.base)) grid_error(grid_path, fmt::format("base: no such experiment file {}", plan.base));
  plan.name = root["name"] ? scalar(root["name"], grid_path, "name") : fs::path(grid_path).stem().string();
  plan.dir = !dir.empty() ? dir : root["dir"] ? scalar(root["dir"], grid_path, "dir") : "runs/sweeps/" + plan.name;

  if (const auto set = root["set"]) {
    if (!set.IsMap()) grid_error(grid_path, "set must be a mapping of config keys to values");
    for (const auto& item : set) plan.fixed.push_back(item.first.as<std::string>() + "=" + flow_text(item.second));
  }
  const auto axes = root["axes"];
  if (!axes || !axes.IsMap() || axes.size() == 0)
    grid_error(grid_path, "needs axes: a mapping of config keys to lists of values");
  for (const auto& item : axes) {
    const auto key = item.first.as<std::string>();
    if (!item.second.IsSequence() || item.second.size() == 0)
      grid_error(grid_path, fmt::format("axes.{} must be a non-empty list of values", key));
    plan.axes.emplace_back(key, std::vector<std::string>{});
    for (const auto& v : item.second) plan.axes.back().second.push_back(flow_text(v));
  }
  if (const auto s = root["slurm"]) {
    if (!s.IsMap()) grid_error(grid_path, "slurm must be a mapping");
    for (const auto& item : s) {
      const auto key = item.first.as<std::string>();
      const auto text = [&] { return scalar(item.second, grid_path, "slurm." + key); };
      try {
        if (key == "partition") plan.slurm.partition = text();
        else if (key == "time") plan.slurm.time = text();
        else if (key == "account") plan.slurm.account = text();
        else if (key == "mem") plan.slurm.mem = text();
        else if (key == "gpus") plan.slurm.gpus = item.second.as<int64_t>();
        else if (key == "cpus_per_task") plan.slurm.cpus_per_task = item.second.as<int64_t>();
        else if (key == "signal_seconds") plan.slurm.signal_seconds = item.second.as<int64_t>();
        else if (key == "extra") plan.slurm.extra = item.second.as<std::vector<std::string>>();
        else
          grid_error(grid_path, fmt::format("unknown key slurm.{} (valid: partition, time, account, mem, gpus, "
                                            "cpus_per_task, signal_seconds, extra)", key));
      } catch (const YAML::Exception&) {
        grid_error(grid_path, fmt::format("slurm.{}: wrong type", key));
      }
    }
  }
  return plan;
}

const experiment::ConfigCodec& yaml_codec() {
  static const experiment::ConfigCodec codec{
      [](const std::string& path, const std::vector<std::string>& overrides) { return load_config(path, overrides).config; },
      [](const config::ExperimentConfig& config) { return to_yaml(config); },
      [](const std::string& text, const std::string& source) { return load_config_text(text, source).config; }};
  return codec;
}

std::string reference_yaml() { return emit(config::ExperimentConfig{}, true); }

}  // namespace flowood::app
