// Uses the installed library: parses a URL, and sends one request when given
// a URL on the command line.
#include <rebound/rebound.hpp>

#include <iostream>

int main(int argc, char** argv) {
  auto url = rebound::parse_url("https://[::1]:8443/x");
  if (!url || url->port() != 8443) return 1;
  if (argc < 2) return 0;
  rebound::Client client;
  auto res = client.get(argv[1]);
  if (!res) {
    std::cerr << res.error().message() << "\n";
    return 1;
  }
  std::cout << res->status() << " " << res->body().size() << "\n";
  return res->status() == 200 ? 0 : 1;
}
