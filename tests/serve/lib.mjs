// Helpers for the serve tests run by ctest with node: the tiny servable model, starting and
// stopping `vkgemma serve` on a free port, running the CLI, and a watchdog so no test can hang.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

export const VKGEMMA = process.env.VKGEMMA;
const SOURCE_DIR = process.env.VKG_SOURCE_DIR;
if (!VKGEMMA || !SOURCE_DIR) throw new Error("VKGEMMA and VKG_SOURCE_DIR must be set (ctest sets them)");

const children = new Set();
process.on("exit", () => { for (const c of children) c.kill("SIGKILL"); });

// The whole test fails (exit 1) if it runs past `seconds`.
export function watchdog(seconds) {
  setTimeout(() => {
    console.error(`FAIL: the test ran past ${seconds} s`);
    process.exit(1);
  }, seconds * 1000).unref();
}

export function tempDir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `vkg-${name}-`));
}

// tests/data/gemma4-tiny/dense (vocab 256) with the byte-level tokenizer of tests/generate/data,
// in a directory named gemma4-tiny (the model's name in the API).
export function tinyModel(dir) {
  const model = path.join(dir, "gemma4-tiny");
  fs.mkdirSync(model, { recursive: true });
  for (const f of ["config.json", "model.safetensors"]) {
    fs.copyFileSync(path.join(SOURCE_DIR, "tests/data/gemma4-tiny/dense", f), path.join(model, f));
  }
  fs.copyFileSync(path.join(SOURCE_DIR, "tests/generate/data/tokenizer.json"), path.join(model, "tokenizer.json"));
  return model;
}

// tests/data/gemma4-mm/ple-vision (vocab 256, a vision tower, image budget 70) with the same
// tokenizer, in a directory named ple-vision: a servable model that takes images.
export function tinyVisionModel(dir) {
  const model = path.join(dir, "ple-vision");
  fs.mkdirSync(model, { recursive: true });
  for (const f of ["config.json", "model.safetensors", "preprocessor_config.json"]) {
    fs.copyFileSync(path.join(SOURCE_DIR, "tests/data/gemma4-mm/ple-vision", f), path.join(model, f));
  }
  fs.copyFileSync(path.join(SOURCE_DIR, "tests/generate/data/tokenizer.json"), path.join(model, "tokenizer.json"));
  return model;
}

// The tiny ple-audio checkpoint (an audio tower, no vision tower) with the byte-level test tokenizer.
export function tinyAudioModel(dir) {
  const model = path.join(dir, "ple-audio");
  fs.mkdirSync(model, { recursive: true });
  for (const f of ["config.json", "model.safetensors"]) {
    fs.copyFileSync(path.join(SOURCE_DIR, "tests/data/gemma4-mm/ple-audio", f), path.join(model, f));
  }
  fs.copyFileSync(path.join(SOURCE_DIR, "tests/generate/data/tokenizer.json"), path.join(model, "tokenizer.json"));
  return model;
}

export function sourcePath(...parts) {
  return path.join(SOURCE_DIR, ...parts);
}

// The official openai package, installed at set-up (tests/serve/fetch.sh, run by tools/test.sh)
// into VKG_NPM_DIR (tests/serve): the test itself never downloads.
export function openaiModule() {
  const require = createRequire(path.join(process.env.VKG_NPM_DIR, "package.json"));
  try {
    return require("openai");
  } catch (e) {
    throw new Error(`the openai package is not installed in ${process.env.VKG_NPM_DIR}: run \`bash tests/serve/fetch.sh\` (needs npm)\n${e}`);
  }
}

// Starts `vkgemma serve -m model --port 0 ...args`; resolves once it prints its URL.
export function startServer(model, args = [], { timeoutS = 120 } = {}) {
  const proc = spawn(VKGEMMA, ["serve", "-m", model, "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.add(proc);
  let stdout = "", stderr = "";
  proc.stderr.on("data", (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.on("exit", (code, signal) => { children.delete(proc); resolve({ code, signal }); }));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in ${timeoutS} s:\n${stderr}`)), timeoutS * 1000);
    proc.stdout.on("data", (d) => {
      stdout += d;
      const m = stdout.match(/listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1], proc, exited,
          stderr: () => stderr,
          // SIGTERM, then the exit status (SIGKILL after `graceS`).
          async stop(graceS = 60) {
            proc.kill("SIGTERM");
            const t = setTimeout(() => proc.kill("SIGKILL"), graceS * 1000);
            const r = await exited;
            clearTimeout(t);
            return r;
          },
        });
      }
    });
    exited.then(({ code }) => reject(new Error(`serve exited (${code}) before it was ready:\n${stderr}`)));
  });
}

export function runCli(args, timeoutS = 120) {
  const r = spawnSync(VKGEMMA, args, { encoding: "utf8", timeout: timeoutS * 1000 });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status };
}

export async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// POST JSON with fetch; returns { status, json, text, headers }.
export async function postJson(url, body, headers = {}) {
  const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", ...headers },
                                 body: typeof body === "string" ? body : JSON.stringify(body),
                                 signal: AbortSignal.timeout(120000) });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text, headers: res.headers };
}

// Reads a streamed (SSE) response to the end: the parsed events and whether [DONE] came.
export async function readEvents(res) {
  const text = await res.text();
  const events = [];
  let done = false;
  for (const block of text.split("\n\n")) {
    for (const line of block.split("\n")) {
      if (!line.startsWith("data: ")) continue;
      const data = line.slice(6);
      if (data === "[DONE]") done = true;
      else events.push(JSON.parse(data));
    }
  }
  return { events, done };
}

// apiKey: the server's --api-key, which /metrics needs too.
export async function metrics(url, apiKey = "") {
  const headers = apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
  const text = await (await fetch(url + "/metrics", { headers, signal: AbortSignal.timeout(30000) })).text();
  const value = (name) => {
    const m = text.match(new RegExp(`^${name} ([0-9.e+-]+)$`, "m"));
    return m ? Number(m[1]) : NaN;
  };
  return { text, value };
}

// Waits until no slot is in use and nothing is queued or active (a leak fails after 30 s).
export async function expectIdle(url, assert) {
  let m;
  for (let i = 0; i < 300; ++i) {
    m = await metrics(url);
    if (m.value("vkgemma_kv_slots_in_use") === 0 && m.value("vkgemma_sequences_active") === 0 &&
        m.value("vkgemma_sequences_queued") === 0) return m;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`slots still in use:\n${m.text}`);
}
