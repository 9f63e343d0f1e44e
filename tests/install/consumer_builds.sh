#!/usr/bin/env bash
# Installs rebound from BUILD_DIR into a temporary prefix, then builds the
# consumer project against it twice - with find_package(rebound) and with
# pkg-config - and runs both against a live embedded server.
set -euo pipefail
build_dir=$1 source_dir=$2 rebound_bin=$3 sanitize=${4:-}
# A sanitized library needs a consumer built with the same sanitizers.
flags=""
[ -n "$sanitize" ] && flags="-fsanitize=$sanitize"
work=$(mktemp -d)
trap 'echo "failed at line $LINENO; logs:"; tail -n 30 "$work"/*.log 2>/dev/null' ERR
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" > "$work/install.log"
test -f "$work/prefix/include/rebound/rebound.hpp"
test -f "$work/prefix/lib/pkgconfig/rebound.pc"

cmake -S "$source_dir/tests/install/consumer" -B "$work/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_CXX_FLAGS="$flags" > "$work/configure.log"
cmake --build "$work/build" > "$work/build.log"

PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" \
  c++ -std=c++20 $flags "$source_dir/tests/install/consumer/main.cpp" -o "$work/consumer_pc" \
  $(PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --cflags --libs rebound)

coproc server { exec "$rebound_bin" serve --port 0; }
server_pid=$server_PID
read -r url <&"${server[0]}"
"$work/build/consumer" "$url/bytes/7" | grep -qx "200 7"
"$work/consumer_pc" "$url/bytes/9" | grep -qx "200 9"
echo "consumer built with find_package and pkg-config, both fetched from $url"
