// Request checking: every bad request is a 4xx with an OpenAI-style error naming the field; good
// ones become the prompt tokens and sampling the CLI would use.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "host/runtime/generate.h"
#include "host/serve/openai_request.h"
#include "host/text/chat_template.h"
#include "tests/serve/serve_test_util.h"

namespace vkg::serve {
namespace {

class OpenAiRequest : public ::testing::Test {
 protected:
  OpenAiRequest()
      : tokenizer_(tok::Tokenizer::Load(serve_test::TinyModelDir())),
        template_(ChatTemplate::Load(serve_test::TinyModelDir())) {
    model_.id = "tiny";
    model_.context = 128;
    model_.tokenizer = &tokenizer_;
    model_.chat_template = &template_;
    model_.stop_ids = StopTokenIds(tokenizer_, model_.generation);
  }
  ParsedRequest Chat(const std::string& body) { return ParseRequest(Endpoint::kChatCompletions, body, model_); }
  ParsedRequest Completion(const std::string& body) { return ParseRequest(Endpoint::kCompletions, body, model_); }
  // The error a body gets: status, code, param.
  std::tuple<int, std::string, std::string> ErrorOf(Endpoint e, const std::string& body) {
    try {
      ParseRequest(e, body, model_);
    } catch (const ApiError& err) {
      const auto j = nlohmann::json::parse(ErrorBody(err));
      EXPECT_TRUE(j["error"]["message"].is_string() && !j["error"]["message"].get<std::string>().empty());
      EXPECT_EQ(j["error"]["type"], err.type);
      return {err.status, err.code, err.param};
    }
    return {200, "", ""};
  }

  tok::Tokenizer tokenizer_;
  ChatTemplate template_;
  ServedModel model_;
};

using Error3 = std::tuple<int, std::string, std::string>;

TEST_F(OpenAiRequest, ChatMessagesGoThroughTheChatTemplate) {
  const ParsedRequest r = Chat(R"({"model":"tiny","messages":[{"role":"system","content":"Be brief."},
      {"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"},{"role":"user","content":[{"type":"text","text":"Again"}]}],
      "max_tokens":5,"temperature":0,"stop":["\n"],"seed":3,"presence_penalty":0.5,"frequency_penalty":-0.5,
      "top_k":4,"min_p":0.1,"repeat_penalty":1.1,"top_p":0.9,"stream":true,"stream_options":{"include_usage":true}})");
  const std::vector<ChatMessage> messages = {
      {"system", "Be brief."}, {"user", "Hi"}, {"model", "Hello"}, {"user", "Again"}};
  EXPECT_EQ(r.sequence.prompt, template_.Encode(tokenizer_, messages, ChatOptions{}));
  EXPECT_EQ(r.sequence.max_tokens, 5u);
  EXPECT_TRUE(r.sequence.sampling.greedy());
  EXPECT_EQ(r.sequence.sampling.seed, 3u);
  EXPECT_FLOAT_EQ(r.sequence.sampling.presence_penalty, 0.5f);
  EXPECT_FLOAT_EQ(r.sequence.sampling.frequency_penalty, -0.5f);
  EXPECT_EQ(r.sequence.sampling.top_k, 4);
  EXPECT_FLOAT_EQ(r.sequence.sampling.min_p, 0.1f);
  EXPECT_FLOAT_EQ(r.sequence.sampling.repetition_penalty, 1.1f);
  EXPECT_FLOAT_EQ(r.sequence.sampling.top_p, 0.9f);
  EXPECT_EQ(r.sequence.stop_strings, std::vector<std::string>{"\n"});
  EXPECT_EQ(r.sequence.stop_ids, model_.stop_ids);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
}

TEST_F(OpenAiRequest, DefaultsAreTheCheckpointsAndTheRestOfTheContext) {
  const ParsedRequest r = Chat(R"({"messages":[{"role":"user","content":"Hi"}]})");
  EXPECT_FALSE(r.sequence.sampling.greedy());
  EXPECT_EQ(r.sequence.sampling.top_k, model_.generation.top_k);
  EXPECT_FLOAT_EQ(r.sequence.sampling.top_p, model_.generation.top_p);
  EXPECT_EQ(r.sequence.max_tokens, model_.context - r.sequence.prompt.size());
  EXPECT_FALSE(r.stream);
  // max_completion_tokens is the newer name.
  EXPECT_EQ(Chat(R"({"messages":[{"role":"user","content":"Hi"}],"max_completion_tokens":3})").sequence.max_tokens, 3u);
}

TEST_F(OpenAiRequest, CompletionsPromptIsRawTextAfterBos) {
  const ParsedRequest r = Completion(R"({"prompt":"Hi<eos>","max_tokens":2})");
  EXPECT_EQ(r.sequence.prompt, (std::vector<int32_t>{2, 'H', 'i', 1}));  // as `vkgemma run --raw`
  EXPECT_EQ(Completion(R"({"prompt":["<bos>Hi"]})").sequence.prompt, (std::vector<int32_t>{2, 'H', 'i'}));
}

TEST_F(OpenAiRequest, EveryBadRequestIsA4xxNamingTheField) {
  const Endpoint C = Endpoint::kChatCompletions, P = Endpoint::kCompletions;
  const std::string user = R"("messages":[{"role":"user","content":"Hi"}])";
  EXPECT_EQ(ErrorOf(C, "{"), Error3(400, "invalid_json", ""));
  EXPECT_EQ(ErrorOf(C, "[1]"), Error3(400, "invalid_json", ""));
  EXPECT_EQ(ErrorOf(C, ""), Error3(400, "invalid_json", ""));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"tools":[{"type":"function"}]})"),
            Error3(400, "unsupported_parameter", "tools"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"response_format":{"type":"json_object"}})"),
            Error3(400, "unsupported_parameter", "response_format"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"logprobs":true})"), Error3(400, "invalid_value", "logprobs"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"ignore_eos":1})"), Error3(400, "invalid_type", "ignore_eos"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"repetition_penalty":-1})"),
            Error3(400, "invalid_value", "repetition_penalty"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"cache_prompt":"yes"})"), Error3(400, "invalid_type", "cache_prompt"));
  EXPECT_EQ(ErrorOf(P, R"({"prompt":"x","n_predict":0})"), Error3(400, "invalid_value", "n_predict"));
  EXPECT_EQ(ErrorOf(P, R"({"prompt":[1,256]})"), Error3(400, "invalid_value", "prompt"));
  EXPECT_EQ(ErrorOf(P, R"({"prompt":[1,-1]})"), Error3(400, "invalid_value", "prompt"));
  EXPECT_EQ(ErrorOf(P, R"({"prompt":[[1],[2]]})"), Error3(400, "invalid_value", "prompt"));
  EXPECT_EQ(ErrorOf(P, R"({"prompt":[]})"), Error3(400, "invalid_value", "prompt"));
  EXPECT_EQ(ErrorOf(P, R"({"prompt":[1,"a"]})"), Error3(400, "invalid_type", "prompt"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"model":"gpt-4"})"), Error3(404, "model_not_found", "model"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"model":7})"), Error3(400, "invalid_type", "model"));
  EXPECT_EQ(ErrorOf(C, R"({})"), Error3(400, "missing_required_parameter", "messages"));
  EXPECT_EQ(ErrorOf(C, R"({"messages":"hi"})"), Error3(400, "invalid_type", "messages"));
  EXPECT_EQ(ErrorOf(C, R"({"messages":[]})"), Error3(400, "invalid_value", "messages"));
  EXPECT_EQ(ErrorOf(C, R"({"messages":[{"role":"robot","content":"x"}]})"),
            Error3(400, "invalid_value", "messages[0].role"));
  EXPECT_EQ(ErrorOf(C, R"({"messages":[{"role":"user"}]})"),
            Error3(400, "missing_required_parameter", "messages[0].content"));
  EXPECT_EQ(ErrorOf(C, R"({"messages":[{"role":"user","content":5}]})"),
            Error3(400, "invalid_type", "messages[0].content"));
  EXPECT_EQ(ErrorOf(C, R"({"messages":[{"role":"user","content":"x","tool_calls":[]}]})"),
            Error3(400, "unknown_parameter", "messages[0].tool_calls"));
  EXPECT_EQ(ErrorOf(C, R"({"messages":[{"role":"user","content":[{"type":"image_url"}]}]})"),
            Error3(400, "invalid_value", "messages[0].content[0].type"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"temperature":"hot"})"), Error3(400, "invalid_type", "temperature"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"temperature":3})"), Error3(400, "invalid_value", "temperature"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"top_p":0})"), Error3(400, "invalid_value", "top_p"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"presence_penalty":2.5})"), Error3(400, "invalid_value", "presence_penalty"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"frequency_penalty":-3})"), Error3(400, "invalid_value", "frequency_penalty"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"top_k":-2})"), Error3(400, "invalid_value", "top_k"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"top_k":1.5})"), Error3(400, "invalid_type", "top_k"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"repeat_penalty":0})"), Error3(400, "invalid_value", "repeat_penalty"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"seed":"1"})"), Error3(400, "invalid_type", "seed"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"stream":"yes"})"), Error3(400, "invalid_type", "stream"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"stream_options":{"include_usage":true}})"),
            Error3(400, "invalid_value", "stream_options"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"stop":5})"), Error3(400, "invalid_type", "stop"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"stop":["a","b","c","d","e"]})"), Error3(400, "invalid_value", "stop"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"n":2})"), Error3(400, "invalid_value", "n"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"max_tokens":0})"), Error3(400, "invalid_value", "max_tokens"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"max_tokens":"5"})"), Error3(400, "invalid_type", "max_tokens"));
  // Past the context: the prompt alone, or the prompt and max_tokens.
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"max_tokens":128})"), Error3(400, "context_length_exceeded", "max_tokens"));
  EXPECT_EQ(ErrorOf(C, "{" + user + R"(,"max_completion_tokens":1000})"),
            Error3(400, "context_length_exceeded", "max_completion_tokens"));
  EXPECT_EQ(ErrorOf(P, R"({"prompt":")" + std::string(130, 'x') + R"("})"),
            Error3(400, "context_length_exceeded", "prompt"));
  EXPECT_EQ(ErrorOf(C, R"({"messages":[{"role":"user","content":")" + std::string(130, 'x') + R"("}]})"),
            Error3(400, "context_length_exceeded", "messages"));
  EXPECT_EQ(ErrorOf(P, R"({"prompt":5})"), Error3(400, "invalid_type", "prompt"));
  EXPECT_EQ(ErrorOf(P, R"({"prompt":["a","b"]})"), Error3(400, "invalid_value", "prompt"));
  EXPECT_EQ(ErrorOf(P, R"({})"), Error3(400, "missing_required_parameter", "prompt"));
  EXPECT_EQ(ErrorOf(P, R"({"prompt":"x","echo":true})"), Error3(400, "invalid_value", "echo"));
  // A prompt that exactly fits with one token to generate is fine.
  const size_t n = Completion(R"({"prompt":"x"})").sequence.prompt.size();
  EXPECT_EQ(Completion(R"({"prompt":")" + std::string(128 - n, 'x') + R"(","max_tokens":1})").sequence.max_tokens, 1u);
}

// llama-server's and vLLM's fields are honoured; fields no API defines are ignored and named.
TEST_F(OpenAiRequest, LlamaServerAndVllmFieldsAreHonouredUnknownOnesIgnored) {
  const std::string user = R"("messages":[{"role":"user","content":"Hi"}])";
  const ParsedRequest r = Chat("{" + user +
                               R"(,"ignore_eos":true,"repetition_penalty":1.3,"top_k":-1,"cache_prompt":true,
      "logprobs":false,"top_logprobs":0,"tools":[],"tool_choice":"none","response_format":{"type":"text"},
      "mirostat":2,"typical_p":0.5,"n_predict":7})");
  EXPECT_TRUE(r.sequence.stop_ids.empty()) << "ignore_eos keeps generating past end-of-turn";
  EXPECT_FLOAT_EQ(r.sequence.sampling.repetition_penalty, 1.3f);
  EXPECT_EQ(r.sequence.sampling.top_k, 0);  // vLLM's -1: every token
  EXPECT_EQ(r.sequence.max_tokens, 7u);     // n_predict
  EXPECT_EQ(r.ignored_fields, (std::vector<std::string>{"mirostat", "typical_p"}));
  EXPECT_EQ(Chat("{" + user + "}").sequence.stop_ids, model_.stop_ids);
  EXPECT_TRUE(Chat("{" + user + "}").ignored_fields.empty());
  // max_tokens wins over n_predict; n_predict -1: the rest of the context.
  EXPECT_EQ(Chat("{" + user + R"(,"n_predict":7,"max_tokens":3})").sequence.max_tokens, 3u);
  const ParsedRequest all = Completion(R"({"prompt":"x","n_predict":-1})");
  EXPECT_EQ(all.sequence.max_tokens, 128u - all.sequence.prompt.size());
  // A completions field on the chat endpoint is unknown there, and the reverse.
  EXPECT_EQ(Completion(R"({"prompt":"x","messages":[]})").ignored_fields, (std::vector<std::string>{"messages"}));
}

// OpenAI's completions prompt may be token ids: taken as given, no <bos> added.
TEST_F(OpenAiRequest, CompletionsPromptMayBeTokenIds) {
  EXPECT_EQ(Completion(R"({"prompt":[1,2,3]})").sequence.prompt, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(Completion(R"({"prompt":[[2,72,105]]})").sequence.prompt, (std::vector<int32_t>{2, 72, 105}));
  EXPECT_EQ(Completion(R"({"prompt":[2,72,105],"max_tokens":4})").sequence.max_tokens, 4u);
}

}  // namespace
}  // namespace vkg::serve
