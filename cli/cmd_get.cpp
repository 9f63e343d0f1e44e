// `rebound get URL`: a curl-like single request. Streams the body to stdout
// as it arrives (bounded by --max-filesize); -v narrates connections and
// the exchange on stderr. Exit codes name the failure's class (--help).
#include "common.hpp"

#include <boost/asio/ip/address.hpp>

#include <iostream>
#include <mutex>
#include <optional>

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
  std::uint64_t max_filesize = 0;  // 0: no cap beyond the library's default
  std::optional<std::string> proxy;  // -x: overrides the environment; "" means none (as curl)
  std::vector<std::string> resolve;  // --resolve host:port:addr[,addr...]
  ClientFlags client;
};

// curl's form: HOST:PORT:ADDR[,ADDR...], an IPv6 address in brackets.
ResolveOverride parse_resolve(const std::string& flag) {
  const auto bad = [&](const std::string& why) {
    return CLI::ValidationError("--resolve", "\"" + flag + "\": " + why + " (expected HOST:PORT:ADDR[,ADDR...])");
  };
  const auto first = flag.find(':');
  const auto second = first == std::string::npos ? first : flag.find(':', first + 1);
  if (second == std::string::npos || first == 0) throw bad("missing a part");
  ResolveOverride r;
  r.host = flag.substr(0, first);
  const std::string port = flag.substr(first + 1, second - first - 1);
  try {
    std::size_t used = 0;
    const unsigned long p = std::stoul(port, &used);
    if (used != port.size() || p == 0 || p > 65535) throw bad("bad port");
    r.port = static_cast<std::uint16_t>(p);
  } catch (const std::logic_error&) {
    throw bad("bad port");
  }
  std::string rest = flag.substr(second + 1);
  for (std::size_t start = 0; start <= rest.size();) {
    auto end = rest.find(',', start);
    if (end == std::string::npos) end = rest.size();
    std::string a = rest.substr(start, end - start);
    if (a.size() >= 2 && a.front() == '[' && a.back() == ']') a = a.substr(1, a.size() - 2);
    boost::system::error_code ec;
    boost::asio::ip::make_address(a, ec);
    if (ec) throw bad("\"" + a + "\" is not an IP address");
    r.addresses.push_back(a);
    start = end + 1;
  }
  return r;
}

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
  ClientSetup setup = f.client.setup();
  Options options = std::move(setup.options);
  if (f.verbose) options.on_event = print_event;
  Request request(f.method.empty() ? (f.data.empty() ? "GET" : "POST") : f.method, setup.url(f.url));
  add_header_flags(request, f.headers);
  if (!f.data.empty()) {
    request.body(f.data);
    if (!request.headers().contains("content-type"))
      request.header("content-type", "application/x-www-form-urlencoded");
  }
  // The body goes to stdout as it arrives, unless -i must print the headers
  // first (they come with the complete response): then it is held, bounded.
  const bool stream = !f.include;
  if (f.max_filesize > 0) options.max_response_body = f.max_filesize;
  for (const auto& r : f.resolve) options.resolve.push_back(parse_resolve(r));
  if (f.proxy) {
    options.proxy.url = *f.proxy;
    options.proxy.use_environment = !f.proxy->empty() && options.proxy.use_environment;
  }
  Cancellation cancel;
  auto streamed = std::make_shared<std::uint64_t>(0);
  auto over_limit = std::make_shared<bool>(false);
  if (stream) {
    const std::uint64_t cap = options.max_response_body;
    request.cancellation(cancel).on_body([cancel, cap, streamed, over_limit](std::string_view chunk) mutable {
      if (*over_limit) return;
      if (*streamed + chunk.size() > cap) {  // an endless body ends here, not in memory
        *over_limit = true;
        cancel.cancel();
        return;
      }
      *streamed += chunk.size();
      std::cout.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    });
  }
  Client client(std::move(options));
  auto res = client.send(std::move(request));
  std::cout.flush();
  if (*over_limit) {
    // Named as the library names the class (exit 63), so stderr says the
    // same thing whichever side noticed the limit first.
    std::cerr << "rebound get: response too large: body over "
              << (f.max_filesize ? f.max_filesize : Options{}.max_response_body)
              << " bytes (--max-filesize); stopped after " << *streamed << " bytes\n";
    return exit_code_for(Error(errc::response_too_large));
  }
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
  if (!stream) std::cout.write(res->body().data(), static_cast<std::streamsize>(res->body().size()));
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
  app->add_option("url", flags->url, "http:// or https:// URL (with --kubeconfig/--context: or a path on its server)")
      ->required();
  app->add_option("-X,--request", flags->method, "Method (default GET, or POST with -d)");
  app->add_option("-H,--header", flags->headers, "Extra header \"Name: value\" (repeatable)");
  app->add_option("-d,--data", flags->data, "Request body (makes the default method POST)");
  app->add_flag("-v,--verbose", flags->verbose, "Narrate connections and the exchange on stderr");
  app->add_flag("-i,--include", flags->include, "Print the status line and headers before the body");
  app->add_flag("-f,--fail", flags->fail, "Exit 22 when the status is 400 or above");
  app->add_option("-x,--proxy", flags->proxy,
                  "Proxy: http://[user:pass@]host:port, socks5://, socks5h:// (overrides HTTP(S)_PROXY; \"\": none)");
  app->add_option("--resolve", flags->resolve,
                  "HOST:PORT:ADDR[,ADDR...]: connect there instead of resolving HOST (repeatable; the URL's "
                  "name still goes in SNI and is verified)");
  app->add_option("--max-filesize", flags->max_filesize,
                  "Stop and exit 63 when the response body exceeds this many bytes (default 1 GiB)");
  app->footer(exit_codes_help());
  flags->client.add_to(*app);
  app->callback([flags] { throw CLI::RuntimeError(with_config_errors("get", [&] { return run(*flags); })); });
}

}  // namespace rebound::cli
