// Batching changes no result: 8 concurrent greedy requests of different lengths (3 slots, so they
// queue and share slots; streamed and not) each give exactly the text of
// `vkgemma run --temp 0` on the same prompt. Argument: "gpu" (the default device: lavapipe in CI)
// or "cpu" (the CPU reference).
import assert from "node:assert/strict";
import { expectIdle, readEvents, runCli, startServer, tempDir, tinyModel, watchdog } from "./lib.mjs";

watchdog(480);
const device = process.argv[2] === "cpu" ? ["--device", "cpu"] : [];
const model = tinyModel(tempDir("batching"));
const common = ["--ctx", "256", ...device];
const server = await startServer(model, ["--parallel", "3", ...common]);

const cases = [
  ["Hi", 12], ["The quick brown fox jumps over the lazy dog.", 5], ["a", 9],
  ["Tell me a story about a robot who learns to paint, in three sentences.", 7], ["Hi there", 3],
  ["0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789", 11], ["Why?", 8], ["Hi", 6],
];
const replies = await Promise.all(cases.map(async ([prompt, n], i) => {
  const body = { messages: [{ role: "user", content: prompt }], max_tokens: n, temperature: 0, stream: i % 2 === 1 };
  const res = await fetch(server.url + "/v1/chat/completions", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    signal: AbortSignal.timeout(300000) });
  assert.equal(res.status, 200);
  if (!body.stream) return (await res.json()).choices[0].message.content;
  const { events, done } = await readEvents(res);
  assert.ok(done);
  return events.map((e) => e.choices[0]?.delta?.content ?? "").join("");
}));
const m = await expectIdle(server.url, assert);
const reused = m.value("vkgemma_prompt_tokens_reused_total");  // depends on arrival order: logged only
assert.equal(m.value("vkgemma_validation_messages"), 0);
assert.equal((await server.stop()).code, 0, server.stderr());

cases.forEach(([prompt, n], i) => {
  const alone = runCli(["run", "-m", model, "-p", prompt, "--temp", "0", "-n", String(n), ...common]);
  assert.equal(alone.code, 0, alone.stderr);
  assert.equal(replies[i], alone.stdout, `request ${i} (${JSON.stringify(prompt)}) differs from vkgemma run`);
});
console.log(`batching matches run (${device.length ? "cpu" : "gpu"}): ok, ${cases.length} requests, ${reused} prompt tokens reused`);
