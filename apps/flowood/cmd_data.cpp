// flowood data: what datasets exist here and where (list), what one holds (info), whether files
// match the manifest's checksums (verify), and getting them (fetch).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "config_yaml.hpp"
#include "flowood/data/inventory.hpp"

namespace flowood::app {
namespace {

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

/// --root directories, then the data.roots of --config, then $FLOWOOD_DATA and the defaults.
data::DataRoots roots_of(const DataOptions& o) {
  std::vector<std::string> configured = o.roots;
  if (!o.config_path.empty()) {
    const auto loaded = load_config(o.config_path, {});
    configured.insert(configured.end(), loaded.config.data.roots.begin(), loaded.config.data.roots.end());
  }
  return data::DataRoots::from(configured);
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
  list->callback([o] { data::list_datasets(roots_of(*o), std::cout); });

  auto* info = cmd->add_subcommand("info", "Load a dataset and print its count, shape, value range and class counts");
  info->add_option("spec", o->spec, "Dataset spec, e.g. cifar10:test, folder:DIR?gray, npz:FILE#embeddings")->required();
  info->add_option("--limit", o->limit, "Load only the first N images/rows (0 = all)")->type_name("N");
  add_roots(info);
  info->callback([o] { data::describe_dataset(o->spec, roots_of(*o), o->limit, std::cout); });

  auto* verify = cmd->add_subcommand("verify", "Check local dataset files against the manifest's SHA-256 checksums");
  verify->add_option("names", o->names, "Only these datasets (default: every dataset in the manifest)");
  verify->add_option("--manifest", o->manifest, "Manifest file (default: data/manifest.tsv)")->type_name("FILE");
  verify->add_option("--dir", o->dir, "Look for the files in DIR only, instead of under the data roots")->type_name("DIR");
  verify->add_flag("--strict", o->strict, "Fail (exit 1) when a file is missing, not only when one mismatches");
  add_roots(verify);
  verify->callback([o] { data::verify_datasets(o->manifest, o->names, roots_of(*o), o->dir, o->strict, std::cout); });

  auto* fetch = cmd->add_subcommand("fetch", "Download a dataset from its canonical URLs and verify it (needs internet)");
  fetch->add_option("name", o->name, "fashion-mnist, mnist (from the manifest), cifar10 or svhn")->required();
  fetch->add_option("--dest", o->dest, "Where to put the files (default: ./data/NAME; cifar10, svhn: ./data)")->type_name("DIR");
  fetch->add_option("--manifest", o->manifest, "Manifest file (default: data/manifest.tsv)")->type_name("FILE");
  fetch->callback([o] { data::fetch_dataset(o->name, o->dest, o->manifest, std::cout, std::cerr); });
}

}  // namespace flowood::app
