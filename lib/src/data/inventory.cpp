#include "flowood/data/inventory.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/core/log.hpp"
#include "flowood/data/cifar10.hpp"
#include "flowood/data/manifest.hpp"
#include "flowood/data/registry.hpp"
#include "flowood/data/svhn.hpp"
#include "flowood/data/archive.hpp"

extern char** environ;

namespace flowood::data {

namespace fs = std::filesystem;

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

namespace {

std::string pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

}  // namespace

void list_datasets(const DataRoots& roots, std::ostream& out) {
  out << "# roots, in search order: " << fmt::format("{}", fmt::join(roots.dirs, ", ")) << "\n";
  std::vector<std::array<std::string, 3>> rows;
  for (const auto& kind : dataset_kinds()) {
    if (kind.takes_path) {
      rows.push_back({kind.name + ":PATH", "path", kind.summary});
    } else if (kind.generated) {
      std::string status = "generated", where = kind.summary;
      if (kind.locate) {  // generated from another dataset (coloured digits from MNIST)
        const auto loc = kind.locate(DatasetSpec{kind.name, "", "", {}}, roots);
        status = loc.found ? "generated" : "missing";
        where = loc.found ? "from " + loc.where : "needs mnist:test (not found)";
      }
      rows.push_back({kind.splits.empty() ? kind.name : fmt::format("{}:{}", kind.name, fmt::join(kind.splits, "|")),
                      status, where});
    } else if (kind.locate) {
      for (const auto& split : kind.splits) {
        const auto loc = kind.locate(DatasetSpec{kind.name, split, "", {}}, roots);
        rows.push_back({kind.name + ":" + split, loc.found ? "found" : "missing",
                        loc.found ? fmt::format("{} ({})", loc.where, loc.layout)
                                  : fmt::format("searched {} places; flowood data fetch {}", loc.searched.size(),
                                                kind.name)});
      }
    }
  }
  std::size_t w0 = 7, w1 = 6;
  for (const auto& r : rows) w0 = std::max(w0, r[0].size()), w1 = std::max(w1, r[1].size());
  out << pad("dataset", w0) << "  " << pad("status", w1) << "  where\n";
  for (const auto& r : rows) out << pad(r[0], w0) << "  " << pad(r[1], w1) << "  " << r[2] << "\n";
}

namespace {

std::vector<std::string> class_names_of(const std::string& name) {
  if (name == "cifar10") return {kCifar10Classes.begin(), kCifar10Classes.end()};
  if (name == "fashion-mnist") {
    return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
  }
  if (name == "mnist" || name == "svhn" || name == "coloured-digits") {
    return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  }
  return {};
}

void print_class_counts(const torch::Tensor& labels, const std::vector<std::string>& names, std::ostream& out) {
  if (!labels.defined() || labels.numel() == 0) {
    out << "labels: none\n";
    return;
  }
  const int64_t lo = labels.min().item<int64_t>(), hi = labels.max().item<int64_t>();
  if (lo < 0) {
    out << fmt::format("labels: {} .. {}\n", lo, hi);
    return;
  }
  const auto counts = torch::bincount(labels, {}, hi + 1);
  int64_t classes = 0;
  for (int64_t k = 0; k <= hi; ++k) classes += counts[k].item<int64_t>() > 0 ? 1 : 0;
  out << fmt::format("labels: {} classes\n", classes);
  out << "class  count  name\n";
  for (int64_t k = 0; k <= hi; ++k) {
    const int64_t c = counts[k].item<int64_t>();
    if (c == 0) continue;
    out << fmt::format("{:>5}  {:>5}  {}\n", k, c,
                             k < static_cast<int64_t>(names.size()) ? names[static_cast<std::size_t>(k)] : "");
  }
}

std::string files_summary(const std::vector<std::string>& files) {
  if (files.empty()) return "none (generated)";
  if (files.size() <= 3) return fmt::format("{}", fmt::join(files, ", "));
  return fmt::format("{} files ({} … {})", files.size(), files.front(), files.back());
}

}  // namespace

void describe_dataset(const std::string& text, const DataRoots& roots, int64_t limit, std::ostream& out) {
  if (limit < 0) throw ConfigError("--limit", fmt::format("must be >= 0 (got {})", limit));
  const auto spec = parse_dataset_spec(text);
  const DatasetKind* kind = find_dataset_kind(spec.name);
  const auto start = std::chrono::steady_clock::now();
  if (kind->is_features()) {
    const auto ds = load_features(spec, roots, limit);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log().info("loaded in {:.2f} s", seconds);
    out << "spec: " << ds.spec << "\n"
              << "kind: features\n"
              << "files: " << files_summary(ds.files) << "\n"
              << "count: " << ds.size() << "\n"
              << "shape: " << ds.dim() << " features\n"
              << "dtype: float32\n";
    if (ds.size() > 0) {
      out << fmt::format("range: {:.6g} .. {:.6g}\n", ds.features.min().item<float>(),
                               ds.features.max().item<float>())
                << fmt::format("mean: {:.6g}\n", ds.features.mean().item<float>());
    }
    if (!ds.feature_names.empty()) {
      out << "columns: " << fmt::format("{}", fmt::join(ds.feature_names, ", ")) << "\n";
    }
    print_class_counts(ds.labels, ds.class_names, out);
    return;
  }
  const auto ds = load_dataset(spec, roots, limit);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log().info("loaded in {:.2f} s", seconds);
  out << "spec: " << ds.spec << "\n"
            << "kind: images\n"
            << "files: " << files_summary(ds.files) << "\n"
            << "count: " << ds.size() << "\n"
            << fmt::format("shape: {}x{}x{} (CxHxW)\n", ds.images.size(1), ds.images.size(2), ds.images.size(3))
            << "dtype: uint8\n";
  if (ds.size() > 0) {
    const auto per_channel = ds.images.to(torch::kFloat64).mean({0, 2, 3});
    std::vector<std::string> means;
    for (int64_t c = 0; c < per_channel.size(0); ++c) means.push_back(fmt::format("{:.2f}", per_channel[c].item<double>()));
    out << fmt::format("range: {} .. {}\n", ds.images.min().item<int>(), ds.images.max().item<int>())
              << fmt::format("mean per channel: {}\n", fmt::join(means, ", "));
  }
  print_class_counts(ds.labels, class_names_of(spec.name), out);
}

void verify_datasets(const std::string& manifest_flag, const std::vector<std::string>& names, const DataRoots& roots,
                     const std::string& dir, bool strict, std::ostream& out) {
  const std::string manifest = find_manifest(manifest_flag);
  const auto entries = read_manifest(manifest);
  for (const auto& n : names) {
    if (std::none_of(entries.begin(), entries.end(), [&](const ManifestEntry& e) { return e.dataset == n; })) {
      std::vector<std::string> known;
      for (const auto& e : entries) {
        if (std::find(known.begin(), known.end(), e.dataset) == known.end()) known.push_back(e.dataset);
      }
      throw DataError(n, fmt::format("not in the manifest {}; it lists {}", manifest, fmt::join(known, ", ")));
    }
  }
  int ok = 0, bad = 0, missing = 0, unchecked = 0;
  out << "# manifest: " << manifest << "\n";
  for (const auto& e : entries) {
    if (!names.empty() && std::find(names.begin(), names.end(), e.dataset) == names.end()) continue;
    const auto r = verify_manifest_entry(e, roots, dir);
    using S = VerifyResult::Status;
    (r.status == S::kOk ? ok : r.status == S::kMismatch ? bad : r.status == S::kMissing ? missing : unchecked)++;
    out << fmt::format("{:<9}  {}/{}  {}", verify_status_name(r.status), e.dataset, e.file,
                             r.path.empty() ? "(searched " + std::to_string(r.searched.size()) + " places)" : r.path);
    if (r.status == S::kMismatch || r.status == S::kUnchecked) out << "  " << r.detail;
    out << "\n";
    if (r.status == S::kMissing) log().debug("{}: searched {}", e.file, fmt::join(r.searched, ", "));
  }
  out << fmt::format("{} ok, {} mismatched, {} missing, {} without checksum\n", ok, bad, missing, unchecked);
  if (bad > 0) throw DataError(manifest, fmt::format("{} file(s) do not match their checksums (see above)", bad));
  if (strict && missing > 0) {
    throw DataError(manifest, fmt::format("{} file(s) missing (--strict); flowood data fetch NAME gets them", missing));
  }
}

namespace {
/// curl or wget from PATH, or empty.
std::string find_downloader() {
  const char* path = std::getenv("PATH");
  for (const auto& dir : split_search_path(path ? path : "/usr/bin:/bin")) {
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
    const auto [sha, bytes] = sha256_decompressed(f.target);
    return sha == f.sha256 && (f.bytes < 0 || bytes == f.bytes);
  } catch (const DataError&) {
    return false;
  }
}

}  // namespace

void fetch_dataset(const std::string& name, const std::string& dest_flag, const std::string& manifest_flag,
                   std::ostream& out, std::ostream& err) {
  const DatasetKind* kind = find_dataset_kind(name);
  std::vector<RemoteFile> files;
  std::string dest = dest_flag;
  bool from_manifest = false;
  if (name == "cifar10" || name == "svhn") {
    if (dest.empty()) dest = "data";
    files = builtin_files(name, dest);
  } else {
    const std::string manifest = find_manifest(manifest_flag);
    for (const auto& e : read_manifest(manifest)) {
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
      out << "ok       " << f.target << " (already present" << (f.sha256.empty() ? ")" : ", verified)") << "\n";
      continue;
    }
    std::error_code ec;
    fs::create_directories(fs::path(f.target).parent_path(), ec);
    const std::string part = f.target + ".part";
    log().info("fetching {}", f.url);
    if (!tool.empty() && download(tool, f.url, part)) {
      fs::rename(part, f.target, ec);
      if (!ec && verified(f)) {
        out << "fetched  " << f.target << (f.sha256.empty() ? "" : " (verified)") << "\n";
        continue;
      }
      log().error("{}: checksum mismatch or corrupt download", f.url);
      fs::remove(f.target, ec);
    }
    fs::remove(part, ec);
    failed.push_back(&f);
  }
  if (!failed.empty()) {
    err << fmt::format("Could not download {} file(s) of {} ({}). Place them by hand:\n", failed.size(), name,
                             tool.empty() ? "neither curl nor wget is installed" : "offline, or the URL moved");
    for (const auto* f : failed) err << "  " << f->url << "\n    -> " << f->target << "\n";
    if (name == "cifar10") err << "  then run this command again to unpack it into " << dest << "/cifar-10-batches-bin/\n";
    err << (from_manifest ? fmt::format("Any ROOT/{}/ works when ROOT is a data root", name)
                                : fmt::format("Any data root works in place of {}", dest))
              << " (data.roots in the experiment, or FLOWOOD_DATA=DIR1:DIR2); see docs/datasets.md.\n";
    throw DataError(name, fmt::format("{} file(s) not downloaded: {}", failed.size(), failed.front()->url));
  }
  if (name == "cifar10") {
    const std::string tarball = files.front().target;
    if (!fs::exists(fs::path(dest) / "cifar-10-batches-bin" / "test_batch.bin")) {
      const auto written = extract_archive(tarball, dest);
      out << "unpacked " << written.size() << " files into " << dest << "/cifar-10-batches-bin/\n";
    }
  }
  if (!from_manifest) {
    // No published SHA-256: check the files by reading them.
    const DataRoots only{{dest}};
    for (const char* split : {"train", "test"}) {
      const auto ds = load_dataset(DatasetSpec{name, split, "", {}}, only);
      out << fmt::format("verified {}:{} by reading it: {} images\n", name, split, ds.size());
    }
  }
  out << name << ": all files present in " << dest << "\n";
}

}  // namespace flowood::data
