#include "flowood/io/json.hpp"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include <gtest/gtest.h>

#include "flowood/core/error.hpp"

namespace {

using flowood::io::Json;

TEST(JsonTest, DumpsScalars) {
  EXPECT_EQ(Json().dump(), "null");
  EXPECT_EQ(Json(true).dump(), "true");
  EXPECT_EQ(Json(false).dump(), "false");
  EXPECT_EQ(Json(42).dump(), "42");
  EXPECT_EQ(Json(static_cast<std::int64_t>(-9007199254740993LL)).dump(), "-9007199254740993");
  EXPECT_EQ(Json(0.1).dump(), "0.1");
  EXPECT_EQ(Json(1.0).dump(), "1");
  EXPECT_EQ(Json(-2.5e-300).dump(), "-2.5e-300");
  EXPECT_EQ(Json("a").dump(), "\"a\"");
}

TEST(JsonTest, NumbersRoundTripAtFullPrecision) {
  for (const double v : {0.1 + 0.2, 1.0 / 3.0, -2301.123456789012, 6.02214076e23, 5e-324}) {
    const Json parsed = Json::parse(Json(v).dump());
    EXPECT_EQ(parsed.as_number(), v) << Json(v).dump();
  }
}

TEST(JsonTest, NonFiniteNumbersBecomeNull) {
  EXPECT_EQ(Json(std::numeric_limits<double>::quiet_NaN()).dump(), "null");
  EXPECT_EQ(Json(std::numeric_limits<double>::infinity()).dump(), "null");
  EXPECT_EQ(Json(-std::numeric_limits<double>::infinity()).dump(), "null");
  EXPECT_TRUE(std::isnan(Json::parse("null").as_number()));
}

TEST(JsonTest, EscapesStrings) {
  EXPECT_EQ(Json(std::string("q\"b\\s/\n\t\r\b\f\x01 é")).dump(), "\"q\\\"b\\\\s/\\n\\t\\r\\b\\f\\u0001 é\"");
}

TEST(JsonTest, DumpsNestedCompactAndIndented) {
  Json j = Json::object();
  j.set("name", "run").set("auroc", 0.75).set("ok", true);
  j["list"] = Json::array({1, 2.5, nullptr});
  j["empty"] = Json::object();
  j["none"] = Json::array();
  EXPECT_EQ(j.dump(), R"({"name":"run","auroc":0.75,"ok":true,"list":[1,2.5,null],"empty":{},"none":[]})");
  EXPECT_EQ(j.dump(2),
            "{\n"
            "  \"name\": \"run\",\n"
            "  \"auroc\": 0.75,\n"
            "  \"ok\": true,\n"
            "  \"list\": [\n"
            "    1,\n"
            "    2.5,\n"
            "    null\n"
            "  ],\n"
            "  \"empty\": {},\n"
            "  \"none\": []\n"
            "}");
}

TEST(JsonTest, SetReplacesInPlaceKeepingOrder) {
  Json j = Json::object();
  j.set("a", 1).set("b", 2).set("a", 3);
  EXPECT_EQ(j.dump(), R"({"a":3,"b":2})");
}

TEST(JsonTest, ParsesAndRoundTrips) {
  const std::string text =
      "\xEF\xBB\xBF { \"a\" : [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83d\\ude00\\/\"],\n"
      " \"b\": {\"c\": 12345678901234, \"d\": 1E-2} } ";
  const Json j = Json::parse(text);
  EXPECT_EQ(j.at("a").size(), 6u);
  EXPECT_EQ(j.at("a").at(0).type(), Json::Type::kInt);
  EXPECT_EQ(j.at("a").at(1).as_number(), -2500.0);
  EXPECT_TRUE(j.at("a").at(2).as_bool());
  EXPECT_TRUE(j.at("a").at(4).is_null());
  EXPECT_EQ(j.at("a").at(5).as_string(), "x\xC3\xA9\xF0\x9F\x98\x80/");
  EXPECT_EQ(j.at("b").at("c").as_int(), 12345678901234LL);
  EXPECT_DOUBLE_EQ(j.at("b").at("d").as_number(), 0.01);
  EXPECT_EQ(Json::parse(j.dump(2)), j);
  EXPECT_EQ(Json::parse(j.dump()), j);
}

TEST(JsonTest, SyntaxErrorNamesSourceLineAndColumn) {
  try {
    Json::parse("{\n  \"a\": 1,\n  \"b\": tru\n}", "metrics.json");
    FAIL() << "expected IoError";
  } catch (const flowood::IoError& e) {
    EXPECT_EQ(e.path(), "metrics.json");
    EXPECT_NE(std::string(e.what()).find("line 3, column 8"), std::string::npos) << e.what();
  }
  for (const char* bad : {"", "[1,]", "{\"a\" 1}", "01", "1.", "\"abc", "[1] x", "{'a': 1}", "nul", "\"\\ud800\""})
    EXPECT_THROW(Json::parse(bad), flowood::IoError) << bad;
}

TEST(JsonTest, AccessorErrorsNameTheProblem) {
  const Json j = Json::parse(R"({"auroc": 0.5, "name": "x"})");
  try {
    j.at("fpr95");
    FAIL();
  } catch (const flowood::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("fpr95"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("auroc, name"), std::string::npos) << e.what();
  }
  EXPECT_THROW(j.at("name").as_number(), flowood::DataError);
  EXPECT_THROW(j.at("auroc").as_int(), flowood::DataError);
  EXPECT_THROW(j.at("auroc").as_string(), flowood::DataError);
  EXPECT_THROW(j.at(0), flowood::DataError);
}

TEST(JsonTest, FileRoundTrip) {
  const auto path = (std::filesystem::temp_directory_path() / ("flowood_json_" + std::to_string(::getpid()) + ".json")).string();
  Json j = Json::object();
  j.set("x", 1.25).set("y", Json::array(std::vector<double>{1, 2, 3}));
  flowood::io::write_json_file(path, j);
  EXPECT_EQ(flowood::io::read_json_file(path), j);
  std::filesystem::remove(path);
  EXPECT_THROW(flowood::io::read_json_file(path), flowood::IoError);
}

}  // namespace
