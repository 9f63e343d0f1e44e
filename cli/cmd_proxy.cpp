// `rebound proxy`: the TCP fault proxy from the command line. Prints the
// address it listens on ("127.0.0.1:PORT"), then reads fault commands from
// stdin (one per line):
//   pass  reset  blackhole  delay DURATION  cut N  stats
#include "common.hpp"

#include <rebound/proxy/fault_proxy.hpp>

#include <csignal>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

namespace rebound::cli {
namespace {

struct ProxyFlags {
  std::string listen = "0";  ///< PORT or HOST:PORT
  std::string to;            ///< HOST:PORT
};


/// Splits "HOST:PORT" (or a bare "PORT" when host_optional) at the last ':'.
std::optional<std::pair<std::string, std::uint16_t>> split_host_port(const std::string& text, bool host_optional) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos && !host_optional) return std::nullopt;
  const std::string host = colon == std::string::npos ? "" : text.substr(0, colon);
  const std::string port = colon == std::string::npos ? text : text.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const unsigned long value = std::stoul(port);
  if (value > 65535) return std::nullopt;
  return std::make_pair(host, static_cast<std::uint16_t>(value));
}

void handle_command(proxy::FaultProxy& p, const std::string& line) {
  std::istringstream in(line);
  std::string cmd;
  in >> cmd;
  if (cmd == "pass") {
    p.set_mode(proxy::Mode::pass);
  } else if (cmd == "reset") {
    p.set_mode(proxy::Mode::reset);
  } else if (cmd == "blackhole") {
    p.set_mode(proxy::Mode::blackhole);
  } else if (cmd == "delay") {
    std::string value;
    in >> value;
    try {
      p.set_delay(duration_or_throw("delay", value));
    } catch (const CLI::ValidationError& e) {
      std::cerr << "rebound proxy: " << e.what() << std::endl;
      return;
    }
  } else if (cmd == "cut") {
    std::uint64_t n = 0;
    if (!(in >> n)) {
      std::cerr << "rebound proxy: cut takes a byte count (0 disables)" << std::endl;
      return;
    }
    p.cut_after_bytes(n);
  } else if (cmd == "stats") {
    const auto st = p.stats();
    std::cout << "accepted " << st.accepted << " client_to_server " << st.bytes_client_to_server
              << " server_to_client " << st.bytes_server_to_client << " open " << st.open << std::endl;
    return;
  } else if (!cmd.empty()) {
    std::cerr << "rebound proxy: unknown command \"" << cmd
              << "\" (pass, reset, blackhole, delay DURATION, cut N, stats)" << std::endl;
    return;
  }
  if (!cmd.empty()) std::cout << "ok " << cmd << std::endl;
}

int run(const ProxyFlags& f) {
  const auto listen = split_host_port(f.listen, true);
  const auto to = split_host_port(f.to, false);
  if (!listen) throw CLI::ValidationError("--listen", "expected PORT or HOST:PORT, got \"" + f.listen + "\"");
  if (!to || to->first.empty()) throw CLI::ValidationError("--to", "expected HOST:PORT, got \"" + f.to + "\"");

  proxy::ProxyOptions options;
  if (!listen->first.empty()) options.listen_host = listen->first;
  options.listen_port = listen->second;
  options.target_host = to->first;
  options.target_port = to->second;
  proxy::FaultProxy p(options);
  try {
    p.start();
  } catch (const std::exception& e) {
    std::cerr << "rebound proxy: " << e.what() << "\n";
    return 1;
  }
  std::cout << options.listen_host << ":" << p.port() << std::endl;
  serve_until_signalled([&p](const std::string& line) { handle_command(p, line); });
  p.stop();
  std::_Exit(0);
}

}  // namespace

void add_proxy(CLI::App& root) {
  auto flags = std::make_shared<ProxyFlags>();
  CLI::App* app = root.add_subcommand("proxy", "Run a TCP fault proxy (reset, blackhole, delay, cut) with controls on stdin");
  app->add_option("--listen", flags->listen, "PORT or HOST:PORT to listen on (port 0 picks a free one)")
      ->capture_default_str();
  app->add_option("--to", flags->to, "HOST:PORT to forward to")->required();
  app->callback([flags] { throw CLI::RuntimeError(run(*flags)); });
}

}  // namespace rebound::cli
