// The embedded chat page (layer: host/serve). Plain DOM and fetch(); the reply is read from the
// response body stream as server-sent events ("data: {json}" lines, "data: [DONE]" at the end).
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
</style>
</head>
<body data-state="idle">
<header><b>vkgemma</b><span id="model"></span>
  <label>API key <input id="key" type="password" autocomplete="off"></label>
  <button id="reset" type="button">New chat</button></header>
<div id="log"></div>
<form id="form"><textarea id="input" placeholder="Message (Enter sends, Shift+Enter: new line)"></textarea>
  <button id="send">Send</button><button id="stop" type="button" disabled>Stop</button></form>
<script>
"use strict";
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const turns = [];
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

async function send(text) {
  turns.push({ role: "user", content: text });
  bubble("user", text);
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
