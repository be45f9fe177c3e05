// Beyond one server: two `vkgemma serve` processes behind nginx (Debian's, started as this user with
// its own prefix and config in a temporary directory, on loopback). 16 concurrent requests through
// nginx, streamed and not, are all answered, and both servers answered some of them.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { freePort, metrics, postJson, readEvents, startServer, tempDir, tinyModel, watchdog } from "./lib.mjs";

watchdog(300);
const dir = tempDir("nginx");
const model = tinyModel(dir);
const servers = await Promise.all([0, 1].map(() => startServer(model, ["--device", "cpu", "--parallel", "2", "--ctx", "128"])));
const port = await freePort();
const upstreams = servers.map((s) => `    server ${new URL(s.url).host};`).join("\n");
fs.writeFileSync(path.join(dir, "nginx.conf"), `
${process.getuid() === 0 ? "user root;" : ""}
worker_processes 1;
error_log ${dir}/error.log;
pid ${dir}/nginx.pid;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream vkgemma {
    least_conn;
${upstreams}
    keepalive 8;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://vkgemma;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;  # the client's, which vkgemma serve checks (not "vkgemma")
      proxy_buffering off;
      proxy_read_timeout 600s;
    }
  }
}
`);
const nginx = spawn("nginx", ["-p", dir, "-c", path.join(dir, "nginx.conf"), "-g", "daemon off;"], { stdio: ["ignore", "pipe", "pipe"] });
let nginxErr = "";
nginx.stderr.on("data", (d) => { nginxErr += d; });
process.on("exit", () => nginx.kill("SIGKILL"));
const base = `http://127.0.0.1:${port}`;
for (let i = 0; ; ++i) {  // until nginx listens
  try {
    if ((await fetch(base + "/health")).status === 200) break;
  } catch { /* not yet */ }
  assert.ok(i < 100 && nginx.exitCode === null, `nginx did not start: ${nginxErr}`);
  await new Promise((r) => setTimeout(r, 100));
}

const results = await Promise.all(Array.from({ length: 16 }, async (_, i) => {
  const body = { messages: [{ role: "user", content: `request ${i}` }], max_tokens: 8, temperature: 0, stream: i % 2 === 0 };
  if (!body.stream) {
    const r = await postJson(base + "/v1/chat/completions", body);
    assert.equal(r.status, 200, r.text);
    return r.json.choices[0].finish_reason;
  }
  const res = await fetch(base + "/v1/chat/completions", { method: "POST", headers: { "Content-Type": "application/json" },
                                                          body: JSON.stringify(body), signal: AbortSignal.timeout(120000) });
  assert.equal(res.status, 200);
  const { events, done } = await readEvents(res);
  assert.ok(done);
  return events.map((e) => e.choices[0]?.finish_reason).find(Boolean);
}));
assert.ok(results.every((f) => f === "stop" || f === "length"), JSON.stringify(results));

const served = [];
for (const s of servers) {
  const m = await metrics(s.url);
  const n = m.text.match(/vkgemma_requests_total\{endpoint="\/v1\/chat\/completions",status="200"\} (\d+)/);
  served.push(n ? Number(n[1]) : 0);
}
assert.equal(served[0] + served[1], 16, `answers per server: ${served}`);
assert.ok(served[0] > 0 && served[1] > 0, `nginx did not spread the requests: ${served}`);
nginx.kill("SIGQUIT");
for (const s of servers) assert.equal((await s.stop()).code, 0, s.stderr());
console.log(`nginx test: ok, requests per server ${served.join(" + ")}`);
