// `vkgemma serve -m FILE.gguf`: a GGUF file is served as `run` takes it. The tiny model written as
// GGUF by vkg_make_checkpoint (beside the vkgemma binary) with the tiny byte-level tokenizer; its
// greedy completion of token ids equals the same request against the checkpoint directory it was
// written beside (on the CPU reference).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { VKGEMMA, postJson, startServer, tempDir, watchdog } from "./lib.mjs";

watchdog(120);
const dir = tempDir("gguf");
const make = path.join(path.dirname(VKGEMMA), "vkg_make_checkpoint");
const tokenizer = path.join(process.env.VKG_SOURCE_DIR, "tests/generate/data/tokenizer.json");
const made = spawnSync(make, ["--out", path.join(dir, "ckpt"), "--vocab", "256", "--seed", "6", "--gguf",
                              path.join(dir, "tiny.gguf"), "--tokenizer", tokenizer], { encoding: "utf8" });
assert.equal(made.status, 0, made.stderr);
fs.copyFileSync(tokenizer, path.join(dir, "ckpt", "tokenizer.json"));  // (the GGUF file holds its own)

const body = { prompt: [2, 72, 105], max_tokens: 6, temperature: 0 };
const texts = [];
for (const model of [path.join(dir, "tiny.gguf"), path.join(dir, "ckpt")]) {
  const server = await startServer(model, ["--device", "cpu", "--ctx", "64", "--parallel", "1"]);
  const r = await postJson(server.url + "/v1/completions", body);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.usage.prompt_tokens, 3);
  texts.push(r.json.choices[0].text);
  if (model.endsWith(".gguf")) assert.equal(r.json.model, "tiny");  // the file's name without .gguf
  assert.equal((await server.stop()).code, 0, server.stderr());
}
assert.equal(texts[0], texts[1], "the GGUF file and its checkpoint directory answer differently");
console.log("gguf serve test: ok");
