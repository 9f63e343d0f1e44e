// Request kinds, drawing a request, and building it with an observing body
// source and sink.
#include <rebound/soak/workload.hpp>

#include <array>

namespace rebound::soak {

namespace {

struct Weighted {
  std::uint64_t value;
  unsigned weight;
};

template <std::size_t N>
std::uint64_t pick(std::mt19937_64& rng, const std::array<Weighted, N>& table) {
  unsigned total = 0;
  for (const auto& w : table) total += w.weight;
  auto r = static_cast<unsigned>(rng() % total);
  for (const auto& w : table) {
    if (r < w.weight) return w.value;
    r -= w.weight;
  }
  return table.back().value;
}

// Sizes straddle what matters to the transports: empty, one byte, an h2
// frame (16 KiB), the default h2 window (65535), several TLS records, and a
// body large enough to be cut mid-way by a proxy.
constexpr std::array<Weighted, 8> download_sizes{{{0, 5}, {1, 5}, {100, 20}, {4096, 20}, {16384, 15},
                                                  {65536, 15}, {200000, 12}, {1 << 20, 8}}};
constexpr std::array<Weighted, 8> upload_sizes{{{1, 5}, {100, 20}, {4096, 20}, {16384, 15}, {65535, 10},
                                                {65536, 10}, {200000, 12}, {1 << 20, 8}}};
constexpr std::array<Weighted, kind_count> kinds{{
    {static_cast<std::uint64_t>(Kind::get_bytes), 20},
    {static_cast<std::uint64_t>(Kind::get_bytes_streamed), 10},
    {static_cast<std::uint64_t>(Kind::get_echo), 8},
    {static_cast<std::uint64_t>(Kind::get_delay), 5},
    {static_cast<std::uint64_t>(Kind::put_echo), 10},
    {static_cast<std::uint64_t>(Kind::put_streamed), 8},
    {static_cast<std::uint64_t>(Kind::post_plain), 15},
    {static_cast<std::uint64_t>(Kind::post_keyed), 12},
    {static_cast<std::uint64_t>(Kind::post_streamed_chunked), 6},
    {static_cast<std::uint64_t>(Kind::post_streamed_keyed), 6},
}};

}  // namespace

const char* to_string(Kind k) noexcept {
  switch (k) {
    case Kind::get_bytes: return "get_bytes";
    case Kind::get_bytes_streamed: return "get_bytes_streamed";
    case Kind::get_echo: return "get_echo";
    case Kind::get_delay: return "get_delay";
    case Kind::put_echo: return "put_echo";
    case Kind::put_streamed: return "put_streamed";
    case Kind::post_plain: return "post_plain";
    case Kind::post_keyed: return "post_keyed";
    case Kind::post_streamed_chunked: return "post_streamed_chunked";
    case Kind::post_streamed_keyed: return "post_streamed_keyed";
  }
  return "unknown";
}

const char* method_of(Kind k) noexcept {
  switch (k) {
    case Kind::get_bytes:
    case Kind::get_bytes_streamed:
    case Kind::get_echo:
    case Kind::get_delay: return "GET";
    case Kind::put_echo:
    case Kind::put_streamed: return "PUT";
    case Kind::post_plain:
    case Kind::post_keyed:
    case Kind::post_streamed_chunked:
    case Kind::post_streamed_keyed: return "POST";
  }
  return "GET";
}

bool streams_upload(Kind k) noexcept {
  return k == Kind::put_streamed || k == Kind::post_streamed_chunked || k == Kind::post_streamed_keyed;
}
bool streams_download(Kind k) noexcept { return k == Kind::get_bytes_streamed; }
bool sends_body(Kind k) noexcept { return std::string_view(method_of(k)) != "GET"; }
bool runs_at_most_once(Kind k) noexcept { return k == Kind::post_plain || streams_upload(k); }

const char* to_string(ClientMode m) noexcept {
  switch (m) {
    case ClientMode::h2_tls: return "h2_tls";
    case ClientMode::h1_tls: return "h1_tls";
    case ClientMode::h2c: return "h2c";
    case ClientMode::h1_plain: return "h1_plain";
  }
  return "unknown";
}
bool speaks_h2(ClientMode m) noexcept { return m == ClientMode::h2_tls || m == ClientMode::h2c; }
bool uses_tls(ClientMode m) noexcept { return m == ClientMode::h2_tls || m == ClientMode::h1_tls; }

std::string Spec::describe() const {
  std::string s = "#" + std::to_string(id) + " " + to_string(kind) + " " + method_of(kind) + " " + target;
  if (sends_body(kind)) s += " (" + std::to_string(size) + " bytes up)";
  if (timeout) s += " timeout " + std::to_string(timeout->count()) + "ms";
  return s + " via proxy:" + to_string(server);
}

Spec draw_spec(std::mt19937_64& rng, std::uint64_t id, const ServerSlot (&servers)[2]) {
  Spec s;
  s.id = id;
  s.kind = static_cast<Kind>(pick(rng, kinds));
  s.server = servers[rng() % 2];
  const std::string rid = "?rid=" + std::to_string(id);
  switch (s.kind) {
    case Kind::get_bytes:
    case Kind::get_bytes_streamed:
      s.size = pick(rng, download_sizes);
      s.target = "/bytes/" + std::to_string(s.size) + rid;
      break;
    case Kind::get_delay:
      s.size = 10 + rng() % 790;
      s.target = "/delay/" + std::to_string(s.size) + rid;
      break;
    case Kind::get_echo:
      s.target = "/echo" + rid;
      break;
    default:
      s.size = pick(rng, upload_sizes);
      s.chunk = 1000 + rng() % 32000;
      s.target = "/echo" + rid;
      break;
  }
  // A quarter run on a short deadline of their own, so deadlines land in
  // every phase of a request, not only in the longest outages.
  if (rng() % 4 == 0) s.timeout = std::chrono::milliseconds(1500 + rng() % 4500);
  return s;
}

std::string upload_body(std::uint64_t id, std::size_t size) {
  std::string body(size, '\0');
  std::uint64_t x = id * 0x9E3779B97F4A7C15ull + 1;
  for (auto& c : body) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    c = static_cast<char>(x >> 56);
  }
  return body;
}

Request build_request(const Spec& spec, const std::string& base_url, const std::shared_ptr<Observed>& seen) {
  Request r(method_of(spec.kind), base_url + spec.target);
  r.header("x-request-id", std::to_string(spec.id));
  if (spec.timeout) r.timeout(*spec.timeout);
  if (spec.kind == Kind::post_keyed || spec.kind == Kind::post_streamed_keyed)
    r.header("idempotency-key", "soak-" + std::to_string(spec.id));
  if (sends_body(spec.kind)) {
    seen->upload = std::make_shared<const std::string>(upload_body(spec.id, spec.size));
    r.header("content-type", "application/octet-stream");
  }
  if (streams_upload(spec.kind)) {
    // The source hands out the body once; a call after its end means the
    // client read the body again for another attempt.
    auto source = [seen, chunk = spec.chunk]() -> std::string {
      if (seen->source_ended) {
        ++seen->source_calls_after_end;
        return {};
      }
      const std::string& body = *seen->upload;
      const auto at = seen->source_offset.load();
      const auto n = std::min<std::size_t>(chunk, body.size() - at);
      seen->source_offset = at + n;
      if (n == 0) seen->source_ended = true;
      return body.substr(at, n);
    };
    const bool sized = spec.kind != Kind::post_streamed_chunked;
    r.body_source(std::move(source), sized ? std::optional<std::uint64_t>(spec.size) : std::nullopt);
  } else if (sends_body(spec.kind)) {
    r.body(*seen->upload);
  }
  if (streams_download(spec.kind)) {
    r.on_body([seen](std::string_view chunk) {
      const auto at = seen->sink_bytes.fetch_add(chunk.size());
      if (seen->sink_mismatch >= 0) return;
      for (std::size_t i = 0; i < chunk.size(); ++i)
        if (chunk[i] != pattern_byte(at + i)) {
          seen->sink_mismatch = static_cast<std::int64_t>(at + i);
          return;
        }
    });
  }
  return r;
}

}  // namespace rebound::soak
