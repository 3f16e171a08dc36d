#!/usr/bin/env bash
# Install what building, testing and running xtcpd needs on Debian 12 (run as root).
# Every command or library a test uses is here: on a clean image no test may skip.
set -euo pipefail
PKGS=(
	# build
	build-essential autoconf automake libtool pkg-config
	libmnl-dev liburing-dev libjson-c-dev libprotobuf-c-dev protobuf-c-compiler
	protobuf-compiler librdkafka-dev libmicrohttpd-dev libcap-dev libcmocka-dev
	# tests: namespaces, sockets and traffic shaping (ip, ss, tc), mounts and unshare,
	# capabilities (setpriv, capsh), the mock Kafka cluster's client (kcat), decoders
	# (protoc, Python protobuf), metrics (curl, promtool), man pages (man, col), the
	# unit file (systemd-analyze), host name (hostname)
	iproute2 util-linux mount libcap2-bin kcat python3 python3-protobuf curl prometheus
	man-db bsdextrautils systemd hostname
	# sanitizers (gcc's libasan/libubsan come with build-essential) and fuzzing (libFuzzer)
	clang libclang-rt-14-dev
	# the bpf_iter source: libbpf, bpftool (its skeleton), clang (its BPF program)
	libbpf-dev bpftool
	# enrich_lldp: liblldpctl, and the lldpd daemons its test starts (switch and host)
	liblldpctl-dev lldpd
	# the http, nats and valkey sinks, and the servers their tests start
	libcurl4-openssl-dev libnats-dev libhiredis-dev
	clickhouse-server nats-server redis-server openssl
	# the grpc sink (gRPC's C core) and its tests' Python clients (stubs made at test time)
	libgrpc-dev python3-grpcio python3-grpc-tools
	# make deb: packaging, its checks and the throwaway root it installs into
	debhelper lintian debootstrap systemd-container
)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
	# lldpd's package starts the daemon, which would announce this host on its real
	# interfaces: the tests start their own lldpd, in namespaces they make. Only an lldpd
	# installed just now is stopped (an admin's own is left alone).
	if [[ " ${missing[*]} " == *" lldpd "* ]] && [ -d /run/systemd/system ]; then
		systemctl disable --now lldpd.service || true
	fi
fi
