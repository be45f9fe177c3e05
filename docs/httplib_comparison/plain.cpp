// Plain cpp-httplib server (no vkgemma layer): 8 pool threads, 4 KiB payload limit.
#include <httplib.h>
#include <cstdio>
int main(int argc, char** argv) {
  httplib::Server s;
  s.new_task_queue = [] { return new httplib::ThreadPool(8); };
  s.set_payload_max_length(4096);
  s.Get("/health", [](const httplib::Request&, httplib::Response& r) { r.set_content("ok", "text/plain"); });
  s.Post("/echo", [](const httplib::Request& q, httplib::Response& r) {
    r.set_content(std::to_string(q.body.size()), "text/plain");
  });
  int port = s.bind_to_any_port("127.0.0.1");
  std::printf("%d\n", port);
  std::fflush(stdout);
  s.listen_after_bind();
}
