// `rebound get URL`: a curl-like single request. Prints the body to stdout;
// -v narrates connections and the exchange on stderr.
#include "common.hpp"

#include <iostream>
#include <mutex>

namespace rebound::cli {
namespace {

struct GetFlags {
  std::string url;
  std::string method;
  std::vector<std::string> headers;
  std::string data;
  bool verbose = false;
  bool include = false;
  bool fail = false;
  ClientFlags client;
};

void print_event(const Event& e) {
  static std::mutex m;  // events may come from the I/O thread while main prints
  std::lock_guard lock(m);
  std::cerr << "* " << to_string(e.kind);
  if (e.connection) std::cerr << " conn #" << e.connection;
  if (e.kind == EventKind::dial_done) std::cerr << " protocol " << to_string(e.protocol);
  if (!e.detail.empty()) std::cerr << ": " << e.detail;
  std::cerr << "\n";
}

int run(const GetFlags& f) {
  Options options = f.client.to_options();
  if (f.verbose) options.on_event = print_event;
  Request request(f.method.empty() ? (f.data.empty() ? "GET" : "POST") : f.method, f.url);
  add_header_flags(request, f.headers);
  if (!f.data.empty()) {
    request.body(f.data);
    if (!request.headers().contains("content-type"))
      request.header("content-type", "application/x-www-form-urlencoded");
  }
  Client client(std::move(options));
  auto res = client.send(std::move(request));
  if (!res) {
    std::cerr << "rebound get: " << res.error().message() << "\n";
    return exit_code_for(res.error());
  }
  if (f.verbose) {
    std::cerr << "< " << to_string(res->protocol()) << " " << res->status() << " (conn #" << res->connection_id()
              << (res->reused_connection() ? ", reused" : ", new") << ", attempts " << res->attempts() << ")\n";
    for (const auto& [n, v] : res->headers()) std::cerr << "< " << n << ": " << v << "\n";
  }
  if (f.include) {
    std::cout << to_string(res->protocol()) << " " << res->status() << "\r\n";
    for (const auto& [n, v] : res->headers()) std::cout << n << ": " << v << "\r\n";
    std::cout << "\r\n";
  }
  std::cout.write(res->body().data(), static_cast<std::streamsize>(res->body().size()));
  std::cout.flush();
  if (f.fail && res->status() >= 400) {
    std::cerr << "rebound get: the server answered " << res->status() << "\n";
    return exit_http_error;
  }
  return 0;
}

}  // namespace

void add_get(CLI::App& root) {
  auto flags = std::make_shared<GetFlags>();
  CLI::App* app = root.add_subcommand("get", "Send one request and print the response body (like curl)");
  app->add_option("url", flags->url, "http:// or https:// URL")->required();
  app->add_option("-X,--request", flags->method, "Method (default GET, or POST with -d)");
  app->add_option("-H,--header", flags->headers, "Extra header \"Name: value\" (repeatable)");
  app->add_option("-d,--data", flags->data, "Request body (makes the default method POST)");
  app->add_flag("-v,--verbose", flags->verbose, "Narrate connections and the exchange on stderr");
  app->add_flag("-i,--include", flags->include, "Print the status line and headers before the body");
  app->add_flag("-f,--fail", flags->fail, "Exit 22 when the status is 400 or above");
  flags->client.add_to(*app);
  app->callback([flags] { throw CLI::RuntimeError(run(*flags)); });
}

}  // namespace rebound::cli
