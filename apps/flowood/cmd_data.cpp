// flowood data: what datasets exist here and where (list), what one holds (info), whether files
// match the manifest's checksums (verify), and getting them (fetch).
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include "commands.hpp"
#include "config_yaml.hpp"
#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/data/cifar10.hpp"
#include "flowood/data/manifest.hpp"
#include "flowood/data/registry.hpp"
#include "flowood/data/svhn.hpp"
#include "flowood/data/tar.hpp"

extern char** environ;

namespace flowood::app {
namespace {

namespace fs = std::filesystem;

struct DataOptions {
  std::string config_path;
  std::vector<std::string> roots;
  // info
  std::string spec;
  int64_t limit = 0;
  // verify / fetch
  std::string manifest;
  std::vector<std::string> names;
  std::string dir;
  bool strict = false;
  std::string name;
  std::string dest;
};

data::DataRoots roots_of(const DataOptions& o) {
  std::vector<std::string> configured = o.roots;
  if (!o.config_path.empty()) {
    const auto loaded = load_config(o.config_path, {});
    configured.insert(configured.end(), loaded.config.data.roots.begin(), loaded.config.data.roots.end());
  }
  return data::DataRoots::from(configured);
}

/// data/manifest.tsv: given, else ./data/manifest.tsv, else beside the binary's source tree
/// (build/…/bin/flowood → the checkout's data/).
std::string find_manifest(const std::string& given) {
  if (!given.empty()) return given;
  if (fs::exists("data/manifest.tsv")) return "data/manifest.tsv";
  std::error_code ec;
  fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (int up = 0; !ec && up < 5 && !dir.empty(); ++up, dir = dir.parent_path()) {
    if (fs::exists(dir / "data" / "manifest.tsv")) return (dir / "data" / "manifest.tsv").string();
    if (dir == dir.parent_path()) break;
  }
  throw DataError("data/manifest.tsv", "manifest not found in the working directory or above the flowood binary; "
                                       "give --manifest FILE");
}

std::string pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

// list -------------------------------------------------------------------------------------------

void run_list(const DataOptions& o) {
  const auto roots = roots_of(o);
  std::cout << "# roots, in search order: " << fmt::format("{}", fmt::join(roots.dirs, ", ")) << "\n";
  std::vector<std::array<std::string, 3>> rows;
  for (const auto& kind : data::dataset_kinds()) {
    if (kind.takes_path) {
      rows.push_back({kind.name + ":PATH", "path", kind.summary});
    } else if (kind.generated) {
      std::string status = "generated", where = kind.summary;
      if (kind.locate) {  // generated from another dataset (coloured digits from MNIST)
        const auto loc = kind.locate(data::DatasetSpec{kind.name, "", "", {}}, roots);
        status = loc.found ? "generated" : "missing";
        where = loc.found ? "from " + loc.where : "needs mnist:test (not found)";
      }
      rows.push_back({kind.splits.empty() ? kind.name : fmt::format("{}:{}", kind.name, fmt::join(kind.splits, "|")),
                      status, where});
    } else if (kind.locate) {
      for (const auto& split : kind.splits) {
        const auto loc = kind.locate(data::DatasetSpec{kind.name, split, "", {}}, roots);
        rows.push_back({kind.name + ":" + split, loc.found ? "found" : "missing",
                        loc.found ? fmt::format("{} ({})", loc.where, loc.layout)
                                  : fmt::format("searched {} places; flowood data fetch {}", loc.searched.size(),
                                                kind.name)});
      }
    }
  }
  std::size_t w0 = 7, w1 = 6;
  for (const auto& r : rows) w0 = std::max(w0, r[0].size()), w1 = std::max(w1, r[1].size());
  std::cout << pad("dataset", w0) << "  " << pad("status", w1) << "  where\n";
  for (const auto& r : rows) std::cout << pad(r[0], w0) << "  " << pad(r[1], w1) << "  " << r[2] << "\n";
}

// info -------------------------------------------------------------------------------------------

std::vector<std::string> class_names_of(const std::string& name) {
  if (name == "cifar10") return {data::kCifar10Classes.begin(), data::kCifar10Classes.end()};
  if (name == "fashion-mnist") {
    return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
  }
  if (name == "mnist" || name == "svhn" || name == "coloured-digits") {
    return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  }
  return {};
}

void print_class_counts(const torch::Tensor& labels, const std::vector<std::string>& names) {
  if (!labels.defined() || labels.numel() == 0) {
    std::cout << "labels: none\n";
    return;
  }
  const int64_t lo = labels.min().item<int64_t>(), hi = labels.max().item<int64_t>();
  if (lo < 0) {
    std::cout << fmt::format("labels: {} .. {}\n", lo, hi);
    return;
  }
  const auto counts = torch::bincount(labels, {}, hi + 1);
  int64_t classes = 0;
  for (int64_t k = 0; k <= hi; ++k) classes += counts[k].item<int64_t>() > 0 ? 1 : 0;
  std::cout << fmt::format("labels: {} classes\n", classes);
  std::cout << "class  count  name\n";
  for (int64_t k = 0; k <= hi; ++k) {
    const int64_t c = counts[k].item<int64_t>();
    if (c == 0) continue;
    std::cout << fmt::format("{:>5}  {:>5}  {}\n", k, c,
                             k < static_cast<int64_t>(names.size()) ? names[static_cast<std::size_t>(k)] : "");
  }
}

std::string files_summary(const std::vector<std::string>& files) {
  if (files.empty()) return "none (generated)";
  if (files.size() <= 3) return fmt::format("{}", fmt::join(files, ", "));
  return fmt::format("{} files ({} … {})", files.size(), files.front(), files.back());
}

void run_info_data(const DataOptions& o) {
  const auto roots = roots_of(o);
  if (o.limit < 0) throw ConfigError("--limit", fmt::format("must be >= 0 (got {})", o.limit));
  const auto spec = data::parse_dataset_spec(o.spec);
  const data::DatasetKind* kind = data::find_dataset_kind(spec.name);
  const auto start = std::chrono::steady_clock::now();
  if (kind->is_features()) {
    const auto ds = data::load_features(spec, roots, o.limit);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log().info("loaded in {:.2f} s", seconds);
    std::cout << "spec: " << ds.spec << "\n"
              << "kind: features\n"
              << "files: " << files_summary(ds.files) << "\n"
              << "count: " << ds.size() << "\n"
              << "shape: " << ds.dim() << " features\n"
              << "dtype: float32\n";
    if (ds.size() > 0) {
      std::cout << fmt::format("range: {:.6g} .. {:.6g}\n", ds.features.min().item<float>(),
                               ds.features.max().item<float>())
                << fmt::format("mean: {:.6g}\n", ds.features.mean().item<float>());
    }
    if (!ds.feature_names.empty()) {
      std::cout << "columns: " << fmt::format("{}", fmt::join(ds.feature_names, ", ")) << "\n";
    }
    print_class_counts(ds.labels, ds.class_names);
    return;
  }
  const auto ds = data::load_dataset(spec, roots, o.limit);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log().info("loaded in {:.2f} s", seconds);
  std::cout << "spec: " << ds.spec << "\n"
            << "kind: images\n"
            << "files: " << files_summary(ds.files) << "\n"
            << "count: " << ds.size() << "\n"
            << fmt::format("shape: {}x{}x{} (CxHxW)\n", ds.images.size(1), ds.images.size(2), ds.images.size(3))
            << "dtype: uint8\n";
  if (ds.size() > 0) {
    const auto per_channel = ds.images.to(torch::kFloat64).mean({0, 2, 3});
    std::vector<std::string> means;
    for (int64_t c = 0; c < per_channel.size(0); ++c) means.push_back(fmt::format("{:.2f}", per_channel[c].item<double>()));
    std::cout << fmt::format("range: {} .. {}\n", ds.images.min().item<int>(), ds.images.max().item<int>())
              << fmt::format("mean per channel: {}\n", fmt::join(means, ", "));
  }
  print_class_counts(ds.labels, class_names_of(spec.name));
}

// verify -----------------------------------------------------------------------------------------

void run_verify(const DataOptions& o) {
  const std::string manifest = find_manifest(o.manifest);
  const auto entries = data::read_manifest(manifest);
  const auto roots = roots_of(o);
  for (const auto& n : o.names) {
    if (std::none_of(entries.begin(), entries.end(), [&](const data::ManifestEntry& e) { return e.dataset == n; })) {
      std::vector<std::string> known;
      for (const auto& e : entries) {
        if (std::find(known.begin(), known.end(), e.dataset) == known.end()) known.push_back(e.dataset);
      }
      throw DataError(n, fmt::format("not in the manifest {}; it lists {}", manifest, fmt::join(known, ", ")));
    }
  }
  int ok = 0, bad = 0, missing = 0, unchecked = 0;
  std::cout << "# manifest: " << manifest << "\n";
  for (const auto& e : entries) {
    if (!o.names.empty() && std::find(o.names.begin(), o.names.end(), e.dataset) == o.names.end()) continue;
    const auto r = data::verify_manifest_entry(e, roots, o.dir);
    using S = data::VerifyResult::Status;
    (r.status == S::kOk ? ok : r.status == S::kMismatch ? bad : r.status == S::kMissing ? missing : unchecked)++;
    std::cout << fmt::format("{:<9}  {}/{}  {}", data::verify_status_name(r.status), e.dataset, e.file,
                             r.path.empty() ? "(searched " + std::to_string(r.searched.size()) + " places)" : r.path);
    if (r.status == S::kMismatch || r.status == S::kUnchecked) std::cout << "  " << r.detail;
    std::cout << "\n";
    if (r.status == S::kMissing) log().debug("{}: searched {}", e.file, fmt::join(r.searched, ", "));
  }
  std::cout << fmt::format("{} ok, {} mismatched, {} missing, {} without checksum\n", ok, bad, missing, unchecked);
  if (bad > 0) throw DataError(manifest, fmt::format("{} file(s) do not match their checksums (see above)", bad));
  if (o.strict && missing > 0) {
    throw DataError(manifest, fmt::format("{} file(s) missing (--strict); flowood data fetch NAME gets them", missing));
  }
}

// fetch ------------------------------------------------------------------------------------------

/// curl or wget from PATH, or empty.
std::string find_downloader() {
  const char* path = std::getenv("PATH");
  for (const auto& dir : data::split_search_path(path ? path : "/usr/bin:/bin")) {
    for (const char* tool : {"curl", "wget"}) {
      if (::access((fs::path(dir) / tool).c_str(), X_OK) == 0) return tool;
    }
  }
  return {};
}

/// Downloads `url` to `out` with curl or wget (no shell involved). True on success.
bool download(const std::string& tool, const std::string& url, const std::string& out) {
  std::vector<std::string> args =
      tool == "curl" ? std::vector<std::string>{"curl", "-fL", "--retry", "2", "--connect-timeout", "15", "-sS", "-o", out, url}
                     : std::vector<std::string>{"wget", "-q", "--tries=2", "--timeout=15", "-O", out, url};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, tool.c_str(), nullptr, nullptr, argv.data(), environ) != 0) return false;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct RemoteFile {
  std::string url;
  std::string target;  ///< where it goes
  std::string sha256;  ///< content checksum when known (manifest idx_sha256), else empty
  int64_t bytes = -1;
};

/// Files of datasets that are not in the manifest: official URLs, no published SHA-256, so they are
/// verified by reading them.
std::vector<RemoteFile> builtin_files(const std::string& name, const std::string& dest) {
  if (name == "cifar10") {
    return {{"https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", (fs::path(dest) / "cifar-10-binary.tar.gz").string(), "", -1}};
  }
  if (name == "svhn") {
    return {{"http://ufldl.stanford.edu/housenumbers/train_32x32.mat", (fs::path(dest) / "svhn" / "train_32x32.mat").string(), "", -1},
            {"http://ufldl.stanford.edu/housenumbers/test_32x32.mat", (fs::path(dest) / "svhn" / "test_32x32.mat").string(), "", -1}};
  }
  return {};
}

bool verified(const RemoteFile& f) {
  if (!fs::exists(f.target)) return false;
  if (f.sha256.empty()) return true;
  try {
    const auto [sha, bytes] = data::sha256_decompressed(f.target);
    return sha == f.sha256 && (f.bytes < 0 || bytes == f.bytes);
  } catch (const DataError&) {
    return false;
  }
}

void run_fetch(const DataOptions& o) {
  const std::string& name = o.name;
  const data::DatasetKind* kind = data::find_dataset_kind(name);
  std::vector<RemoteFile> files;
  std::string dest = o.dest;
  bool from_manifest = false;
  if (name == "cifar10" || name == "svhn") {
    if (dest.empty()) dest = "data";
    files = builtin_files(name, dest);
  } else {
    const std::string manifest = find_manifest(o.manifest);
    for (const auto& e : data::read_manifest(manifest)) {
      if (e.dataset != name) continue;
      if (dest.empty()) dest = (fs::path("data") / name).string();
      files.push_back({e.url, (fs::path(dest) / e.file).string(), e.idx_sha256, e.idx_bytes});
      from_manifest = true;
    }
  }
  if (files.empty()) {
    if (kind != nullptr && !kind->how_to_get.empty()) {
      throw DataError(name, "cannot be downloaded automatically. " + kind->how_to_get);
    }
    if (kind != nullptr) {
      throw DataError(name, kind->generated ? "is generated; nothing to fetch" : "reads a path you give; nothing to fetch");
    }
    throw DataError(name, fmt::format("unknown dataset; fetchable: fashion-mnist, mnist, cifar10, svhn"));
  }
  const std::string tool = find_downloader();
  std::vector<const RemoteFile*> failed;
  for (const auto& f : files) {
    if (verified(f)) {
      std::cout << "ok       " << f.target << " (already present" << (f.sha256.empty() ? ")" : ", verified)") << "\n";
      continue;
    }
    std::error_code ec;
    fs::create_directories(fs::path(f.target).parent_path(), ec);
    const std::string part = f.target + ".part";
    log().info("fetching {}", f.url);
    if (!tool.empty() && download(tool, f.url, part)) {
      fs::rename(part, f.target, ec);
      if (!ec && verified(f)) {
        std::cout << "fetched  " << f.target << (f.sha256.empty() ? "" : " (verified)") << "\n";
        continue;
      }
      log().error("{}: checksum mismatch or corrupt download", f.url);
      fs::remove(f.target, ec);
    }
    fs::remove(part, ec);
    failed.push_back(&f);
  }
  if (!failed.empty()) {
    std::cerr << fmt::format("Could not download {} file(s) of {} ({}). Place them by hand:\n", failed.size(), name,
                             tool.empty() ? "neither curl nor wget is installed" : "offline, or the URL moved");
    for (const auto* f : failed) std::cerr << "  " << f->url << "\n    -> " << f->target << "\n";
    if (name == "cifar10") std::cerr << "  then run this command again to unpack it into " << dest << "/cifar-10-batches-bin/\n";
    std::cerr << (from_manifest ? fmt::format("Any ROOT/{}/ works when ROOT is a data root", name)
                                : fmt::format("Any data root works in place of {}", dest))
              << " (data.roots in the experiment, or FLOWOOD_DATA=DIR1:DIR2); see docs/datasets.md.\n";
    throw DataError(name, fmt::format("{} file(s) not downloaded: {}", failed.size(), failed.front()->url));
  }
  if (name == "cifar10") {
    const std::string tarball = files.front().target;
    if (!fs::exists(fs::path(dest) / "cifar-10-batches-bin" / "test_batch.bin")) {
      const auto written = data::extract_tar(tarball, dest);
      std::cout << "unpacked " << written.size() << " files into " << dest << "/cifar-10-batches-bin/\n";
    }
  }
  if (!from_manifest) {
    // No published SHA-256: check the files by reading them.
    const data::DataRoots only{{dest}};
    for (const char* split : {"train", "test"}) {
      const auto ds = data::load_dataset(data::DatasetSpec{name, split, "", {}}, only);
      std::cout << fmt::format("verified {}:{} by reading it: {} images\n", name, split, ds.size());
    }
  }
  std::cout << name << ": all files present in " << dest << "\n";
}

}  // namespace

void register_data(CLI::App& app) {
  auto o = std::make_shared<DataOptions>();
  auto* cmd = app.add_subcommand("data", "Datasets: where they are (list), what they hold (info), checksums (verify), "
                                         "downloads (fetch)");
  cmd->require_subcommand(1);
  auto add_roots = [o](CLI::App* sub) {
    sub->add_option("--root", o->roots, "Extra data root, searched first (repeatable; like data.roots)")
        ->type_name("DIR")
        ->allow_extra_args(false);
    sub->add_option("--config,-c", o->config_path, "Also search the data.roots of this experiment")->type_name("FILE");
  };

  auto* list = cmd->add_subcommand("list", "Every known dataset and where it was found (or not)");
  add_roots(list);
  list->callback([o] { run_list(*o); });

  auto* info = cmd->add_subcommand("info", "Load a dataset and print its count, shape, value range and class counts");
  info->add_option("spec", o->spec, "Dataset spec, e.g. cifar10:test, folder:DIR?gray, npz:FILE#embeddings")->required();
  info->add_option("--limit", o->limit, "Load only the first N images/rows (0 = all)")->type_name("N");
  add_roots(info);
  info->callback([o] { run_info_data(*o); });

  auto* verify = cmd->add_subcommand("verify", "Check local dataset files against the manifest's SHA-256 checksums");
  verify->add_option("names", o->names, "Only these datasets (default: every dataset in the manifest)");
  verify->add_option("--manifest", o->manifest, "Manifest file (default: data/manifest.tsv)")->type_name("FILE");
  verify->add_option("--dir", o->dir, "Look for the files in DIR only, instead of under the data roots")->type_name("DIR");
  verify->add_flag("--strict", o->strict, "Fail (exit 1) when a file is missing, not only when one mismatches");
  add_roots(verify);
  verify->callback([o] { run_verify(*o); });

  auto* fetch = cmd->add_subcommand("fetch", "Download a dataset from its canonical URLs and verify it (needs internet)");
  fetch->add_option("name", o->name, "fashion-mnist, mnist (from the manifest), cifar10 or svhn")->required();
  fetch->add_option("--dest", o->dest, "Where to put the files (default: ./data/NAME; cifar10, svhn: ./data)")->type_name("DIR");
  fetch->add_option("--manifest", o->manifest, "Manifest file (default: data/manifest.tsv)")->type_name("FILE");
  fetch->callback([o] { run_fetch(*o); });
}

}  // namespace flowood::app
