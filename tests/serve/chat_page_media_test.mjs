// The chat page at / attaches files, driven in headless Chromium over the DevTools protocol (its
// --remote-debugging-pipe: JSON messages on file descriptors 3 and 4, no extra package): an image
// chosen in the page's file input goes with the next message as an image_url part with its data:
// URL, and the streamed reply equals the API's greedy reply to the same image and text (which
// differs from the text alone's). A WAV recording goes as an input_audio part: a model without an
// audio tower refuses it with its 400, shown in the page; against a model with one (ple-audio) the
// streamed reply equals the API's greedy reply to the same clip and text.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { postJson, sourcePath, startServer, tempDir, tinyAudioModel, tinyVisionModel, watchdog } from "./lib.mjs";

watchdog(240);
const dir = tempDir("page-media");
const model = tinyVisionModel(dir);
const server = await startServer(model, ["--device", "cpu", "--parallel", "1", "--ctx", "256"]);
const imageFile = sourcePath("tests/data/gemma4-image/small_64x48.png");
const dataUrl = "data:image/png;base64," + fs.readFileSync(imageFile).toString("base64");
const prompt = "What is in the picture?", maxTokens = 8;
const ask = async (content, url = server.url) => {
  const r = await postJson(url + "/v1/chat/completions",
                           { messages: [{ role: "user", content }], max_tokens: maxTokens, temperature: 0 });
  assert.equal(r.status, 200, r.text);
  return r.json.choices[0].message.content;
};
const expected = await ask([{ type: "image_url", image_url: { url: dataUrl } }, { type: "text", text: prompt }]);
assert.notEqual(expected, await ask(prompt), "the image changes the tiny model's reply (else this shows little)");

// The ple-audio fixture's recording (1.3 s, 16 kHz mono), as a file the page's input reads.
const wavFile = path.join(dir, "talk.wav");
fs.copyFileSync(sourcePath("tests/data/gemma4-mm/ple-audio/audio.wav"), wavFile);
const wavPart = { type: "input_audio", input_audio: { data: fs.readFileSync(wavFile).toString("base64"), format: "wav" } };

// Chromium, driven over the pipe.
const chrome = spawn("chromium", [
  "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
  `--user-data-dir=${path.join(dir, "profile")}`, "--remote-debugging-pipe", "about:blank",
], { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] });
let chromeErr = "";
chrome.stderr.on("data", (d) => { chromeErr += d; });
process.on("exit", () => chrome.kill("SIGKILL"));
let nextId = 1, inbox = Buffer.alloc(0);
const pending = new Map();
chrome.stdio[4].on("data", (d) => {
  inbox = Buffer.concat([inbox, d]);
  for (let end; (end = inbox.indexOf(0)) >= 0;) {
    const msg = JSON.parse(inbox.subarray(0, end).toString("utf8"));
    inbox = inbox.subarray(end + 1);
    const p = msg.id && pending.get(msg.id);
    if (!p) continue;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(`${p.method}: ${JSON.stringify(msg.error)}`));
    else p.resolve(msg.result);
  }
});
function cdp(method, params = {}, sessionId = undefined) {
  const id = nextId++;
  chrome.stdio[3].write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + "\0");
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject, method }));
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A page of the server at `url`; the helpers below drive the latest one.
let sessionId, targetId;
async function openPage(url) {
  ({ targetId } = await cdp("Target.createTarget", { url: `${url}/?max_tokens=${maxTokens}&temperature=0` }));
  ({ sessionId } = await cdp("Target.attachToTarget", { targetId, flatten: true }));
}
await openPage(server.url);
const evaluate = async (expression) =>
  (await cdp("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true }, sessionId)).result.value;
async function until(expression, what, seconds = 120) {
  for (let i = 0; i < seconds * 10; ++i) {
    const v = await evaluate(expression);
    if (v) return v;
    await sleep(100);
  }
  throw new Error(`the page never got ${what}; chromium: ${chromeErr.slice(-2000)}`);
}
async function attach(file) {
  const { root } = await cdp("DOM.getDocument", {}, sessionId);
  const { nodeId } = await cdp("DOM.querySelector", { nodeId: root.nodeId, selector: "#file" }, sessionId);
  await cdp("DOM.setFileInputFiles", { nodeId, files: [file] }, sessionId);
  await until(`document.getElementById("attachments").dataset.count === "1"`, `${path.basename(file)} attached`);
}
async function sendMessage(text) {
  await evaluate(`document.getElementById("input").value = ${JSON.stringify(text)};
                  document.getElementById("form").requestSubmit(); true`);
  await until(`document.body.dataset.state === "streaming" || document.body.dataset.state === "error" ||
               document.querySelectorAll(".msg.user").length > 0`, "the message sent");
  return until(`["done", "error"].includes(document.body.dataset.state) && document.body.dataset.state`,
               "the reply's end");
}

await until(`document.readyState === "complete" && !!document.getElementById("file")`, "loaded");
await attach(imageFile);
assert.equal(await sendMessage(prompt), "done");
const reply = await evaluate(`decodeURIComponent(document.querySelector(".msg.assistant").dataset.reply)`);
assert.equal(reply, expected, "the page's reply with the image differs from the API's");
assert.equal(await evaluate(`document.querySelector(".msg.user img").getAttribute("src")`), dataUrl,
             "the user's message shows the image it sent");

// A recording to a model without an audio tower: sent as input_audio, answered 400, shown in the page.
await attach(wavFile);
assert.equal(await sendMessage("Transcribe this."), "error");
const shown = await evaluate(`document.querySelector(".msg.error").textContent`);
assert.match(shown, /takes no audio: it has no audio tower/);
await cdp("Target.closeTarget", { targetId });
assert.equal((await server.stop()).code, 0, server.stderr());

// The same recording to a model with an audio tower: the page's reply equals the API's.
const audioServer = await startServer(tinyAudioModel(dir), ["--device", "cpu", "--parallel", "1", "--ctx", "256"]);
const heard = await ask([wavPart, { type: "text", text: "Transcribe this." }], audioServer.url);
assert.notEqual(heard, await ask("Transcribe this.", audioServer.url),
                "the clip changes the tiny model's reply (else this shows little)");
await openPage(audioServer.url);
await until(`document.readyState === "complete" && !!document.getElementById("file")`, "loaded");
await attach(wavFile);
assert.equal(await sendMessage("Transcribe this."), "done");
const audioReply = await evaluate(`decodeURIComponent(document.querySelector(".msg.assistant").dataset.reply)`);
assert.equal(audioReply, heard, "the page's reply with the recording differs from the API's");
assert.match(await evaluate(`document.querySelector(".msg.user").textContent`), /\[talk\.wav\]/,
             "the user's message names the recording it sent");
// Two tower runs: the API's request, then the page's (the text-only request between them took the
// one slot's cache, so the clip was not there any more).
const metrics = await (await fetch(audioServer.url + "/metrics")).text();
assert.match(metrics, /\nvkgemma_audio_encoded_total 2\n/);

chrome.kill("SIGTERM");
assert.equal((await audioServer.stop()).code, 0, audioServer.stderr());
console.log("chat page media test: ok");
