// The report document: Markdown and self-contained HTML from the same blocks; base64.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "flowood/core/error.hpp"
#include "flowood/viz/document.hpp"
#include "temp_dir.hpp"

using flowood::testing::TempDir;
using flowood::viz::base64;
using flowood::viz::Document;

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64(std::string("\xff\x00\x80", 3)), "/wCA");
}

TEST(Document, RendersEveryBlockInBothFormats) {
  TempDir dir("document");
  const auto png = dir.file("figs/a.png");
  std::filesystem::create_directories(dir.path() / "figs");
  std::ofstream(png, std::ios::binary) << "\x89PNG fake";
  Document doc("Run <1>");
  doc.heading("Metrics");
  doc.paragraph("AUROC of `loglik` & more");
  doc.table({"ood", "AUROC"}, {{"mnist|test", "0.0518"}});
  doc.figure(png, "histogram");
  doc.preformatted("a < b\n");
  const auto md = doc.markdown(dir.path().string());
  EXPECT_NE(md.find("# Run <1>\n"), std::string::npos) << md;
  EXPECT_NE(md.find("## Metrics"), std::string::npos);
  EXPECT_NE(md.find("| ood | AUROC |\n|---|---:|\n| mnist\\|test | 0.0518 |"), std::string::npos) << md;
  EXPECT_NE(md.find("![histogram](figs/a.png)"), std::string::npos) << md;
  EXPECT_NE(md.find("```\na < b\n```"), std::string::npos) << md;
  const auto html = doc.html();
  EXPECT_NE(html.find("<title>Run &lt;1&gt;</title>"), std::string::npos);
  EXPECT_NE(html.find("<p>AUROC of <code>loglik</code> &amp; more</p>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td>mnist|test</td>"), std::string::npos);
  EXPECT_NE(html.find("src=\"data:image/png;base64," + base64("\x89PNG fake") + "\""), std::string::npos);
  EXPECT_NE(html.find("<pre>a &lt; b\n</pre>"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos) << "self-contained: no external resources";
}

TEST(Document, ErrorsNameTheProblem) {
  Document doc("x");
  EXPECT_THROW(doc.table({"a", "b"}, {{"1"}}), flowood::Error);
  doc.figure("/nonexistent/fig.png", "missing");
  try {
    doc.html();
    FAIL() << "a missing figure must throw";
  } catch (const flowood::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/fig.png"), std::string::npos);
  }
}
