// Load: 32 clients x 20 requests against one server (CPU reference, 4 slots): whole and streamed
// replies, streams the client abandons after the first event, and bad requests of every kind. Every
// good request is answered, every bad one gets its 4xx, no slot is leaked, and the server is still
// alive and stops cleanly.
import assert from "node:assert/strict";
import { expectIdle, postJson, readEvents, startServer, tempDir, tinyModel, watchdog } from "./lib.mjs";

watchdog(420);
const CLIENTS = 32, REQUESTS = 20;
const model = tinyModel(tempDir("load"));
const server = await startServer(model, ["--device", "cpu", "--parallel", "4", "--queue", "64", "--ctx", "128"]);
const chatUrl = server.url + "/v1/chat/completions";

const badRequests = [
  ["{not json", 400], [{ messages: "hi" }, 400], [{ messages: [{ role: "user", content: "x" }], top_k: "many" }, 400],
  [{ messages: [{ role: "user", content: "x" }], model: "nope" }, 404],
  [{ messages: [{ role: "user", content: "x".repeat(200) }] }, 400],
  [{ messages: [{ role: "user", content: "x" }], max_tokens: 1000 }, 400],
  [{ messages: [{ role: "user", content: "x" }], temperature: "warm" }, 400],
];
const counts = { good: 0, streamed: 0, abandoned: 0, bad: 0 };

async function client(c) {
  for (let i = 0; i < REQUESTS; ++i) {
    const kind = (c + i) % 5;
    const body = { messages: [{ role: "user", content: `client ${c} request ${i}` }], max_tokens: 1 + ((c * 7 + i) % 6),
                   temperature: 0.8, seed: c * 100 + i };
    if (kind === 0) {
      const [bad, status] = badRequests[(c + i) % badRequests.length];
      const r = await postJson(chatUrl, bad);
      assert.equal(r.status, status, r.text);
      assert.ok(r.json?.error?.message, r.text);
      ++counts.bad;
    } else if (kind === 1) {
      // A stream the client abandons after its first event: the server must free the slot.
      const ac = new AbortController();
      const res = await fetch(chatUrl, { method: "POST", headers: { "Content-Type": "application/json" },
                                         body: JSON.stringify({ ...body, max_tokens: 60, stream: true }), signal: ac.signal });
      assert.equal(res.status, 200);
      const reader = res.body.getReader();
      await reader.read();
      ac.abort();
      await reader.cancel().catch(() => {});
      ++counts.abandoned;
    } else if (kind === 2) {
      const res = await fetch(chatUrl, { method: "POST", headers: { "Content-Type": "application/json" },
                                         body: JSON.stringify({ ...body, stream: true }), signal: AbortSignal.timeout(120000) });
      assert.equal(res.status, 200);
      const { events, done } = await readEvents(res);
      assert.ok(done, "stream without [DONE]");
      assert.ok(events.some((e) => e.choices[0]?.finish_reason), "stream without a finish reason");
      ++counts.streamed;
    } else {
      const r = await postJson(chatUrl, body);
      assert.equal(r.status, 200, r.text);
      assert.ok(["stop", "length"].includes(r.json.choices[0].finish_reason));
      assert.ok(r.json.usage.completion_tokens >= 1 && r.json.usage.completion_tokens <= body.max_tokens);
      ++counts.good;
    }
  }
}

const start = Date.now();
await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
assert.equal(counts.good + counts.streamed + counts.abandoned + counts.bad, CLIENTS * REQUESTS);
const m = await expectIdle(server.url, assert);
assert.equal(server.proc.exitCode, null, "the server died");
assert.ok(m.text.includes('vkgemma_requests_total{endpoint="/v1/chat/completions",status="200"}'));
// Still serving after the storm.
const after = await postJson(chatUrl, { messages: [{ role: "user", content: "still there?" }], max_tokens: 3 });
assert.equal(after.status, 200);
assert.equal((await server.stop()).code, 0, server.stderr());
console.log(`load test: ok in ${((Date.now() - start) / 1000).toFixed(1)} s: ${JSON.stringify(counts)}, ` +
            `cancelled by the server: ${m.value("vkgemma_sequences_cancelled_total")}`);
