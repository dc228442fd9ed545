// The building blocks: tar reading (gzip and plain, long names, truncation), image decoding
// (channels, threads), the decoded-data cache, the manifest reader and checker.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "data_fixtures.hpp"
#include "flowood/data/cache.hpp"
#include "flowood/data/image_decode.hpp"
#include "flowood/data/idx.hpp"
#include "flowood/data/manifest.hpp"
#include "flowood/data/archive.hpp"
#include "flowood/io/sha256.hpp"
#include "temp_dir.hpp"
#include "test_paths.hpp"
#include "data_writers.hpp"

namespace fs = std::filesystem;
using namespace flowood::data;
using flowood::testing::data_error_of;
using flowood::testing::random_images;
using flowood::testing::ScopedEnv;
using flowood::testing::TempDir;

namespace {
ArchiveMember member(const std::string& name, const std::string& text) {
  return {name, text.size(), std::vector<std::uint8_t>(text.begin(), text.end())};
}
std::string text_of(const ArchiveMember& m) { return std::string(m.bytes.begin(), m.bytes.end()); }
}  // namespace

TEST(Tar, RoundTripGzipAndPlainWithLongNames) {
  TempDir dir("tar");
  const std::string long_name = std::string(120, 'd') + "/" + std::string(90, 'f') + ".txt";
  const std::vector<ArchiveMember> members = {member("a.txt", "alpha"), member("dir/b.bin", std::string(1000, 'x')),
                                          member(long_name, "long"), member("empty", "")};
  for (const char* name : {"t.tar", "t.tar.gz"}) {
    write_tar(dir.file(name), members);
    const auto got = read_archive_members(dir.file(name), [](const std::string& n) { return n != "empty"; });
    ASSERT_EQ(got.size(), 3u) << name;
    EXPECT_EQ(got[0].name, "a.txt");
    EXPECT_EQ(text_of(got[0]), "alpha");
    EXPECT_EQ(got[1].bytes.size(), 1000u);
    EXPECT_EQ(got[2].name, long_name);
    EXPECT_EQ(text_of(got[2]), "long");
  }
  const auto written = extract_archive(dir.file("t.tar.gz"), dir.file("out"));
  EXPECT_EQ(written.size(), 4u);
  EXPECT_EQ(flowood::testing::read_text(dir.path() / "out" / "dir" / "b.bin"), std::string(1000, 'x'));
}

TEST(Tar, CorruptAndTruncatedArchivesNameTheFile) {
  TempDir dir("tar_bad");
  write_tar(dir.file("t.tar"), {member("a.txt", std::string(2000, 'a')), member("b.txt", "b")});
  flowood::testing::truncate_file(dir.path() / "t.tar", 1200);
  std::string what = data_error_of([&] { read_archive_members(dir.file("t.tar"), [](const std::string&) { return true; }); });
  EXPECT_NE(what.find(dir.file("t.tar")), std::string::npos) << what;
  EXPECT_NE(what.find("truncated tar archive: it ends inside a.txt"), std::string::npos) << what;

  flowood::testing::write_text(dir.path() / "x.tar", std::string(512, 'z'));
  what = data_error_of([&] { read_archive_members(dir.file("x.tar"), [](const std::string&) { return true; }); });
  EXPECT_NE(what.find("checksum"), std::string::npos) << what;

  write_tar(dir.file("t.tar.gz"), {member("a.txt", std::string(100000, 'a'))});
  const std::string gz = flowood::testing::read_text(dir.path() / "t.tar.gz");
  flowood::testing::write_text(dir.path() / "t.tar.gz", gz.substr(0, gz.size() / 2));
  what = data_error_of([&] { read_archive_members(dir.file("t.tar.gz"), [](const std::string&) { return true; }); });
  EXPECT_NE(what.find(dir.file("t.tar.gz")), std::string::npos) << what;

  what = data_error_of([&] { extract_archive(dir.file("evil.tar"), dir.file("out")); });  // missing file
  EXPECT_NE(what.find("evil.tar"), std::string::npos) << what;
  write_tar(dir.file("evil.tar"), {member("../escape.txt", "x")});
  what = data_error_of([&] { extract_archive(dir.file("evil.tar"), dir.file("out")); });
  EXPECT_NE(what.find("refusing"), std::string::npos) << what;
}

TEST(Tar, AHeaderClaimingHugeSizeIsATruncationNotAnAllocation) {
  // The size field says 8 GiB; the file holds 1,000 bytes. Memory follows the real bytes.
  TempDir dir("tar_huge");
  write_tar(dir.file("t.tar"), {member("big.bin", std::string(1000, 'b'))});
  std::string bytes = flowood::testing::read_text(dir.path() / "t.tar");
  std::snprintf(&bytes[124], 12, "%011lo", 077777777777ul);
  std::memset(&bytes[148], ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; ++i) sum += static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  std::snprintf(&bytes[148], 8, "%06o", sum);
  bytes[155] = ' ';
  flowood::testing::write_text(dir.path() / "t.tar", bytes);
  const std::string what =
      data_error_of([&] { read_archive_members(dir.file("t.tar"), [](const std::string&) { return true; }); });
  EXPECT_NE(what.find("truncated tar archive: it ends inside big.bin"), std::string::npos) << what;
}

TEST(ImageDecode, ThreadCountsGiveIdenticalResults) {
  TempDir dir("decode");
  const auto images = random_images(37, 3, 9, 7, 2);
  std::vector<EncodedImage> encoded;
  for (int64_t i = 0; i < 37; ++i) {
    const std::string path = dir.file(std::to_string(i) + ".png");
    write_image(path, images[i]);
    encoded.push_back({path, path, {}});
  }
  ImageTransform t;
  const auto one = decode_images(encoded, t, 1);
  const auto four = decode_images(encoded, t, 4);
  EXPECT_TRUE(torch::equal(one, images));
  EXPECT_TRUE(torch::equal(four, images));
  t.channels = 1;
  EXPECT_EQ(decode_images(encoded, t, 3).sizes(), (std::vector<int64_t>{37, 1, 9, 7}));
  // The error of the first bad image wins, whatever the thread count.
  flowood::testing::write_text(dir.path() / "5.png", "junk");
  flowood::testing::write_text(dir.path() / "30.png", "junk");
  for (int threads : {1, 4}) {
    const std::string what = data_error_of([&] { decode_images(encoded, ImageTransform{}, threads); });
    EXPECT_NE(what.find(dir.file("5.png")), std::string::npos) << what;
  }
}

TEST(ImageDecode, AHeaderClaimingHugeDimensionsIsRefusedBeforeDecoding) {
  // A valid 69-byte PNG whose IHDR claims 100000 × 100000 pixels (decoders allocate from the header).
  TempDir dir("decode_huge");
  const auto chunk = [](const std::string& type, const std::string& data) {
    std::string out;
    const auto be32 = [&](uint32_t v) {
      for (int s = 24; s >= 0; s -= 8) out += static_cast<char>((v >> s) & 0xFF);
    };
    be32(static_cast<uint32_t>(data.size()));
    out += type + data;
    be32(static_cast<uint32_t>(crc32(crc32(0, reinterpret_cast<const Bytef*>(type.data()), 4),
                                     reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size()))));
    return out;
  };
  std::string ihdr = std::string("\x00\x01\x86\xa0\x00\x01\x86\xa0", 8) + std::string("\x08\x00\x00\x00\x00", 5);
  std::string raw(100, '\0');
  std::vector<Bytef> packed(256);
  uLongf packed_size = packed.size();
  compress(packed.data(), &packed_size, reinterpret_cast<const Bytef*>(raw.data()), raw.size());
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) +
                          chunk("IDAT", std::string(reinterpret_cast<char*>(packed.data()), packed_size)) + chunk("IEND", "");
  const auto path = dir.file("huge.png");
  flowood::testing::write_text(path, png);
  const std::string what = data_error_of([&] { decode_images({{path, path, {}}}, ImageTransform{}, 1); });
  EXPECT_NE(what.find(path), std::string::npos) << what;
  EXPECT_NE(what.find("claims 100000×100000 pixels"), std::string::npos) << what;
}

TEST(DecodedCache, StoreReadLimitDamageAndDisable) {
  TempDir dir("cache");
  const std::string source = dir.file("src.bin");
  flowood::testing::write_text(source, "abc");
  ScopedEnv env(kCacheEnvVar, dir.file("c"));
  EXPECT_EQ(decoded_cache_dir(), dir.file("c"));
  ImageDataset ds;
  ds.images = random_images(6, 3, 4, 5);
  ds.labels = torch::arange(6);
  const std::string fp = source_fingerprint("test-v1", {source});
  EXPECT_NE(fp, source_fingerprint("test-v2", {source}));
  EXPECT_FALSE(read_decoded_cache("thing", fp).has_value());
  const std::string path = write_decoded_cache("thing", fp, ds);
  ASSERT_FALSE(path.empty());
  const auto back = read_decoded_cache("thing", fp);
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(torch::equal(back->images, ds.images));
  EXPECT_TRUE(torch::equal(back->labels, ds.labels));
  const auto four = read_decoded_cache("thing", fp, 4);
  EXPECT_EQ(four->images.size(0), 4);
  EXPECT_TRUE(torch::equal(four->labels, torch::arange(4)));

  flowood::testing::write_text(source, "abcd");  // another size: another fingerprint
  EXPECT_NE(source_fingerprint("test-v1", {source}), fp);

  flowood::testing::truncate_file(path, 100);
  EXPECT_FALSE(read_decoded_cache("thing", fp).has_value());
  EXPECT_FALSE(fs::exists(path)) << "damaged entry should be removed";

  ScopedEnv off(kCacheEnvVar, "off");
  EXPECT_EQ(decoded_cache_dir(), "");
  EXPECT_EQ(write_decoded_cache("thing", fp, ds), "");
}

TEST(Manifest, ReadAndVerify) {
  TempDir dir("manifest");
  fs::create_directories(dir.path() / "root" / "mnist");
  const auto images = torch::zeros({2, 1, 3, 3}, torch::kUInt8);
  const std::string gz = (dir.path() / "root" / "mnist" / "t10k-images-idx3-ubyte.gz").string();
  write_idx_images(gz, images);
  const auto [content_sha, bytes] = sha256_decompressed(gz);
  EXPECT_EQ(bytes, 16 + 18);
  const std::string file_sha = flowood::io::sha256_file(gz);
  const std::string manifest = dir.file("manifest.tsv");
  flowood::testing::write_text(
      manifest, "# comment\ndataset\tsplit\tfile\tidx_bytes\tidx_sha256\tgz_sha256\turl\n"
                "mnist\ttest\tt10k-images-idx3-ubyte.gz\t34\t" + content_sha + "\t-\thttps://x/a.gz\n"
                "mnist\ttest\tt10k-labels-idx1-ubyte.gz\t-\t-\t-\t-\n"
                "mnist\ttrain\ttrain-images-idx3-ubyte.gz\t-\t-\t" + file_sha + "\thttps://x/b.gz\n");
  const auto entries = read_manifest(manifest);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].idx_bytes, 34);
  EXPECT_EQ(entries[0].line, 3);
  EXPECT_EQ(entries[1].url, "");
  const DataRoots roots{{(dir.path() / "root").string()}};
  EXPECT_EQ(verify_manifest_entry(entries[0], roots).status, VerifyResult::Status::kOk);
  EXPECT_EQ(verify_manifest_entry(entries[1], roots).status, VerifyResult::Status::kMissing);
  // --dir: look only there; the train entry's file-level checksum matches the same file renamed.
  fs::copy_file(gz, dir.path() / "root" / "mnist" / "train-images-idx3-ubyte.gz");
  EXPECT_EQ(verify_manifest_entry(entries[2], roots, (dir.path() / "root" / "mnist").string()).status,
            VerifyResult::Status::kOk);

  write_idx_images(gz, torch::ones({2, 1, 3, 3}, torch::kUInt8));
  const auto bad = verify_manifest_entry(entries[0], roots);
  EXPECT_EQ(bad.status, VerifyResult::Status::kMismatch);
  EXPECT_NE(bad.detail.find(content_sha), std::string::npos) << bad.detail;

  flowood::testing::write_text(manifest, "dataset\tsplit\tfile\tidx_bytes\tidx_sha256\tgz_sha256\turl\nmnist\ttest\n");
  EXPECT_NE(data_error_of([&] { read_manifest(manifest); }).find("line 2: 2 tab-separated fields"), std::string::npos);
  flowood::testing::write_text(manifest,
                               "dataset\tsplit\tfile\tidx_bytes\tidx_sha256\tgz_sha256\turl\nm\tt\tf\t1\tXYZ\t-\t-\n");
  EXPECT_NE(data_error_of([&] { read_manifest(manifest); }).find("not a SHA-256"), std::string::npos);
}

TEST(Manifest, ProjectManifestParses) {
  const auto entries = read_manifest(std::string(FLOWOOD_SOURCE_DIR) + "/data/manifest.tsv");
  EXPECT_GE(entries.size(), 8u);
}
