#!/usr/bin/env bash
# Regenerates the connection harnesses' seed corpora from real servers on
# 127.0.0.1: the embedded server (rebound serve), nghttpd, h2o and nginx.
# Each seed is one control byte (server_script.hpp) and the server's bytes
# as they came off the wire; for h2, what the server sent after our client
# preface, to requests on stream 1 (and 3) like the ones the harness sends.
# Needs build/default/rebound; a peer that is not installed is skipped.
#   tests/fuzz/capture_seeds.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/fuzz/corpus
rebound=build/default/rebound
work=$(mktemp -d)
chmod 755 "$work"  # nginx's workers run as nobody and read the docroot
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$out/h1_fuzz" "$out/h2_fuzz" "$work/docroot"

free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    ss -ltn "sport = :$p" | grep -q LISTEN || { echo "$p"; return; }
  done
}
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "capture: nothing listens on $1" >&2
  return 1
}
hex() { printf '%b' "$(sed 's/../\\x&/g' <<<"$1")"; }
len3() { printf '%06x' "$1"; }

# h1 NAME CONTROL PORT REQUEST... : each request on one connection, the
# responses separated by the harness's flight separator.
h1() {
  local name=$1 control=$2 port=$3
  shift 3
  local file="$out/h1_fuzz/$name" first=1
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  hex "$control" > "$file"
  for req in "$@"; do
    [ $first = 1 ] || printf '~~flight~~' >> "$file"
    first=0
    printf '%b' "$req" >&3
    timeout 0.4 cat <&3 >> "$file" || true
  done
  exec 3<&-
  echo "capture: $file ($(stat -c %s "$file") bytes)"
}

# An h2 HEADERS frame for stream $1 (END_HEADERS, END_STREAM unless $4=0):
# :method $2 (GET and POST from the static table, others literal), :scheme http, :path $3,
# :authority 127.0.0.1:port, all without Huffman coding.
h2_headers() {
  local sid=$1 method=$2 path=$3 eos=${4:-1} authority="127.0.0.1:$port"
  local block
  case $method in
    GET) block=82 ;;
    POST) block=83 ;;
    *) block=42$(printf '%02x' ${#method})$(printf '%s' "$method" | xxd -p) ;;
  esac
  block+=86
  block+=44$(printf '%02x' ${#path})$(printf '%s' "$path" | xxd -p -c 256)
  block+=41$(printf '%02x' ${#authority})$(printf '%s' "$authority" | xxd -p -c 256)
  local flags=$([ "$eos" = 1 ] && echo 05 || echo 04)
  printf '%s01%s%08x%s' "$(len3 $((${#block} / 2)))" "$flags" "$sid" "$block"
}
# DATA with END_STREAM on stream $1 carrying $2 bytes.
h2_data() { printf '%s0001%08x%s' "$(len3 "$2")" "$1" "$(head -c "$2" /dev/zero | tr '\0' b | xxd -p -c 4096)"; }

# h2 NAME CONTROL PORT FRAMES_HEX : preface + empty SETTINGS + FRAMES.
h2() {
  local name=$1 control=$2 port=$3 frames=$4
  local file="$out/h2_fuzz/$name"
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  { hex 505249202a20485454502f322e300d0a0d0a534d0d0a0d0a; hex 000000040000000000; hex "$frames"; } >&3
  hex "$control" > "$file"
  timeout 0.5 cat <&3 >> "$file" || true
  exec 3<&-
  echo "capture: $file ($(stat -c %s "$file") bytes)"
}

h2_set() {  # captures the usual set of h2 exchanges from one server
  local tag=$1 port=$2 small=$3 missing=$4
  h2 "$tag-get" 00 "$port" "$(h2_headers 1 GET "$small")"
  h2 "$tag-get-two-streams" 04 "$port" "$(h2_headers 1 GET "$small")$(h2_headers 3 GET "$missing")"
  h2 "$tag-head" 01 "$port" "$(h2_headers 1 HEAD "$small")"
  h2 "$tag-post" 02 "$port" "$(h2_headers 1 POST "$small" 0)$(h2_data 1 16)"
  h2 "$tag-not-found" 00 "$port" "$(h2_headers 1 GET "$missing")"
}
h1_set() {
  local tag=$1 port=$2 small=$3 missing=$4 host="Host: 127.0.0.1\r\n"
  h1 "$tag-get" 00 "$port" "GET $small HTTP/1.1\r\n$host\r\n"
  h1 "$tag-keepalive" 04 "$port" "GET $small HTTP/1.1\r\n$host\r\n" "GET $missing HTTP/1.1\r\n$host\r\n"
  h1 "$tag-head" 01 "$port" "HEAD $small HTTP/1.1\r\n$host\r\n"
  h1 "$tag-not-found" 00 "$port" "GET $missing HTTP/1.1\r\n${host}Connection: close\r\n\r\n"
}

# --- the embedded server ---
if [ -x "$rebound" ]; then
  port=$(free_port)
  # Its stdin (fault commands) stays open until this script ends.
  mkfifo "$work/serve.in"
  "$rebound" serve --port "$port" < "$work/serve.in" > "$work/serve.log" 2>&1 &
  pids+=($!)
  exec 5> "$work/serve.in"
  wait_port "$port"
  h1_set rebound "$port" /bytes/100 /status/404
  h1 rebound-post 02 "$port" "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\nbbbbbbbbbbbbbbbb"
  h1 rebound-bytes-3000 00 "$port" "GET /bytes/3000 HTTP/1.1\r\nHost: x\r\n\r\n"
  h2_set rebound "$port" /bytes/100 /status/404
  h2 rebound-bytes-3000 30 "$port" "$(h2_headers 1 GET /bytes/3000)"
fi

# --- nghttpd (h2c only) ---
if command -v nghttpd > /dev/null; then
  head -c 300 /dev/zero | tr '\0' n > "$work/docroot/small.txt"
  port=$(free_port)
  nghttpd --no-tls -d "$work/docroot" "$port" > /dev/null 2>&1 &
  pids+=($!)
  wait_port "$port"
  h2_set nghttpd "$port" /small.txt /missing
fi

# --- h2o ---
if command -v h2o > /dev/null; then
  mkdir -p "$work/h2o"
  head -c 300 /dev/zero | tr '\0' o > "$work/docroot/small.txt"
  port=$(free_port)
  # As root h2o would switch to nobody, who cannot write in $work.
  cat > "$work/h2o/h2o.conf" <<CONF
$([ "$(id -u)" = 0 ] && echo "user: root")
listen:
  host: 127.0.0.1
  port: $port
pid-file: $work/h2o/pid
error-log: $work/h2o/error.log
hosts:
  default:
    paths:
      /:
        file.dir: $work/docroot
        compress: ON
CONF
  h2o -c "$work/h2o/h2o.conf" > /dev/null 2>&1 &
  pids+=($!)
  wait_port "$port"
  h1_set h2o "$port" /small.txt /missing
  h1 h2o-chunked-gzip 00 "$port" "GET /small.txt HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n"
  h2_set h2o "$port" /small.txt /missing
fi

# --- nginx ---
if command -v nginx > /dev/null; then
  d="$work/nginx"
  mkdir -p "$d/logs" "$d/tmp"
  port=$(free_port)
  cat > "$d/nginx.conf" <<CONF
pid $d/nginx.pid;
error_log $d/logs/error.log;
events {}
http {
  access_log off;
  client_body_temp_path $d/tmp; proxy_temp_path $d/tmp; fastcgi_temp_path $d/tmp;
  uwsgi_temp_path $d/tmp; scgi_temp_path $d/tmp;
  gzip on; gzip_types text/plain; gzip_min_length 1;
  server {
    listen 127.0.0.1:$port http2;
    root $work/docroot;
  }
  server {
    listen 127.0.0.1:$((port + 1));
    root $work/docroot;
    location /redirect { return 301 /small.txt; }
  }
}
CONF
  nginx -p "$d" -c "$d/nginx.conf" -g 'daemon off;' > /dev/null 2>&1 &
  pids+=($!)
  wait_port "$port"
  wait_port $((port + 1))
  h2_set nginx "$port" /small.txt /missing
  h1_set nginx $((port + 1)) /small.txt /missing
  h1 nginx-chunked-gzip 00 $((port + 1)) "GET /small.txt HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n"
  h1 nginx-redirect 00 $((port + 1)) "GET /redirect HTTP/1.1\r\nHost: x\r\n\r\n"
fi
