#!/usr/bin/env bash
# Where a small request's CPU goes: counts instructions per request with
# callgrind (deterministic, unlike CPU time on a shared machine) for
# `rebound bench` and for h2load on the same work, and splits rebound's
# count into nghttp2, TLS, allocation and rebound's own layers.
#
#   bench/profile/instructions.sh            # h2c against the embedded server
#   bench/profile/instructions.sh --tls      # h2 over TLS
#   bench/profile/instructions.sh --caller   # rebound on the caller's executor
#                                            # (rebound bench --executor caller)
#   REBOUND=build/bench/rebound bench/profile/instructions.sh   # that binary, no build
#
# Each client runs N+100 and 100 requests (1 connection x 100 streams); the
# difference over N removes start-up. Needs valgrind and h2load
# (scripts/setup.sh valgrind). Takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=20000
tls=0
executor=own
for a in "$@"; do
  case "$a" in
    --tls) tls=1 ;;
    --caller) executor=caller ;;
    *) echo "usage: $0 [--tls] [--caller]" >&2; exit 2 ;;
  esac
done
rebound=${REBOUND:-}
if [ -z "$rebound" ]; then
  cmake --build build/default --target rebound_cli -j2 > /dev/null
  rebound=build/default/rebound
fi
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

serve_args=(serve --port 0)
[ "$tls" = 1 ] && serve_args+=(--tls)
"$rebound" "${serve_args[@]}" > "$work/serve.out" 2>&1 < /dev/null &
server=$!
for _ in $(seq 50); do grep -q "://" "$work/serve.out" && break; sleep 0.1; done
base=$(grep -o 'https\?://[0-9.:]*' "$work/serve.out" | head -1)
url="$base/bytes/64"
client_flags=(-k)
[ "$tls" = 0 ] && client_flags=(--http2-prior-knowledge)

# instructions <tag> <command...>: the program total of one callgrind run.
instructions() {
  local tag=$1
  shift
  valgrind --tool=callgrind --callgrind-out-file="$work/$tag.out" "$@" > /dev/null 2>&1
  callgrind_annotate "$work/$tag.out" 2> /dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}

per_request() { echo $(( ($2 - $1) / n )); }

bench=(bench -c 1 -m 100 --executor "$executor" "${client_flags[@]}" --no-progress)
rb_small=$(instructions rb_small "$rebound" "${bench[@]}" -n 100 "$url")
rb_large=$(instructions rb_large "$rebound" "${bench[@]}" -n $((n + 100)) "$url")
h2_small=$(instructions h2_small h2load -n 100 -c 1 -m 100 "$url")
h2_large=$(instructions h2_large h2load -n $((n + 100)) -c 1 -m 100 "$url")

echo "url: $url, 1 connection x 100 streams, $n requests, rebound's executor: $executor"
echo "instructions per request: rebound $(per_request "$rb_small" "$rb_large"), h2load $(per_request "$h2_small" "$h2_large")"
echo
echo "rebound, inclusive instructions per request by part (whole run / $n; start-up is under 1%):"
callgrind_annotate --inclusive=yes "$work/rb_large.out" 2> /dev/null > "$work/inclusive.txt"
callgrind_annotate "$work/rb_large.out" 2> /dev/null > "$work/self.txt"
part() {  # part <label> <pattern in the inclusive listing>
  local v
  v=$(grep -m1 -e "$2" "$work/inclusive.txt" | awk '{gsub(",", "", $1); print $1}' || true)
  printf '  %-58s %7d\n' "$1" $(( ${v:-0} / n ))
}
part "nghttp2_session_mem_recv (parsing, with rebound's callbacks)" 'nghttp2_session_mem_recv \['
part "  of which on_header (response fields into Response)" '::on_header(nghttp2_session'
part "  of which on_stream_close (attempt done, completion posted)" '::on_stream_close(nghttp2_session'
part "nghttp2_session_mem_send (framing requests)" 'nghttp2_session_mem_send \['
part "nghttp2_submit_request" 'nghttp2_submit_request \['
part "Client launch (validate, Exchange, pool, submit)" 'Impl::launch('
part "TLS record layer (TlsStream::attempt)" 'TlsStream::attempt'
awk '/malloc\.c:|arena\.c:|operator new|operator delete/ {gsub(",", "", $1); s += $1} END {printf "  %-58s %7d\n", "malloc/free (self, everywhere)", s / '"$n"'}' "$work/self.txt"
