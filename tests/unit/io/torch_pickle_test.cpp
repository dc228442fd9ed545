// torch.save files read without Python (io/torch_pickle.hpp): both formats, the values a
// checkpoint holds, and clear errors — never a crash or an allocation beyond the file — for
// damaged ones. The files PyTorch itself wrote are the golden-test fixture (tests/data/flows_ood).
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "flowood/core/error.hpp"
#include "flowood/io/atomic_file.hpp"
#include "flowood/io/torch_pickle.hpp"
#include "test_paths.hpp"
#include "torch_file_writer.hpp"

namespace flowood::io {
namespace {

using testing::torch_file_bytes;
using testing::TorchFileOptions;
using Kind = PyValue::Kind;

std::vector<std::pair<std::string, torch::Tensor>> sample_state() {
  return {{"module.a.weight", torch::arange(6, torch::kFloat32).view({2, 3})},
          {"module.a.running_var", torch::tensor({1.5, -2.25}, torch::kFloat64)},
          {"module.a.num_batches_tracked", torch::tensor(123, torch::kInt64)}};
}

void expect_sample(const PyRef& root) {
  ASSERT_EQ(root->kind, Kind::kDict);
  ASSERT_TRUE(root->find("epoch"));
  EXPECT_EQ(root->find("epoch")->integer, 7);
  const auto net = root->find("net");
  ASSERT_TRUE(net && net->kind == Kind::kDict);
  const auto expected = sample_state();
  ASSERT_EQ(net->entries.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(net->entries[i].first->text, expected[i].first);
    const auto& t = net->entries[i].second->tensor;
    EXPECT_EQ(t.scalar_type(), expected[i].second.scalar_type());
    EXPECT_EQ(t.sizes(), expected[i].second.sizes());
    EXPECT_TRUE(torch::equal(t, expected[i].second)) << expected[i].first;
  }
}

TEST(TorchPickle, ReadsTheZipFormat) { expect_sample(parse_torch_file(torch_file_bytes(sample_state()), "a.pt")); }

TEST(TorchPickle, ReadsTheLegacyFormat) {
  TorchFileOptions o;
  o.zip = false;
  expect_sample(parse_torch_file(torch_file_bytes(sample_state(), o), "a.pt"));
}

TEST(TorchPickle, HandWrittenValues) {
  // {'a': -2 (LONG1), 'b': [1.5, True, None], 'c': (), 'd': 300 (BININT2)} with memo get/put.
  using namespace std::string_literals;
  const std::string p = "\x80\x02}q\x00(X\x01\x00\x00\x00" "a\x8a\x01\xfe"s +
                        "X\x01\x00\x00\x00" "b]q\x01(G\x3f\xf8\x00\x00\x00\x00\x00\x00\x88Ne"s +
                        "X\x01\x00\x00\x00" "c)X\x01\x00\x00\x00" "dM\x2c\x01u."s;
  const auto root = parse_torch_file("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19."s +
                                         "\x80\x02M\xe9\x03."s + "\x80\x02}."s + p + "\x80\x02]q\x00."s,
                                     "hand.pt");
  EXPECT_EQ(root->find("a")->integer, -2);
  const auto b = root->find("b");
  ASSERT_EQ(b->items.size(), 3u);
  EXPECT_DOUBLE_EQ(b->items[0]->number, 1.5);
  EXPECT_TRUE(b->items[1]->boolean);
  EXPECT_EQ(b->items[2]->kind, Kind::kNone);
  EXPECT_EQ(root->find("c")->kind, Kind::kTuple);
  EXPECT_EQ(root->find("d")->integer, 300);
}

TEST(TorchPickle, FilesPyTorchWroteInBothFormats) {
  const std::string dir = std::string(FLOWOOD_SOURCE_DIR) + "/tests/data/flows_ood/";
  const auto zip = load_torch_file(dir + "realnvp.pt");
  const auto legacy = load_torch_file(dir + "legacy.pt");
  EXPECT_EQ(zip->find("epoch")->integer, 7);
  const auto a = zip->find("net"), b = legacy->find("net");
  ASSERT_TRUE(a && b);
  ASSERT_EQ(a->entries.size(), b->entries.size());
  ASSERT_GT(a->entries.size(), 100u);
  for (size_t i = 0; i < a->entries.size(); ++i) {
    EXPECT_EQ(a->entries[i].first->text, b->entries[i].first->text);
    EXPECT_TRUE(torch::equal(a->entries[i].second->tensor, b->entries[i].second->tensor)) << a->entries[i].first->text;
  }
  EXPECT_EQ(a->entries[0].first->text.rfind("module.body.2.0.module1.st_net.", 0), 0u) << a->entries[0].first->text;
}

TEST(TorchPickle, StorageLargerThanTheFileIsAnErrorNotAnAllocation) {
  for (const bool zip : {true, false}) {
    TorchFileOptions o;
    o.zip = zip;
    o.claimed_numel = 2000000000;
    try {
      parse_torch_file(torch_file_bytes(sample_state(), o), "big.pt");
      FAIL() << "accepted a storage larger than the file";
    } catch (const IoError& e) {
      EXPECT_NE(std::string(e.what()).find("big.pt"), std::string::npos) << e.what();
    }
  }
}

TEST(TorchPickle, TensorReachingPastItsStorageIsAnError) {
  TorchFileOptions o;
  o.claimed_numel = 2;  // the [2, 3] tensor needs 6 elements
  for (const bool zip : {true, false}) {
    o.zip = zip;
    EXPECT_THROW(parse_torch_file(torch_file_bytes(sample_state(), o), "short.pt"), IoError);
  }
}

TEST(TorchPickle, EveryTruncationAndByteFlipIsAClearError) {
  for (const bool zip : {true, false}) {
    TorchFileOptions o;
    o.zip = zip;
    const auto bytes = torch_file_bytes(sample_state(), o);
    for (size_t n = 0; n < bytes.size(); ++n) {
      try {
        parse_torch_file(bytes.substr(0, n), "cut.pt");
        ADD_FAILURE() << "a file cut to " << n << " of " << bytes.size() << " bytes was accepted";
      } catch (const IoError&) {
      }
    }
    for (size_t i = 0; i < bytes.size(); ++i) {  // flipped bytes: accepted or IoError, nothing else
      auto damaged = bytes;
      damaged[i] = static_cast<char>(damaged[i] ^ 0x5A);
      try {
        parse_torch_file(damaged, "flip.pt");
      } catch (const IoError&) {
      }
    }
  }
}

TEST(TorchPickle, ACyclicPickleNeitherHangsNorLeaks) {
  using namespace std::string_literals;
  // [L] where L is appended to itself: EMPTY_LIST, BINPUT 0, BINGET 0, APPEND, STOP.
  const auto root = parse_torch_file(testing::torch_zip_bytes("\x80\x02]q\x00h\x00" "a."s, {}), "cycle.pt");
  ASSERT_EQ(root->kind, Kind::kList);
  ASSERT_EQ(root->items.size(), 1u);
  EXPECT_EQ(root->items[0], root.get());
}

TEST(TorchPickle, OneStorageViewedOverAndOverIsRefused) {
  using testing::pk_global;
  using testing::pk_int;
  using testing::pk_str;
  // A list of 1,000 tensors rebuilt from one 100,000-element storage (callable and arguments
  // memoised): 400 MB of tensors from a file of 400 kB.
  std::string p = "\x80\x02]" + pk_global("torch._utils", "_rebuild_tensor_v2") + "q\x01(" +
                  std::string("(") + pk_str("storage") + pk_global("torch", "FloatStorage") + pk_str("0") +
                  pk_str("cpu") + pk_int(100000) + "tQ" + pk_int(0) + "(" + pk_int(100000) + "t(" + pk_int(1) + "t\x89" +
                  testing::pk_ordered_dict() + "tq\x02" "00(";  // memoise the arguments; pop both
  for (int i = 0; i < 1000; ++i) p += "h\x01h\x02R";
  p += "e.";
  const std::string storage(400000, '\0');
  const auto bytes = testing::torch_zip_bytes(p, {storage});
  try {
    parse_torch_file(bytes, "views.pt");
    FAIL() << "accepted 400 MB of tensors from a " << bytes.size() << "-byte file";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("more data than the file"), std::string::npos) << e.what();
  }
  // Three views are fine (an allowance of twice the file plus 1 MiB).
  std::string three = p.substr(0, p.find("h\x01h\x02R"));
  for (int i = 0; i < 3; ++i) three += "h\x01h\x02R";
  three += "e.";
  EXPECT_EQ(parse_torch_file(testing::torch_zip_bytes(three, {storage}), "three.pt")->items.size(), 3u);
}

TEST(TorchPickle, NotATorchFile) {
  EXPECT_THROW(parse_torch_file("hello", "x.pt"), IoError);
  EXPECT_THROW(parse_torch_file("", "x.pt"), IoError);
  EXPECT_THROW(load_torch_file("/nonexistent/x.pt"), IoError);
}

}  // namespace
}  // namespace flowood::io
