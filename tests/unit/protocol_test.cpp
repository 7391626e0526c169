#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "cs/signaling/protocol.hpp"

using namespace cs::signaling;

TEST_CASE("offer and ice messages parse") {
  auto offer = parse_client_message(R"({"type":"offer","sdp":"v=0\r\n"})");
  REQUIRE(offer.message);
  CHECK(std::get<OfferMessage>(*offer.message).sdp == "v=0\r\n");
  CHECK_FALSE(std::get<OfferMessage>(*offer.message).lip_sync);
  auto synced = parse_client_message(R"({"type":"offer","sdp":"v=0","rung":1,"sync":true})");
  REQUIRE(synced.message);
  CHECK(std::get<OfferMessage>(*synced.message).lip_sync);
  CHECK(std::get<OfferMessage>(*synced.message).rung == 1);

  auto ice = parse_client_message(
      R"({"type":"ice","candidate":"candidate:1 1 udp 1 10.0.0.1 5000 typ host","sdpMLineIndex":0})");
  REQUIRE(ice.message);
  CHECK(std::get<IceMessage>(*ice.message).candidate.rfind("candidate:", 0) == 0);
  CHECK(std::get<IceMessage>(*ice.message).sdp_mline_index == 0);

  auto end = parse_client_message(R"({"type":"ice","candidate":"","sdpMLineIndex":0})");
  REQUIRE(end.message);
  CHECK(std::get<IceMessage>(*end.message).candidate.empty());
}

TEST_CASE("malformed messages get an error, never a crash") {
  const char* bad[] = {
      "",
      "not json",
      "[1,2,3]",
      "42",
      "{}",
      R"({"type":5})",
      R"({"type":"offer"})",
      R"({"type":"offer","sdp":7})",
      R"({"type":"offer","sdp":""})",
      R"({"type":"offer","sdp":"v=0","sync":1})",
      R"({"type":"offer","sdp":"v=0","sync":"yes"})",
      R"({"type":"ice"})",
      R"({"type":"ice","candidate":{}})",
      R"({"type":"ice","candidate":"candidate:x","sdpMLineIndex":-1})",
      R"({"type":"ice","candidate":"candidate:x","sdpMLineIndex":"0"})",
      R"({"type":"ice","candidate":"candidate:x","sdpMLineIndex":1e9})",
      R"({"type":"answer","sdp":"v=0"})",
      R"({"type":"bogus"})",
      "{\"type\":\"offer\",\"sdp\":\"\xff\xfe\"}",
      R"({"type":"offer","sdp":"x"} trailing)",
  };
  for (const char* text : bad) {
    CAPTURE(text);
    auto r = parse_client_message(text);
    CHECK_FALSE(r.message);
    CHECK_FALSE(r.error.empty());
  }
  CHECK_FALSE(parse_client_message(std::string(kMaxMessageBytes + 1, ' ')).message);
}

TEST_CASE("server messages are the JSON of SPEC.md") {
  auto answer = nlohmann::json::parse(answer_json("v=0\r\n"));
  CHECK(answer["type"] == "answer");
  CHECK(answer["sdp"] == "v=0\r\n");
  auto ice = nlohmann::json::parse(ice_json("candidate:1", 0));
  CHECK(ice["type"] == "ice");
  CHECK(ice["candidate"] == "candidate:1");
  CHECK(ice["sdpMLineIndex"] == 0);
  auto error = nlohmann::json::parse(error_json("bad \xff thing"));
  CHECK(error["type"] == "error");
  CHECK(error["message"].is_string());
}

TEST_CASE("every writer gives valid JSON for text that is not UTF-8") {
  // Found by fuzz_signaling_message: answer_json and ice_json threw.
  CHECK(nlohmann::json::parse(answer_json("v=0 \xff\xfe")).at("sdp").is_string());
  CHECK(nlohmann::json::parse(ice_json("candidate:\xc3", 1)).at("candidate").is_string());
}
