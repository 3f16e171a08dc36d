#!/usr/bin/env bash
# Newcomer command (1): install dependencies, build, and run one poll of the live host,
# printing one JSON line per TCP socket (the shipped conf.d: netlink -> json -> stdout).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh >&2
[ -x configure ] || autoreconf -fi >&2
mkdir -p build
cd build
[ -f Makefile ] || ../configure >&2
make -j"$(nproc)" >&2
XTCPD_PLUGIN_DIR="$PWD/.libs" ./xtcpd -c ../xtcpd.conf -C ../conf.d --once -o core.prom_listen=
