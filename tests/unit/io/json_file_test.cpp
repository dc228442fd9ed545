#include "flowood/io/json_file.hpp"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include <gtest/gtest.h>

#include "flowood/core/error.hpp"

namespace {

using flowood::io::Json;
using flowood::io::json_at;
using flowood::io::json_bool;
using flowood::io::json_int;
using flowood::io::json_number;
using flowood::io::json_string;
using flowood::io::parse_json;

TEST(JsonTest, DumpsScalars) {
  EXPECT_EQ(Json().dump(), "null");
  EXPECT_EQ(Json(true).dump(), "true");
  EXPECT_EQ(Json(false).dump(), "false");
  EXPECT_EQ(Json(42).dump(), "42");
  EXPECT_EQ(Json(static_cast<std::int64_t>(-9007199254740993LL)).dump(), "-9007199254740993");
  EXPECT_EQ(Json(0.1).dump(), "0.1");
  EXPECT_EQ(Json(1.0).dump(), "1.0");  // a double stays a double
  EXPECT_EQ(Json(-2.5e-300).dump(), "-2.5e-300");
  EXPECT_EQ(Json("a").dump(), "\"a\"");
}

TEST(JsonTest, NumbersRoundTripAtFullPrecision) {
  for (const double v : {0.1 + 0.2, 1.0 / 3.0, -2301.123456789012, 6.02214076e23, 5e-324}) {
    const Json parsed = parse_json(Json(v).dump());
    EXPECT_EQ(json_number(parsed), v) << Json(v).dump();
  }
}

TEST(JsonTest, NonFiniteNumbersBecomeNull) {
  EXPECT_EQ(Json(std::numeric_limits<double>::quiet_NaN()).dump(), "null");
  EXPECT_EQ(Json(std::numeric_limits<double>::infinity()).dump(), "null");
  EXPECT_EQ(Json(-std::numeric_limits<double>::infinity()).dump(), "null");
  EXPECT_TRUE(std::isnan(json_number(parse_json("null"))));
}

TEST(JsonTest, EscapesStrings) {
  EXPECT_EQ(Json(std::string("q\"b\\s/\n\t\r\b\f\x01 é")).dump(), "\"q\\\"b\\\\s/\\n\\t\\r\\b\\f\\u0001 é\"");
}

TEST(JsonTest, ObjectsKeepInsertionOrderCompactAndIndented) {
  Json j = Json{{"name", "run"}, {"auroc", 0.75}, {"ok", true}};
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
  EXPECT_EQ(flowood::io::json_keys(j), (std::vector<std::string>{"name", "auroc", "ok", "list", "empty", "none"}));
}

TEST(JsonTest, AssigningAKeyAgainReplacesItInPlace) {
  Json j = Json::object();
  j["a"] = 1;
  j["b"] = 2;
  j["a"] = 3;
  EXPECT_EQ(j.dump(), R"({"a":3,"b":2})");
}

TEST(JsonTest, ParsesAndRoundTrips) {
  const std::string text =
      "\xEF\xBB\xBF { \"a\" : [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83d\\ude00\\/\"],\n"
      " \"b\": {\"c\": 12345678901234, \"d\": 1E-2} } ";
  const Json j = parse_json(text);
  EXPECT_EQ(json_at(j, "a").size(), 6u);
  EXPECT_TRUE(json_at(json_at(j, "a"), 0).is_number_integer());
  EXPECT_EQ(json_number(json_at(json_at(j, "a"), 1)), -2500.0);
  EXPECT_TRUE(json_bool(json_at(json_at(j, "a"), 2)));
  EXPECT_TRUE(json_at(json_at(j, "a"), 4).is_null());
  EXPECT_EQ(json_string(json_at(json_at(j, "a"), 5)), "x\xC3\xA9\xF0\x9F\x98\x80/");
  EXPECT_EQ(json_int(json_at(json_at(j, "b"), "c")), 12345678901234LL);
  EXPECT_DOUBLE_EQ(json_number(json_at(json_at(j, "b"), "d")), 0.01);
  EXPECT_EQ(parse_json(j.dump(2)), j);
  EXPECT_EQ(parse_json(j.dump()), j);
}

TEST(JsonTest, SyntaxErrorNamesSourceLineAndColumn) {
  try {
    parse_json("{\n  \"a\": 1,\n  \"b\": tru\n}", "metrics.json");
    FAIL() << "expected IoError";
  } catch (const flowood::IoError& e) {
    EXPECT_EQ(e.path(), "metrics.json");
    // The parser stops at the newline that ends the bad literal "tru" on line 3.
    EXPECT_NE(std::string(e.what()).find("line 3, column 11"), std::string::npos) << e.what();
  }
  for (const char* bad : {"", "[1,]", "{\"a\" 1}", "01", "1.", "\"abc", "[1] x", "{'a': 1}", "nul", "\"\\ud800\"",
                          "[1e999]", "88888888888888888888880e818888"})  // the last two found by libFuzzer: out of double range
    EXPECT_THROW(parse_json(bad), flowood::IoError) << bad;
}

TEST(JsonTest, AccessorErrorsNameTheProblem) {
  const Json j = parse_json(R"({"auroc": 0.5, "name": "x"})");
  try {
    json_at(j, "fpr95");
    FAIL();
  } catch (const flowood::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("fpr95"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("auroc, name"), std::string::npos) << e.what();
  }
  EXPECT_THROW(json_number(json_at(j, "name")), flowood::DataError);
  EXPECT_THROW(json_int(json_at(j, "auroc")), flowood::DataError);
  EXPECT_THROW(json_string(json_at(j, "auroc")), flowood::DataError);
  EXPECT_THROW(json_at(j, 0), flowood::DataError);
  EXPECT_EQ(json_int(parse_json("3.0")), 3);  // an integral double is an integer
}

TEST(JsonTest, FileRoundTrip) {
  const auto path = (std::filesystem::temp_directory_path() / ("flowood_json_" + std::to_string(::getpid()) + ".json")).string();
  const Json j = Json{{"x", 1.25}, {"y", std::vector<double>{1, 2, 3}}};
  flowood::io::write_json_file(path, j);
  EXPECT_EQ(flowood::io::read_json_file(path), j);
  std::filesystem::remove(path);
  EXPECT_THROW(flowood::io::read_json_file(path), flowood::IoError);
}

}  // namespace
