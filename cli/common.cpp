// Shared client flags, durations and exit codes.
#include "common.hpp"

#include "duration.hpp"

#include <rebound/kube/in_cluster.hpp>
#include <rebound/kube/kubeconfig.hpp>

#include <csignal>
#include <iostream>
#include <thread>

namespace rebound::cli {

CLI::Option* add_duration(CLI::App& app, const std::string& name, std::string& value, const std::string& help) {
  return app.add_option(name, value, help + " (units: ms, s, m)")
      ->capture_default_str()
      ->check([](const std::string& v) {
        return parse_duration(v) ? std::string() : "expected a duration like 200ms, 2s or 1m, got \"" + v + "\"";
      });
}

std::chrono::milliseconds duration_or_throw(const std::string& flag, const std::string& value) {
  auto d = parse_duration(value);
  if (!d) throw CLI::ValidationError(flag, "expected a duration like 200ms or 2s, got \"" + value + "\"");
  return *d;
}

void ClientFlags::add_to(CLI::App& app) {
  app.add_flag("-k,--insecure", insecure, "Do not verify the server's certificate");
  app.add_option("--cacert", cacert, "PEM file of CAs to trust instead of the system store")->check(CLI::ExistingFile);
  app.add_option("--cert", cert, "Client certificate, PEM (chain included; may hold the key too)")->check(CLI::ExistingFile);
  app.add_option("--key", key, "Private key of --cert, PEM (default: the --cert file)")->check(CLI::ExistingFile);
  app.add_option("--kubeconfig", kubeconfig,
                 "Use this kubeconfig's current context (server, CA, client certificate, credentials); the URL "
                 "may then be a path like /apis/... (exit 2 when it cannot be used)");
  app.add_option("--context", context,
                 "Use this kubeconfig context (with --kubeconfig, or the KUBECONFIG / ~/.kube/config files)");
  app.add_flag("--http1.1", http1_only, "Speak HTTP/1.1 only");
  app.add_flag("--http2-prior-knowledge", http2_prior_knowledge,
               "Speak HTTP/2 without negotiation (h2c over http://, require ALPN h2 over https://)");
  add_duration(app, "--connect-timeout", connect_timeout, "Time allowed to connect (TCP + TLS)");
  add_duration(app, "--timeout", timeout, "Time allowed for each request, retries included");
  add_duration(app, "--read-idle-timeout", read_idle_timeout, "HTTP/2: send a PING after this long without input");
  add_duration(app, "--ping-timeout", ping_timeout, "HTTP/2: close the connection when a PING is not answered in this");
}

void ClientFlags::add_in_cluster_flag(CLI::App& app) {
  app.add_flag("--in-cluster", in_cluster,
               "Use the pod's service account (KUBERNETES_SERVICE_HOST/PORT, token, CA, namespace; exit 2 "
               "when not in a cluster)");
}

ClientSetup ClientFlags::setup() const {
  if (!key.empty() && cert.empty()) throw CLI::ValidationError("--key", "needs --cert");
  if (in_cluster && (!kubeconfig.empty() || !context.empty()))
    throw CLI::ValidationError("--in-cluster", "cannot be combined with --kubeconfig or --context");
  ClientSetup s;
  Options& o = s.options;
  if (in_cluster)
    s.cluster = kube::in_cluster_config();
  else if (!kubeconfig.empty() || !context.empty())
    s.cluster = kube::load_kubeconfig({.path = kubeconfig, .context = context});
  if (s.cluster) s.cluster->apply_to(o);
  // Flags override the cluster's settings, as kubectl's do.
  if (!cacert.empty()) {
    // kubectl's rule: a CA given here is what the server must prove itself
    // against, whatever the kubeconfig said about skipping verification.
    o.tls.ca_file = cacert;
    o.tls.ca_pem.clear();
    o.tls.verify_peer = true;
  }
  if (insecure) o.tls.verify_peer = false;
  if (!cert.empty()) {
    o.tls.cert_file = cert;
    o.tls.key_file = key.empty() ? cert : key;
    o.tls.cert_pem.clear();
    o.tls.key_pem.clear();
  }
  if (http1_only) o.http_version = HttpVersion::http1_only;
  if (http2_prior_knowledge) o.http_version = HttpVersion::http2_prior_knowledge;
  o.connect_timeout = duration_or_throw("--connect-timeout", connect_timeout);
  o.request_timeout = duration_or_throw("--timeout", timeout);
  o.read_idle_timeout = duration_or_throw("--read-idle-timeout", read_idle_timeout);
  o.ping_timeout = duration_or_throw("--ping-timeout", ping_timeout);
  return s;
}

Options ClientFlags::to_options() const { return setup().options; }

std::string ClientSetup::url(const std::string& arg) const { return cluster ? cluster->url(arg) : arg; }

int with_config_errors(const std::string& command, const std::function<int()>& body) {
  try {
    return body();
  } catch (const kube::ConfigError& e) {
    std::cerr << "rebound " << command << ": " << e.what() << "\n";
    return exit_config_error;
  }
}

void add_header_flags(Request& request, const std::vector<std::string>& headers) {
  for (const auto& h : headers) {
    const auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0)
      throw CLI::ValidationError("-H", "expected \"Name: value\", got \"" + h + "\"");
    std::string value = h.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    request.header(h.substr(0, colon), value);
  }
}

namespace {
volatile std::sig_atomic_t stop_requested = 0;
}

void serve_until_signalled(const std::function<void(const std::string& line)>& on_command) {
  std::signal(SIGINT, [](int) { stop_requested = 1; });
  std::signal(SIGTERM, [](int) { stop_requested = 1; });
  std::thread commands([on_command] {
    std::string line;
    while (std::getline(std::cin, line)) on_command(line);
  });
  commands.detach();  // stdin may never close
  while (!stop_requested) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

// curl's numbers where curl has the same class, so scripts port over.
int exit_code_for(const Error& e) {
  const error_code& ec = e.code();
  if (ec == errc::invalid_url || ec == errc::invalid_request) return 3;
  if (ec == errc::unsupported_scheme) return 1;
  if (ec == errc::credentials_failed) return exit_config_error;
  if (ec == errc::tls_configuration || ec == errc::client_certificate_rejected) return 58;
  if (ec == errc::resolve_failed) return 6;
  if (ec == errc::connection_refused) return 7;
  if (is_timeout(ec)) return 28;
  if (ec == errc::certificate_verify_failed) return 60;
  if (ec == errc::tls_handshake_failed) return 35;
  if (ec == errc::protocol_error || ec == errc::protocol_negotiation_failed) return 8;
  if (ec == errc::stream_reset || ec == errc::refused_by_server) return 16;
  if (ec == errc::response_too_large) return 63;
  if (ec == errc::truncated_response) return 18;
  if (ec == errc::connection_lost_after_send) return 52;
  return 56;
}

std::string exit_codes_help() {
  return "Exit codes (as curl's where the class matches):\n"
         "  0  response received (any status unless -f)   22 status >= 400 with -f\n"
         "  2  the kubeconfig or in-cluster config could not be used (file and key on stderr),\n"
         "     or its credentials not obtained (an exec plugin failed)\n"
         "  1  unsupported scheme      3  malformed URL or request   6  host did not resolve\n"
         "  7  connection refused      8  the server broke HTTP/1.1 or HTTP/2 (named on stderr)\n"
         " 16  stream reset or refused by the server    18  connection lost mid-response\n"
         " 28  a time limit passed (connect, deadline, header timeout, health check)\n"
         " 35  TLS handshake failed   52  no response after the request was sent\n"
         " 56  other connection failure   60  certificate did not verify\n"
         " 58  the client certificate or key could not be loaded, or the server refused it\n"
         " 63  response header or body over its limit (--max-filesize)";
}

}  // namespace rebound::cli
