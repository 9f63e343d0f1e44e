// `rebound get URL`: a curl-like single request. Streams the body to stdout
// as it arrives (bounded by --max-filesize); -v narrates connections and
// the exchange on stderr. Exit codes name the failure's class (--help).
#include "common.hpp"

#include <boost/asio/ip/address.hpp>

#include <openssl/evp.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
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
  std::string output;                // -o FILE
  bool location = false;             // -L
  int max_redirs = 50;               // curl's default
  bool compressed = false;
  std::string write_out;             // -w FORMAT
  std::string user;                  // -u user:pass
  std::string upload_file;           // -T FILE
  std::optional<int> retry;          // --retry N
  ClientFlags client;
};

// RFC 4648 base64, for -u: OpenSSL's encoder, as the library's
// credentials::basic uses.
std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// What -w may name, gathered while the request runs.
struct WriteOutFacts {
  std::atomic<int> connects{0};
  std::mutex mutex;
  std::string remote_ip;  // guarded by mutex: the last connection's address
};

// The address in a dial_done event's detail ("... to 127.0.0.1:8080", or
// "at" through a proxy), without its port.
std::string remote_ip_of(const std::string& detail) {
  for (const char* marker : {" to ", " at "}) {
    const auto at = detail.rfind(marker);
    if (at == std::string::npos) continue;
    std::string addr = detail.substr(at + 4);
    addr = addr.substr(0, addr.find(' '));
    if (!addr.empty() && addr.front() == '[') return addr.substr(1, addr.find(']') - 1);
    return addr.substr(0, addr.rfind(':'));
  }
  return "";
}

// curl's -w: %{http_code} %{time_total} %{num_connects} %{remote_ip}
// %{url_effective}, and \n \t \r escapes; an unknown variable stays as written.
std::string expand_write_out(const std::string& format, const Result<Response>& res, double seconds,
                             WriteOutFacts& facts, const std::string& url) {
  std::string out;
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] == '\\' && i + 1 < format.size()) {
      const char c = format[++i];
      out += c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
      continue;
    }
    const auto end = format.find('}', i);
    if (format.compare(i, 2, "%{") != 0 || end == std::string::npos) {
      out += format[i];
      continue;
    }
    const std::string name = format.substr(i + 2, end - i - 2);
    if (name == "http_code") out += res ? std::to_string(res->status()) : "000";
    else if (name == "time_total") {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6f", seconds);
      out += buf;
    } else if (name == "num_connects") out += std::to_string(facts.connects.load());
    else if (name == "remote_ip") {
      std::lock_guard lock(facts.mutex);
      out += facts.remote_ip;
    } else if (name == "url_effective") out += res && !res->url().empty() ? res->url() : url;
    else {
      out += format.substr(i, end - i + 1);
    }
    i = end;
  }
  return out;
}

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
  auto facts = std::make_shared<WriteOutFacts>();
  options.on_event = [facts, verbose = f.verbose](const Event& e) {
    if (e.kind == EventKind::dial_done) {
      ++facts->connects;
      std::lock_guard lock(facts->mutex);
      facts->remote_ip = remote_ip_of(e.detail);
    }
    if (verbose) print_event(e);
  };
  const std::string default_method = !f.upload_file.empty() ? "PUT" : f.data.empty() ? "GET" : "POST";
  Request request(f.method.empty() ? default_method : f.method, setup.url(f.url));
  add_header_flags(request, f.headers);
  // Files are streamed, and replayable: a retry or a 307 sends the same bytes.
  const auto from_file = [](const std::string& path) {
    if (!std::filesystem::is_regular_file(path))
      throw CLI::ValidationError("upload", "\"" + path + "\" is not a readable file");
    return path;
  };
  if (!f.upload_file.empty()) {
    request.body_file(from_file(f.upload_file));
  } else if (!f.data.empty()) {
    if (f.data.front() == '@') request.body_file(from_file(f.data.substr(1)));
    else request.body(f.data);
    if (!request.headers().contains("content-type"))
      request.header("content-type", "application/x-www-form-urlencoded");
  }
  if (!f.user.empty() && !request.headers().contains("authorization"))
    request.header("authorization", "Basic " + base64(f.user.find(':') == std::string::npos ? f.user + ":" : f.user));
  if (f.location) options.redirects = RedirectPolicy::follow(f.max_redirs);
  if (f.compressed) options.decompress = true;
  if (f.retry) options.max_attempts = *f.retry + 1;
  std::ofstream file;
  if (!f.output.empty()) {
    file.open(f.output, std::ios::binary | std::ios::trunc);
    if (!file) throw CLI::ValidationError("-o", "cannot write \"" + f.output + "\"");
  }
  std::ostream& body_out = f.output.empty() ? std::cout : file;
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
    request.cancellation(cancel).on_body([cancel, cap, streamed, over_limit, &body_out](std::string_view chunk) mutable {
      if (*over_limit) return;
      if (*streamed + chunk.size() > cap) {  // an endless body ends here, not in memory
        *over_limit = true;
        cancel.cancel();
        return;
      }
      *streamed += chunk.size();
      body_out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    });
  }
  const std::string url = request.url();
  const auto started = std::chrono::steady_clock::now();
  Client client(std::move(options));
  auto res = client.send(std::move(request));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  body_out.flush();
  // -w comes last, after the body, on every way out below.
  struct AtExit {
    std::function<void()> f;
    ~AtExit() { f(); }
  } write_out{[&] {
    if (f.write_out.empty()) return;
    std::cout << expand_write_out(f.write_out, res, seconds, *facts, url);
    std::cout.flush();
  }};
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
    body_out << to_string(res->protocol()) << " " << res->status() << "\r\n";
    for (const auto& [n, v] : res->headers()) body_out << n << ": " << v << "\r\n";
    body_out << "\r\n";
  }
  if (!stream) body_out.write(res->body().data(), static_cast<std::streamsize>(res->body().size()));
  body_out.flush();
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
  app->add_option("-d,--data", flags->data,
                  "Request body, or @FILE to stream a file's bytes as they are (makes the default method POST)");
  app->add_option("-T,--upload-file", flags->upload_file,
                  "Upload FILE, streamed in constant memory and resent whole on a retry (default method PUT)");
  app->add_option("-o,--output", flags->output, "Write the body to FILE instead of stdout");
  app->add_flag("-L,--location", flags->location, "Follow redirects (Authorization and cookies not sent to another origin)");
  app->add_option("--max-redirs", flags->max_redirs, "With -L: at most this many redirects, one more is an error (default 50; 0: none followed)");
  app->add_flag("--compressed", flags->compressed, "Ask for gzip, br or zstd and decode the answer as it streams");
  app->add_option("-w,--write-out", flags->write_out,
                  "Print after the transfer: %{http_code} %{time_total} %{num_connects} %{remote_ip} %{url_effective}");
  app->add_option("-u,--user", flags->user, "USER:PASSWORD for basic authentication");
  app->add_option("--retry", flags->retry,
                  "At most N retries (max attempts N+1) under rebound's retry table (default: the library's 3)");
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
