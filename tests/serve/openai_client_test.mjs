// The official `openai` npm client against `vkgemma serve` on the GPU path (lavapipe in CI): models,
// chat and completions, streamed and not (the streamed text equals the whole reply), errors as the
// client's typed exceptions, and SIGTERM during a stream: the stream finishes, the server exits 0.
import net from "node:net";
import assert from "node:assert/strict";
import { metrics, openaiModule, startServer, tempDir, tinyModel, watchdog } from "./lib.mjs";

watchdog(300);
const OpenAI = openaiModule();
const model = tinyModel(tempDir("openai"));
const server = await startServer(model, ["--parallel", "2", "--ctx", "256", "--api-key", "test-key"]);
const client = new OpenAI({ baseURL: server.url + "/v1", apiKey: "test-key", maxRetries: 0, timeout: 120000 });

const models = await client.models.list();
assert.equal(models.data[0].id, "gemma4-tiny");

const messages = [{ role: "system", content: "Be brief." }, { role: "user", content: "Hello there" }];
const whole = await client.chat.completions.create({ model: "gemma4-tiny", messages, max_tokens: 10, temperature: 0 });
assert.equal(whole.object, "chat.completion");
assert.equal(whole.model, "gemma4-tiny");
assert.match(whole.id, /^chatcmpl-/);
assert.equal(whole.choices[0].message.role, "assistant");
assert.ok(["stop", "length"].includes(whole.choices[0].finish_reason));
assert.ok(whole.usage.prompt_tokens > 0);
assert.equal(whole.usage.total_tokens, whole.usage.prompt_tokens + whole.usage.completion_tokens);

let streamed = "", finish = null, usage = null;
const stream = await client.chat.completions.create({ model: "gemma4-tiny", messages, max_tokens: 10, temperature: 0,
                                                      stream: true, stream_options: { include_usage: true } });
for await (const chunk of stream) {
  if (chunk.usage) usage = chunk.usage;
  if (!chunk.choices.length) continue;
  streamed += chunk.choices[0].delta.content ?? "";
  finish = chunk.choices[0].finish_reason ?? finish;
}
assert.equal(streamed, whole.choices[0].message.content, "streamed text differs from the whole reply");
assert.equal(finish, whole.choices[0].finish_reason);
assert.deepEqual(usage, whole.usage);

const completion = await client.completions.create({ model: "gemma4-tiny", prompt: "The quick brown fox", max_tokens: 8,
                                                     temperature: 0, stop: ["\n\n"] });
assert.equal(completion.object, "text_completion");
let streamedCompletion = "";
for await (const chunk of await client.completions.create({ model: "gemma4-tiny", prompt: "The quick brown fox", max_tokens: 8,
                                                            temperature: 0, stop: ["\n\n"], stream: true })) {
  streamedCompletion += chunk.choices[0]?.text ?? "";
}
assert.equal(streamedCompletion, completion.choices[0].text);

// Sampling with a seed repeats; the penalties are accepted.
const seeded = { model: "gemma4-tiny", messages, max_tokens: 8, temperature: 1.2, seed: 42, top_p: 0.9,
                 presence_penalty: 0.5, frequency_penalty: 0.5 };
const a = await client.chat.completions.create(seeded);
const b = await client.chat.completions.create(seeded);
assert.equal(a.choices[0].message.content, b.choices[0].message.content);

// Errors arrive as the client's typed exceptions with OpenAI's fields.
async function expectError(promise, status, code) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.status, status, String(e));
    assert.equal(e.code, code, String(e));
    return true;
  });
}
const bad = new OpenAI({ baseURL: server.url + "/v1", apiKey: "wrong", maxRetries: 0 });
await expectError(bad.chat.completions.create({ model: "gemma4-tiny", messages }), 401, "invalid_api_key");
await expectError(client.chat.completions.create({ model: "gpt-4o", messages }), 404, "model_not_found");
await expectError(client.chat.completions.create({ model: "gemma4-tiny", messages, max_tokens: 100000 }), 400,
                  "context_length_exceeded");
await expectError(client.chat.completions.create({ model: "gemma4-tiny", messages, temperature: 7 }), 400, "invalid_value");
await expectError(client.chat.completions.create({ model: "gemma4-tiny", messages, ignore_eos: "yes" }), 400, "invalid_type");
// A field no API defines is ignored, and named in a header (as llama-server and vLLM accept them).
const { data: ignored, response } = await client.chat.completions
  .create({ model: "gemma4-tiny", messages, max_tokens: 2, bogus_field: 1 }).withResponse();
assert.equal(ignored.object, "chat.completion");
assert.equal(response.headers.get("x-vkgemma-ignored-fields"), "bogus_field");
await expectError(client.completions.create({ model: "gemma4-tiny", prompt: "x".repeat(300) }), 400, "context_length_exceeded");

const m = await metrics(server.url, "test-key");
assert.equal(m.value("vkgemma_validation_messages"), 0, m.text);
assert.equal(m.value("vkgemma_kv_slots_in_use"), 0);

// SIGTERM while a stream is running and another client trickles a request it never finishes: the
// stream is finished, the half-sent request's connection closed, and the server exits 0.
const trickler = net.connect(new URL(server.url).port, "127.0.0.1");
await new Promise((r) => trickler.once("connect", r));
trickler.write("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-");
const tricklerClosed = new Promise((r) => { trickler.on("close", r); trickler.on("error", () => {}); });
const long = await client.chat.completions.create({ model: "gemma4-tiny", messages, max_tokens: 40, temperature: 1,
                                                    seed: 3, stream: true });
let chunks = 0, lastFinish = null;
for await (const chunk of long) {
  if (chunks++ === 1) server.proc.kill("SIGTERM");
  lastFinish = chunk.choices[0]?.finish_reason ?? lastFinish;
}
assert.ok(["stop", "length"].includes(lastFinish), "the stream in flight did not finish");
const { code } = await server.exited;
assert.equal(code, 0, server.stderr());
await tricklerClosed;
console.log("openai client test: ok");
