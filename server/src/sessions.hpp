// Entry points of the protocol sessions, for protocol detection. Each takes
// over the stream, registers under the connection's id and runs until the
// connection ends. `already_read` holds bytes detection consumed (plain TCP).
// Call on the stream's own executor.
#pragma once

#include <cstdint>
#include <string_view>

#include "server_context.hpp"
#include "socket_close.hpp"

namespace rebound::server::detail {

void run_h1_session(ServerContext& ctx, tcp::socket stream, std::uint64_t id, std::string_view already_read);
void run_h1_session(ServerContext& ctx, TlsStream stream, std::uint64_t id, std::string_view already_read);
void run_h2_session(ServerContext& ctx, tcp::socket stream, std::uint64_t id, std::string_view already_read);
void run_h2_session(ServerContext& ctx, TlsStream stream, std::uint64_t id, std::string_view already_read);

}  // namespace rebound::server::detail
