// The hostile TLS servers: plaintext on a TLS port, an alert instead of a
// handshake, a handshake that stalls - with the error a request to each must
// end with. Owned here so the library's test
// (integration/hostile_tls_test.cpp) and the CLI's (cli/get_hostile_test.cpp)
// judge the same servers.
#pragma once

#include "support/raw_server.hpp"

#include <rebound/error.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace rebound::testing::hostile_tls {

struct HostileTls {
  const char* name;
  std::function<void(RawConnection&)> script;
  errc expected;
};

inline void PrintTo(const HostileTls& c, std::ostream* os) { *os << c.name; }

/// Reads until the client closes (or a generous bound): says nothing more
/// but keeps the connection open.
inline void linger(RawConnection& conn) {
  try {
    conn.read_until("a delimiter the client never sends", std::chrono::seconds(30));
  } catch (const std::exception&) {
  }
}

inline std::vector<HostileTls> cases() {
  return {
      {"PlaintextHttpOnATlsPort",
       [](RawConnection& c) {
         c.read_some();
         c.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
       },
       errc::tls_handshake_failed},
      {"AnAlertInsteadOfAServerHello",
       [](RawConnection& c) {
         c.read_some();
         c.write(std::string("\x15\x03\x03\x00\x02\x02\x28", 7));  // fatal handshake_failure
         linger(c);
       },
       errc::tls_handshake_failed},
      {"AHandshakeThatStalls", [](RawConnection& c) { linger(c); }, errc::connect_timeout},
  };
}

/// The RawServer script for `hostile` (it starts at the client's first byte:
/// its ClientHello). `hostile` must outlive the server.
inline RawServer::Script script_for(const HostileTls& hostile) {
  return [&hostile](RawConnection& conn, int) { hostile.script(conn); };
}

}  // namespace rebound::testing::hostile_tls
