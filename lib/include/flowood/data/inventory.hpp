#pragma once
/// What datasets exist here and where (list), what one holds (describe), whether files match the
/// manifest's checksums (verify), and getting them (fetch): the work of `flowood data`. Reports
/// go to the streams given (the binary passes stdout and stderr).
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "flowood/data/roots.hpp"

namespace flowood::data {

/// data/manifest.tsv: `given` when set, else ./data/manifest.tsv, else the checkout's data/ above
/// the running binary (build/…/bin/flowood). DataError when none is found.
std::string find_manifest(const std::string& given);

/// Every known dataset kind and split, and where it was found under `roots` (or not), as a table.
void list_datasets(const DataRoots& roots, std::ostream& out);

/// Loads `spec` (at most `limit` examples, 0 = all) and writes its files, count, shape, value
/// range and per-class counts.
void describe_dataset(const std::string& spec, const DataRoots& roots, int64_t limit, std::ostream& out);

/// Checks local files against the manifest (`manifest` empty: find_manifest) for the datasets
/// `names` (empty: all), under `roots` or only in `dir` when set. DataError when a file mismatches,
/// or (with `strict`) when one is missing.
void verify_datasets(const std::string& manifest, const std::vector<std::string>& names, const DataRoots& roots,
                     const std::string& dir, bool strict, std::ostream& out);

/// Downloads dataset `name` (manifest datasets, cifar10, svhn) with curl or wget into `dest`
/// (default ./data/NAME; cifar10, svhn: ./data) and verifies it. Files already present and
/// verified are kept. DataError naming what could not be had, after telling `err` where to put it.
void fetch_dataset(const std::string& name, const std::string& dest, const std::string& manifest, std::ostream& out,
                   std::ostream& err);

}  // namespace flowood::data
