// libFuzzer harness: arbitrary server bytes (what follows the client's
// preface on the wire) into one real HTTP/2 connection (h2::make_connection,
// nghttp2) with requests in flight. Input layout and invariants:
// server_script.hpp, connection_driver.hpp.
#include "connection_driver.hpp"
#include "h2/h2_connection.hpp"

#include <csignal>

namespace {

// Limits small enough that inputs of a few KB reach them; no PING timer, so
// a run depends on the input alone, not on how long it took.
rebound::Options harness_options() {
  rebound::Options o;
  o.max_response_body = 4096;
  o.max_header_list_size = 2048;
  o.read_idle_timeout = std::chrono::milliseconds(0);
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::signal(SIGPIPE, SIG_IGN);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  static const rebound::Options options = harness_options();
  static rebound::fuzz::ConnectionDriver driver(options, rebound::Protocol::http2, rebound::h2::make_connection);
  driver.run(rebound::fuzz::parse_script(data, size));
  return 0;
}
