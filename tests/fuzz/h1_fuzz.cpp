// libFuzzer harness: arbitrary server bytes into one real HTTP/1.1
// connection (h1::make_connection) with requests in flight. Input layout and
// invariants: server_script.hpp, connection_driver.hpp.
#include "connection_driver.hpp"
#include "h1/h1_connection.hpp"

#include <csignal>

namespace {

// Limits small enough that inputs of a few KB reach them.
rebound::Options harness_options() {
  rebound::Options o;
  o.max_response_body = 4096;
  o.max_header_list_size = 2048;
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::signal(SIGPIPE, SIG_IGN);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  static const rebound::Options options = harness_options();
  static rebound::fuzz::ConnectionDriver driver(options, rebound::Protocol::http1, rebound::h1::make_connection);
  driver.run(rebound::fuzz::parse_script(data, size));
  return 0;
}
