#!/usr/bin/env bash
# Install what building, testing and running xtcpd needs on Debian 12 (run as root).
set -euo pipefail
PKGS=(
	build-essential autoconf automake libtool pkg-config
	libinih-dev libmnl-dev liburing-dev libjson-c-dev libprotobuf-c-dev protobuf-c-compiler
	protobuf-compiler librdkafka-dev libmicrohttpd-dev libcap-dev libcmocka-dev
	iproute2 kcat prometheus python3 python3-protobuf libcap2-bin util-linux curl
	debhelper lintian debootstrap systemd systemd-container
)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi
