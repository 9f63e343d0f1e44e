// `rebound serve`: the embedded server from the command line. Prints the URL
// it serves, then reads fault commands from stdin (one per line). With
// --leases/--leases-file it serves the Lease API (list, watch, discovery for
// kubectl); --client-ca, --token, --read-token and --basic-auth make /api and
// /apis authenticate like a kube-apiserver; --watch-window, --watch-log and
// --bookmark-interval shape watches. Commands on stdin:
//   goaway [LAST_STREAM_ID]  refuse on|off  reset N  drop N  busy N [SECONDS [STATUS]]
//   kill  restart  stop  stats
#include "common.hpp"
#include "duration.hpp"

#include <rebound/lease_server/lease_store.hpp>
#include <rebound/server/server.hpp>

#include <csignal>
#include <iostream>
#include <sstream>
#include <thread>

namespace rebound::cli {
namespace {

struct ServeFlags {
  server::ServerOptions options;
  bool h1_only = false;
  bool leases = false;
  std::string leases_file;
  bool leases_reset = false;
  std::size_t watch_window = 1000;
  std::string watch_log;
  std::string bookmark_interval = "5s";
  std::string max_lease_duration;  // empty: 15s with --leases, none with --leases-file
};


void handle_command(server::Server& s, const std::string& line) {
  std::istringstream in(line);
  std::string cmd;
  in >> cmd;
  if (cmd == "goaway") {
    std::int32_t last = -1;
    in >> last;
    s.send_goaway(last);
  } else if (cmd == "refuse") {
    std::string on;
    in >> on;
    s.refuse_streams(on != "off");
  } else if (cmd == "reset") {
    int n = 1;
    in >> n;
    s.reset_next_streams(n);
  } else if (cmd == "drop") {
    int n = 1;
    in >> n;
    s.drop_next_requests(n);
  } else if (cmd == "busy") {
    int n = 1, seconds = 1, status = 429;
    if (int v; in >> v) n = v;
    if (int v; in >> v) seconds = v;
    if (int v; in >> v) status = v;
    s.answer_busy_next(n, seconds, status);
  } else if (cmd == "kill") {
    s.kill();
  } else if (cmd == "restart") {
    s.restart();
  } else if (cmd == "stop") {
    s.stop();
  } else if (cmd == "stats") {
    const auto st = s.stats();
    std::cout << "connections " << st.connections_accepted << " requests " << st.requests << std::endl;
    return;
  } else if (!cmd.empty()) {
    std::cerr << "rebound serve: unknown command \"" << cmd
              << "\" (goaway [id], refuse on|off, reset N, drop N, busy N [SECONDS [STATUS]], kill, restart, stop, stats)" << std::endl;
    return;
  }
  if (!cmd.empty()) std::cout << "ok " << cmd << std::endl;
}

int run(ServeFlags& f) {
  f.options.http2 = !f.h1_only;
  server::Server s(f.options);
  try {
    if (f.leases || !f.leases_file.empty()) {
      lease::LeaseStoreOptions o;
      o.persist_path = f.leases_file;
      o.move_aside_corrupt_file = f.leases_reset;
      o.watch_window = f.watch_window;
      o.watch_log = f.watch_log;
      const auto interval = parse_duration(f.bookmark_interval);
      if (!interval || interval->count() <= 0)
        throw std::runtime_error("--bookmark-interval: not a positive duration: " + f.bookmark_interval);
      o.bookmark_interval = *interval;
      // In memory every restart forgets every lease: 15 s, client-go's
      // default lease, unless told. A file keeps them: no limit unless told.
      const std::string max_text = !f.max_lease_duration.empty() ? f.max_lease_duration
                                   : f.leases_file.empty()       ? "15s"
                                                                 : "0";
      const auto max_duration =
          max_text == "0" ? std::optional(std::chrono::milliseconds(0)) : parse_duration(max_text);
      if (!max_duration || max_duration->count() < 0 || max_duration->count() % 1000 != 0)
        throw std::runtime_error("--max-lease-duration: not a whole number of seconds: " + max_text);
      if (max_duration->count() > 0)
        o.max_lease_duration = std::chrono::duration_cast<std::chrono::seconds>(*max_duration);
      const auto store = lease::install_lease_api(s, std::move(o));
      if (f.leases_file.empty() && max_duration->count() > 0)
        std::cerr << "rebound serve: leases in memory: writes are held for " << max_text
                  << " after this start, until any lease a previous run held has expired (--max-lease-duration; "
                     "--leases-file keeps them instead)"
                  << std::endl;
      if (const auto& aside = store->corrupt_file_moved_to(); !aside.empty())
        std::cerr << "rebound serve: " << f.leases_file << " was corrupt: moved it aside to " << aside
                  << " and started with no leases" << std::endl;
    }
    s.start();
  } catch (const lease::LeaseFileCorrupt& e) {
    // The way out, since the store cannot choose for the user between
    // repairing the file and forgetting every lease in it.
    std::cerr << "rebound serve: " << e.what() << "\n"
              << "rebound serve: to start with no leases, run again with --leases-reset: the file is moved aside to "
              << f.leases_file << ".corrupt-<time> (kept, not deleted)\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "rebound serve: " << e.what() << "\n";
    return 1;
  }
  std::cout << s.url() << std::endl;
  serve_until_signalled([&s](const std::string& line) { handle_command(s, line); });
  s.stop(std::chrono::seconds(2));
  std::_Exit(0);
}

}  // namespace

void add_serve(CLI::App& root) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* app = root.add_subcommand("serve", "Run the embedded test server (HTTP/1.1, h2, h2c) with fault controls on stdin");
  app->add_option("--host", flags->options.host, "Address to listen on")->capture_default_str();
  app->add_option("-p,--port", flags->options.port, "Port (0 picks a free one)")->capture_default_str();
  app->add_flag("--tls", flags->options.tls, "Serve TLS (ALPN h2 and http/1.1); a self-signed cert unless --cert");
  app->add_option("--cert", flags->options.cert_file, "PEM certificate")->check(CLI::ExistingFile);
  app->add_option("--key", flags->options.key_file, "PEM private key")->check(CLI::ExistingFile);
  app->add_flag("--h2c", [](std::int64_t) {}, "Accept h2c prior knowledge on plain TCP (always on; kept for clarity)");
  app->add_flag("--http1.1", flags->h1_only, "Serve HTTP/1.1 only");
  app->add_option("--max-concurrent-streams", flags->options.max_concurrent_streams,
                  "HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS")->capture_default_str();
  app->add_option("--threads", flags->options.threads, "I/O threads")->capture_default_str();
  app->add_option("--request-log", flags->options.request_log,
                  "Append \"METHOD TARGET X-REQUEST-ID\" per request to this file before its handler runs "
                  "(survives kill -9)");
  app->add_option("--client-ca", flags->options.client_ca_file,
                  "With --tls: require client certificates verified against this PEM CA bundle (the handshake "
                  "fails without one); the certificate's CN is the user when no Authorization header is sent")
      ->check(CLI::ExistingFile);
  app->add_option("--token", flags->options.bearer_tokens,
                  "Requests under /api and /apis must carry \"Authorization: Bearer T\" (repeatable; 401 Status "
                  "otherwise)");
  app->add_option("--read-token", flags->options.read_only_tokens,
                  "A bearer token that may get, list and watch but not write (403 Forbidden Status; repeatable)");
  app->add_option("--basic-auth", flags->options.basic_auth,
                  "USER:PASSWORD accepted as HTTP basic auth under /api and /apis (repeatable)");
  app->add_flag("--leases", flags->leases, "Serve the Kubernetes Lease API (coordination.k8s.io/v1) in memory");
  auto* leases_file = app->add_option("--leases-file", flags->leases_file,
                                      "Serve the Lease API and keep leases in this JSON file across restarts (like "
                                      "etcd); one server per file at a time");
  app->add_flag("--leases-reset", flags->leases_reset,
                "If the --leases-file is corrupt, move it aside to FILE.corrupt-<time> and start with no leases (a "
                "leader still running learns of it only at its next renewal: give --max-lease-duration to hold "
                "writes until its lease has expired); a file that loads is used as it is")
      ->needs(leases_file);
  app->add_option("--watch-window", flags->watch_window,
                  "Lease changes kept for watches that resume; an older resourceVersion gets 410 Expired")
      ->capture_default_str();
  app->add_option("--watch-log", flags->watch_log,
                  "Append \"commit TYPE NS/NAME RV\" per committed Lease change and \"WATCH-ID TYPE NS/NAME RV\" "
                  "per event sent on a watch to this file (one write(2) per line; survives kill -9)");
  app->add_option("--max-lease-duration", flags->max_lease_duration,
                  "The longest leaseDurationSeconds a write may set (longer: 422); when the server starts without "
                  "its leases (--leases, or a file moved aside by --leases-reset) writes are held that long (503, "
                  "Retry-After), so no candidate takes over from a holder the server forgot. Default: 15s with "
                  "--leases, none with --leases-file; 0: no limit and no hold");
  app->add_option("--bookmark-interval", flags->bookmark_interval,
                  "How often watches with allowWatchBookmarks get a BOOKMARK (e.g. 500ms, 5s)")
      ->capture_default_str();
  app->callback([flags] { throw CLI::RuntimeError(run(*flags)); });
}

}  // namespace rebound::cli
