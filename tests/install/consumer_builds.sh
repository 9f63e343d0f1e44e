#!/usr/bin/env bash
# Installs rebound from BUILD_DIR into a temporary prefix, then builds the
# consumer project against it twice - with find_package(rebound) and with
# pkg-config - and runs both against a live embedded server: the client
# alone (consumer), and a controller on the installed kube and election
# modules that loads a kubeconfig written by kubectl, elects itself over
# `rebound serve --leases-file` (TLS, a bearer token) and watches the leases
# until it sees its own lease held by itself.
set -euo pipefail
build_dir=$1 source_dir=$2 rebound_bin=$3 sanitize=${4:-}
# The controller's kubeconfig is written by the real kubectl: without it the
# test fails, it does not skip (scripts/setup.sh installs it).
if ! command -v kubectl >/dev/null 2>&1; then
  echo "consumer_builds.sh: kubectl not found: run scripts/setup.sh (Debian's kubernetes-client)" >&2
  exit 1
fi
# A sanitized library needs a consumer built with the same sanitizers.
flags=""
[ -n "$sanitize" ] && flags="-fsanitize=$sanitize"
work=$(mktemp -d)
trap 'echo "failed at line $LINENO; logs:"; tail -n 30 "$work"/*.log 2>/dev/null' ERR
server_pids=()
trap 'for p in "${server_pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" > "$work/install.log"
for f in include/rebound/rebound.hpp include/rebound/kube/watcher.hpp include/rebound/election/leader_elector.hpp \
         include/rebound/lease/lease.hpp include/rebound/lease/leader_elector.hpp \
         lib/pkgconfig/rebound.pc lib/pkgconfig/rebound-kube.pc lib/pkgconfig/rebound-election.pc; do
  test -f "$work/prefix/$f" || { echo "not installed: $f" >&2; exit 1; }
done

cmake -S "$source_dir/tests/install/consumer" -B "$work/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_CXX_FLAGS="$flags" > "$work/configure.log"
cmake --build "$work/build" > "$work/build.log"

export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
c++ -std=c++20 $flags "$source_dir/tests/install/consumer/main.cpp" -o "$work/consumer_pc" \
  $(pkg-config --cflags --libs rebound)
c++ -std=c++20 $flags "$source_dir/tests/install/consumer/controller.cpp" -o "$work/controller_pc" \
  $(pkg-config --cflags --libs rebound-election) 2> "$work/controller_pc.log"

# start_server LOG ARGS...: `rebound serve ARGS` in the background; sets url.
start_server() {
  local out=$work/$1.url
  shift
  "$rebound_bin" serve "$@" < /dev/null > "$out" 2> "$work/${out##*/}.log" &
  server_pids+=($!)
  for _ in $(seq 100); do
    url=$(head -n 1 "$out")
    [ -n "$url" ] && return 0
    sleep 0.05
  done
  echo "rebound serve $* printed no URL" >&2
  return 1
}

start_server plain --port 0
"$work/build/consumer" "$url/bytes/7" | grep -qx "200 7"
"$work/consumer_pc" "$url/bytes/9" | grep -qx "200 9"
echo "consumer built with find_package and pkg-config, both fetched from $url"

# The Lease API over TLS (a certificate of our own for 127.0.0.1, trusted
# only through the kubeconfig) with a bearer token, as a cluster would be.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=rebound-install-test \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$work/key.pem" -out "$work/cert.pem" 2> "$work/openssl.log"
token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
# Leases on file: a memory-only server would hold writes for 15 s after it
# starts (--max-lease-duration), which the controller would wait out.
start_server leases --tls --cert "$work/cert.pem" --key "$work/key.pem" --leases-file "$work/leases.json" --token "$token" --port 0
kubeconfig=$work/kubeconfig
kubectl config set-cluster install-test --server="$url" --certificate-authority="$work/cert.pem" \
  --embed-certs=true --kubeconfig "$kubeconfig" > "$work/kubectl.log"
kubectl config set-credentials controller --token="$token" --kubeconfig "$kubeconfig" >> "$work/kubectl.log"
kubectl config set-context install-test --cluster=install-test --user=controller --namespace=install \
  --kubeconfig "$kubeconfig" >> "$work/kubectl.log"
kubectl config use-context install-test --kubeconfig "$kubeconfig" >> "$work/kubectl.log"
"$work/build/controller" "$kubeconfig" controller-lock > "$work/controller.out" 2> "$work/controller.log"
grep -q "^leader install-test-controller_" "$work/controller.out"
"$work/controller_pc" "$kubeconfig" controller-lock-pc > "$work/controller_pc.out" 2> "$work/controller_pc.log"
grep -q "^leader install-test-controller_" "$work/controller_pc.out"
echo "controller built with find_package and pkg-config: $(cat "$work/controller.out")"
