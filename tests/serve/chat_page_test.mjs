// The chat page at / in headless Chromium: loaded with ?prompt=..., it streams the reply from
// /v1/chat/completions into the page; the DOM Chromium dumps holds the same text as the API's
// greedy reply to the same message.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { postJson, startServer, tempDir, tinyModel, watchdog } from "./lib.mjs";

watchdog(240);
const dir = tempDir("page");
const model = tinyModel(dir);
const server = await startServer(model, ["--device", "cpu", "--parallel", "2", "--ctx", "128"]);
const prompt = "Hello page", maxTokens = 12;
const api = await postJson(server.url + "/v1/chat/completions",
                           { messages: [{ role: "user", content: prompt }], max_tokens: maxTokens, temperature: 0 });
assert.equal(api.status, 200, api.text);
const expected = api.json.choices[0].message.content;

const page = `${server.url}/?prompt=${encodeURIComponent(prompt)}&max_tokens=${maxTokens}&temperature=0`;
// Chromium dumps the DOM when its virtual clock has run the budget, and that clock can run out
// while the reply still streams on a loaded machine (seen once in CI: two of twelve tokens shown,
// data-state="streaming"). That is the harness's timing, not the page's result: a dump still
// streaming is taken again, up to three times, each a fresh page and request; whatever else the
// page shows fails at once, and the final dump must be done and equal the API's reply.
let dom = "";
for (let attempt = 1; attempt <= 3; ++attempt) {
  const chromium = spawnSync("chromium", [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
    `--user-data-dir=${path.join(dir, `profile${attempt}`)}`, "--virtual-time-budget=60000", "--dump-dom", page,
  ], { encoding: "utf8", timeout: 120000 });
  assert.equal(chromium.status, 0, `chromium failed: ${chromium.stderr}`);
  dom = chromium.stdout;
  if (!/<body data-state="streaming"/.test(dom)) break;
  console.log(`chat page test: dump ${attempt} taken while the reply still streamed`);
}
assert.match(dom, /<body data-state="done"/, `the page did not finish its reply:\n${dom.slice(0, 3000)}`);
const m = dom.match(/class="msg assistant" data-reply="([^"]*)"/);
assert.ok(m, `no assistant reply in the page:\n${dom.slice(0, 3000)}`);
assert.equal(decodeURIComponent(m[1]), expected, "the page's reply differs from the API's");
assert.equal((await server.stop()).code, 0, server.stderr());
console.log("chat page test: ok");
