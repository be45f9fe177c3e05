# Three attacks against a plain cpp-httplib server (port on stdin line): pipelining, chunked body
# over the limit, 8 trickling sockets vs /health. Loopback only, bounded in time.
import socket, subprocess, sys, time, resource
exe = sys.argv[1]
p = subprocess.Popen([exe], stdout=subprocess.PIPE, text=True)
port = int(p.stdout.readline())
def conn():
    s = socket.create_connection(("127.0.0.1", port)); s.settimeout(3); return s
def readall(s):
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d: break
            out += d
    except socket.timeout: pass
    return out
s = conn()
s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" * 2 + b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
print("pipelined 3 requests -> replies:", readall(s).count(b"HTTP/1.1 200"))
s = conn()
s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
sent = 0
t = time.time()
try:
    for i in range(4096):  # 4 MiB in 1 KiB chunks against a 4 KiB limit
        s.sendall(b"400\r\n" + b"x" * 1024 + b"\r\n"); sent += 1024
    s.sendall(b"0\r\n\r\n")
except OSError: pass
r = readall(s)
print("chunked: sent %d KiB before the server stopped reading; reply %r" % (sent // 1024, r[:12]))
tricklers = [conn() for _ in range(8)]
for t_ in tricklers: t_.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-a: ")
time.sleep(0.3)
h = conn(); h.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
t = time.time(); r = readall(h)
print("/health with 8 trickling sockets (pool of 8): %r after %.1f s" % (r[:15], time.time() - t))
p.kill()
