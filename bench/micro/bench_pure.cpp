// Micro-benchmarks of rebound's pure, per-request building blocks: URL
// parsing, the retry verdict and budget, Headers operations and the HTTP/2
// request header block. No I/O.
#include "h2/h2_session.hpp"
#include "retry/retry.hpp"

#include <rebound/error.hpp>
#include <rebound/headers.hpp>
#include <rebound/request.hpp>
#include <rebound/url.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <string>
#include <string_view>

namespace {

// --- URL parsing ---------------------------------------------------------

constexpr std::array<std::string_view, 4> kUrls = {
    "https://example.com/",
    "http://127.0.0.1:8080/api/v1/namespaces/default/leases/leader?timeout=30s",
    "https://[2001:db8::1]:8443/a/b/c?x=1&y=two#frag",
    "https://api.example.com/search?q=%E2%9C%93&limit=100&offset=200&sort=desc",
};
constexpr std::array<const char*, 4> kUrlNames = {"short", "port_path_query", "ipv6", "long_query"};

void BM_ParseUrl(benchmark::State& state) {
  const auto text = kUrls[static_cast<std::size_t>(state.range(0))];
  state.SetLabel(kUrlNames[static_cast<std::size_t>(state.range(0))]);
  for (auto _ : state) {
    auto url = rebound::parse_url(text);
    benchmark::DoNotOptimize(url);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseUrl)->DenseRange(0, 3);

void BM_ParseUrl_Invalid(benchmark::State& state) {
  // The error path builds a message naming what was wrong and where.
  for (auto _ : state) {
    auto url = rebound::parse_url("https://exa mple.com:99999/");
    benchmark::DoNotOptimize(url);
  }
}
BENCHMARK(BM_ParseUrl_Invalid);

void BM_UrlOrigin(benchmark::State& state) {
  const auto url = rebound::parse_url(kUrls[1]).value();
  for (auto _ : state) {
    auto origin = url.origin();
    benchmark::DoNotOptimize(origin);
  }
}
BENCHMARK(BM_UrlOrigin);

// --- retry ---------------------------------------------------------------

struct RetryCase {
  const char* name;
  rebound::errc code;
  rebound::progress reached;
  std::string_view method;
};
constexpr std::array<RetryCase, 4> kRetryCases = {{
    {"dial_failed_GET", rebound::errc::connection_refused, rebound::progress::not_sent, "GET"},
    {"refused_stream_POST", rebound::errc::refused_by_server, rebound::progress::refused, "POST"},
    {"lost_after_send_PUT", rebound::errc::connection_lost_after_send, rebound::progress::sent, "PUT"},
    {"truncated_GET", rebound::errc::truncated_response, rebound::progress::response_started, "GET"},
}};

void BM_RetryDecide(benchmark::State& state) {
  const auto& c = kRetryCases[static_cast<std::size_t>(state.range(0))];
  state.SetLabel(c.name);
  const rebound::retry::AttemptFailure failure{rebound::make_error_code(c.code), c.reached};
  rebound::retry::RequestFacts facts;
  facts.method = c.method;
  facts.attempts_made = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(failure);
    auto verdict = rebound::retry::decide(failure, facts);
    benchmark::DoNotOptimize(verdict);
  }
}
BENCHMARK(BM_RetryDecide)->DenseRange(0, 3);

void BM_RetryBudget_RecordAndSpend(benchmark::State& state) {
  // One request recorded and one retry asked per iteration, time moving
  // forward 10 us a step so buckets roll over as in a busy client.
  rebound::retry::Budget budget(0.2, 10);
  auto now = rebound::retry::Clock::now();
  std::int64_t granted = 0;
  for (auto _ : state) {
    now += std::chrono::microseconds(10);
    budget.record_request(now);
    granted += budget.try_spend(now) ? 1 : 0;
  }
  state.counters["granted_fraction"] =
      benchmark::Counter(static_cast<double>(granted) / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_RetryBudget_RecordAndSpend);

void BM_IsIdempotentMethod(benchmark::State& state) {
  constexpr std::array<std::string_view, 4> methods = {"GET", "POST", "DELETE", "PATCH"};
  std::size_t i = 0;
  for (auto _ : state) {
    bool v = rebound::retry::is_idempotent_method(methods[i++ & 3]);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_IsIdempotentMethod);

// --- Headers -------------------------------------------------------------

rebound::Headers typical_headers(int n) {
  rebound::Headers h;
  h.add("Accept", "application/json");
  h.add("User-Agent", "rebound/0.1");
  h.add("Authorization", "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.payload.signature");
  h.add("Content-Type", "application/json");
  for (int i = 4; i < n; ++i) h.add("X-Custom-Header-" + std::to_string(i), "value-" + std::to_string(i));
  return h;
}

void BM_Headers_Build(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    auto h = typical_headers(n);
    benchmark::DoNotOptimize(h);
  }
}
BENCHMARK(BM_Headers_Build)->Arg(4)->Arg(16);

void BM_Headers_Get(benchmark::State& state) {
  // Case-insensitive lookup of the last field (worst case of a linear scan).
  const int n = static_cast<int>(state.range(0));
  const auto h = typical_headers(n);
  const std::string name = n > 4 ? "x-custom-header-" + std::to_string(n - 1) : "content-type";
  for (auto _ : state) {
    auto v = h.get(name);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_Headers_Get)->Arg(4)->Arg(16)->Arg(64);

void BM_Headers_GetMissing(benchmark::State& state) {
  const auto h = typical_headers(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto v = h.get("idempotency-key");
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_Headers_GetMissing)->Arg(4)->Arg(16);

void BM_Headers_SetExisting(benchmark::State& state) {
  auto h = typical_headers(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    h.set("Content-Type", "text/plain");
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_Headers_SetExisting)->Arg(4)->Arg(16);

void BM_Headers_Copy(benchmark::State& state) {
  // A Request is copied per send (bench prototype, retries keep one).
  const auto h = typical_headers(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto copy = h;
    benchmark::DoNotOptimize(copy);
  }
}
BENCHMARK(BM_Headers_Copy)->Arg(4)->Arg(16);

void BM_Iequals(benchmark::State& state) {
  const std::string a = "Content-Type", b = "content-type";
  for (auto _ : state) {
    bool v = rebound::iequals(a, b);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_Iequals);

// --- HTTP/2 request header block ----------------------------------------

void BM_H2HeaderBlock(benchmark::State& state) {
  const int extra = static_cast<int>(state.range(0));
  rebound::Request request("GET", "https://api.example.com:8443/apis/coordination.k8s.io/v1/leases/x?watch=1");
  request.headers() = extra ? typical_headers(extra) : rebound::Headers{};
  if (extra) request.header("Connection", "keep-alive");  // dropped: connection-specific
  const auto url = rebound::parse_url(request.url()).value();
  std::size_t fields = 0;
  for (auto _ : state) {
    rebound::h2::HeaderBlock block(request, url);
    fields = block.size();
    benchmark::DoNotOptimize(block.data());
  }
  state.counters["fields"] = static_cast<double>(fields);
}
BENCHMARK(BM_H2HeaderBlock)->Arg(0)->Arg(4)->Arg(16);

void BM_RequestCopy(benchmark::State& state) {
  // What Client::send_async(prototype, ...) pays before any I/O.
  rebound::Request prototype("GET", "http://127.0.0.1:8080/bytes/64");
  prototype.headers() = typical_headers(4);
  for (auto _ : state) {
    rebound::Request copy = prototype;
    benchmark::DoNotOptimize(copy);
  }
}
BENCHMARK(BM_RequestCopy);

}  // namespace
