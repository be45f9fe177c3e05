// The embedded chat page (layer: host/serve). Plain DOM and fetch(); the reply is read from the
// response body stream as server-sent events ("data: {json}" lines, "data: [DONE]" at the end).
// Files attached to a message (images; audio recordings: WAV, MP3, FLAC) go as OpenAI content
// parts with their bytes inline (image_url with a data: URL, input_audio with base64 data), and
// stay in the conversation, so later turns re-send them (the server's prefix cache keeps them).
#include "host/serve/chat_page.h"

namespace vkg::serve {
namespace {

constexpr std::string_view kPage = R"PAGE(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vkgemma</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; display: flex; flex-direction: column; height: 100vh; background: #f6f6f4; }
  header { padding: 8px 16px; background: #20242b; color: #eee; display: flex; gap: 12px; align-items: center; font-size: 14px; }
  header input { width: 12em; }
  #log { flex: 1; overflow-y: auto; padding: 16px; }
  .msg { white-space: pre-wrap; margin: 8px 0; padding: 8px 12px; border-radius: 8px; max-width: 48em; }
  .user { background: #dbe8ff; margin-left: auto; }
  .assistant { background: #fff; border: 1px solid #ddd; }
  .error { background: #ffe0e0; }
  form { display: flex; gap: 8px; padding: 12px 16px; background: #eee; }
  textarea { flex: 1; height: 3.2em; font: inherit; }
  #attachments { font-size: 13px; color: #444; align-self: center; }
  .msg img { display: block; max-width: 16em; max-height: 12em; margin-bottom: 4px; }
</style>
</head>
<body data-state="idle">
<header><b>vkgemma</b><span id="model"></span>
  <label>API key <input id="key" type="password" autocomplete="off"></label>
  <button id="reset" type="button">New chat</button></header>
<div id="log"></div>
<form id="form"><textarea id="input" placeholder="Message (Enter sends, Shift+Enter: new line)"></textarea>
  <label>Attach <input id="file" type="file" multiple accept="image/*,audio/wav,audio/x-wav,audio/mpeg,audio/flac,.wav,.mp3,.flac"></label>
  <span id="attachments"></span>
  <button id="send">Send</button><button id="stop" type="button" disabled>Stop</button></form>
<script>
"use strict";
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const turns = [];
let attached = [];  // content parts of the next message: {part, name}
let controller = null;
$("key").value = localStorage.getItem("vkgemma-key") || "";
$("key").onchange = () => localStorage.setItem("vkgemma-key", $("key").value);

function bubble(role, text) {
  const div = document.createElement("div");
  div.className = "msg " + role;
  div.textContent = text;
  $("log").appendChild(div);
  $("log").scrollTop = $("log").scrollHeight;
  return div;
}

function headers() {
  const h = { "Content-Type": "application/json" };
  if ($("key").value) h["Authorization"] = "Bearer " + $("key").value;
  return h;
}

fetch("/v1/models", { headers: headers() }).then((r) => r.json())
  .then((j) => { if (j.data) $("model").textContent = j.data[0].id; }).catch(() => {});

// A file as a content part: an image as image_url with its data: URL, a recording as input_audio
// (base64 and its format from the name or type).
function readPart(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(new Error("cannot read " + file.name));
    reader.onload = () => {
      const url = reader.result;
      if (file.type.startsWith("image/")) { resolve({ type: "image_url", image_url: { url } }); return; }
      const ext = (file.name.split(".").pop() || "").toLowerCase();
      const format = { wav: "wav", mp3: "mp3", flac: "flac" }[ext] ||
        { "audio/wav": "wav", "audio/x-wav": "wav", "audio/mpeg": "mp3", "audio/flac": "flac" }[file.type];
      if (!format) { reject(new Error(file.name + ": attach an image, or a WAV, MP3 or FLAC recording")); return; }
      resolve({ type: "input_audio", input_audio: { data: url.slice(url.indexOf(",") + 1), format } });
    };
    reader.readAsDataURL(file);
  });
}

$("file").onchange = async () => {
  for (const file of $("file").files) {
    try {
      attached.push({ part: await readPart(file), name: file.name });
    } catch (e) {
      bubble("error", "error: " + e.message);
    }
  }
  $("file").value = "";
  $("attachments").textContent = attached.map((a) => a.name).join(", ");
  $("attachments").dataset.count = String(attached.length);
};

async function send(text) {
  const parts = attached.map((a) => a.part);
  const names = attached.map((a) => a.name);
  attached = [];
  $("attachments").textContent = "";
  $("attachments").dataset.count = "0";
  turns.push({ role: "user", content: parts.length ? [...parts, { type: "text", text }] : text });
  const shown = bubble("user", text);
  for (const [i, p] of parts.entries()) {
    if (p.type === "image_url") {
      const img = document.createElement("img");
      img.src = p.image_url.url;
      img.alt = names[i];
      shown.prepend(img);
    } else {
      shown.prepend("[" + names[i] + "] ");
    }
  }
  const out = bubble("assistant", "");
  out.dataset.reply = "";
  document.body.dataset.state = "streaming";
  $("send").disabled = true; $("stop").disabled = false;
  controller = new AbortController();
  const body = { messages: turns, stream: true };
  for (const k of ["max_tokens", "temperature", "seed"]) if (params.has(k)) body[k] = Number(params.get(k));
  let reply = "", failed = false;
  try {
    const res = await fetch("/v1/chat/completions", { method: "POST", headers: headers(),
                                                       body: JSON.stringify(body), signal: controller.signal });
    if (!res.ok) throw new Error(((await res.json()).error || {}).message || res.statusText);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        for (const line of event.split("\n")) {
          if (!line.startsWith("data: ")) continue;
          const data = line.slice(6);
          if (data === "[DONE]") continue;
          const chunk = JSON.parse(data);
          if (chunk.error) throw new Error(chunk.error.message);
          const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
          if (delta && delta.content) {
            reply += delta.content;
            out.textContent = reply;
            out.dataset.reply = encodeURIComponent(reply);  // exact text, for tests reading the DOM
          }
        }
      }
    }
  } catch (e) {
    failed = e.name !== "AbortError";
    if (failed) { out.className = "msg error"; out.textContent = "error: " + e.message; }
  }
  if (!failed) turns.push({ role: "assistant", content: reply });
  else turns.pop();
  controller = null;
  $("send").disabled = false; $("stop").disabled = true;
  document.body.dataset.state = failed ? "error" : "done";
}

$("form").onsubmit = (e) => {
  e.preventDefault();
  const text = $("input").value.trim();
  if (!text || controller) return;
  $("input").value = "";
  send(text);
};
$("input").onkeydown = (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("form").requestSubmit(); } };
$("stop").onclick = () => { if (controller) controller.abort(); };
$("reset").onclick = () => { if (controller) controller.abort(); turns.length = 0; $("log").textContent = ""; };
if (params.has("prompt")) send(params.get("prompt"));
</script>
</body>
</html>
)PAGE";

}  // namespace

std::string_view ChatPageHtml() { return kPage; }

}  // namespace vkg::serve
