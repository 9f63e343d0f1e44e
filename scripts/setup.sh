#!/usr/bin/env bash
# Installs every Debian package rebound needs to build and test, plus any
# package names given as arguments (bench/compare/setup.sh passes its peers).
# Idempotent; run as root (or it uses sudo when available).
set -euo pipefail

packages=(
  build-essential g++ cmake ninja-build pkg-config git
  libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev
  libnghttp2-dev libssl-dev openssl ca-certificates
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libcli11-dev
  libjemalloc-dev  # the rebound command's allocator (as h2load's; cli/CMakeLists.txt)
  libyaml-cpp-dev  # rebound::kube reads kubeconfig files
  nghttp2-server nghttp2-client h2o nginx-light curl
  clang libclang-rt-14-dev llvm  # scripts/fuzz.sh: libFuzzer, sanitizer runtimes, llvm-symbolizer
  iproute2 nftables  # the partition test: network namespaces, a veth pair, packet drops
  python3 python3-kubernetes  # tests/compat: the official Kubernetes Python client against rebound serve
  tinyproxy microsocks  # tests/net proxy tests: a real HTTP proxy (CONNECT, basic auth) and SOCKS5 server
  etcd-server  # tests/etcd: a real 3-member cluster for the etcd lock backend and the gRPC client
  protobuf-compiler libprotobuf-dev  # etcd_proto/: etcd's messages, generated for the lite runtime
  zlib1g-dev libbrotli-dev libzstd-dev  # Content-Encoding gzip, br and zstd, decoded while streaming
  libnginx-mod-http-brotli-filter  # tests/integration: nginx serving br beside gzip
  "$@"
)
# kubectl, for tests/kube (kubeconfig files written by kubectl),
# tests/install (the installed controller's kubeconfig) and
# tests/compat: machine images that ship kubectl (its own package) conflict
# with Debian's kubernetes-client, so that is installed only where there is
# no kubectl at all.
if ! command -v kubectl >/dev/null 2>&1; then
  packages+=(kubernetes-client)
fi

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -q
as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
