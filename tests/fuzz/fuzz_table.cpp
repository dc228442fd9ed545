// The text table readers: CSV/TSV (data::read_csv_features, io::read_csv for score files) and
// Weka ARFF (data::read_arff_features), and data/manifest.tsv (data::read_manifest) — quoting,
// ragged rows, numbers, nominal attributes.
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/data/features.hpp"
#include "flowood/data/manifest.hpp"
#include "flowood/io/csv.hpp"
#include "fuzz_target.hpp"

std::vector<std::string> fuzz_seeds() {
  return {"# dataset=mnist:test\n# score=loglik\nindex,label,loglik\n0,7,-2301.5\n1,,-2250.25\n",
          "a,b,label\n1,2.5,cat\n-3,4e2,dog\n\"5\",6,cat\n",
          "# comment\n1;2;3\n4;5;6\n",
          "1 2 3\n4 5 6\n",
          "@relation toy\n@attribute x numeric\n@attribute colour {red,green}\n@attribute class {a,b}\n"
          "@data\n1.5,red,a\n-2,green,b\n% comment\n3,'red',a\n",
          "# datasets\ndataset\tsplit\tfile\tidx_bytes\tidx_sha256\tgz_sha256\turl\n"
          "mnist\ttest\tt10k-images-idx3-ubyte.gz\t7840016\t" + std::string(64, 'a') + "\t-\thttps://example.org/x.gz\n"};
}

namespace {
void check(const flowood::data::FeatureDataset& f) {
  FUZZ_ASSERT_TRUE(f.features.dim() == 2, "features are not [N, D]");
  FUZZ_ASSERT_TRUE(!f.has_labels() || f.labels.size(0) == f.features.size(0), "labels and features differ in length");
  FUZZ_ASSERT_TRUE(f.feature_names.empty() || static_cast<int64_t>(f.feature_names.size()) == f.features.size(1),
             "feature names differ from the columns");
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const FuzzFile file(data, size, "fuzz.table");
  bool accepted = false;
  try {
    flowood::data::CsvOptions options;
    options.label_column = "last";
    check(flowood::data::read_csv_features(file.path(), options));
    accepted = true;
  } catch (const flowood::Error&) {
  }
  try {
    check(flowood::data::read_arff_features(file.path()));
    accepted = true;
  } catch (const flowood::Error&) {
  }
  try {
    const auto table = flowood::io::read_csv(file.path());
    FUZZ_ASSERT_TRUE(table.data.size() == table.columns.size(), "columns without data");
    for (const auto& column : table.data) FUZZ_ASSERT_TRUE(column.size() == table.num_rows(), "a ragged table was accepted");
    accepted = true;
  } catch (const flowood::Error&) {
  }
  try {
    for (const auto& e : flowood::data::read_manifest(file.path()))
      FUZZ_ASSERT_TRUE(e.idx_sha256.empty() || e.idx_sha256.size() == 64, "a checksum that is not 64 hex digits");
    accepted = true;
  } catch (const flowood::Error&) {
  }
  if (accepted) ++fuzz_accepted();
  return 0;
}
