#!/usr/bin/env bash
# scripts/deb.sh TARBALL — what `make deb` runs: build the Debian packages from a release
# tarball, check what they hold, run lintian, then install, run, remove and purge them in a
# throwaway debootstrap root (tests/debian/chroot.sh). Ends with "N passed, N failed".
# Env: XTCPD_DEB_OUT=DIR keeps the packages; XTCPD_DEB_MIRROR, XTCPD_DEB_SECURITY mirrors.
set -uo pipefail
export LC_ALL=C # sort and ls agree
tarball=$(realpath "${1:?usage: scripts/deb.sh xtcpd-VERSION.tar.gz (or: make deb)}")

XTCPD=/usr/sbin/xtcpd # the packaged daemon, run inside the root by tests/debian/chroot.sh
. "$(dirname "$0")/../tests/lib/lib.sh"
W=$TMP
abort() { fail "$*"; finish; exit 1; }
step() { echo "== $* ($SECONDS s)"; }

step "build"
src=$W/xtcpd
mkdir "$src" && tar -C "$src" --strip-components=1 -xzf "$tarball" || abort "unpack $tarball"
[ -f "$src/debian/control" ] || abort "no debian/ in $tarball"
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
# make deb names its tarball deb-xtcpd-VERSION.tar.gz (debian/Makefile.inc)
expect_eq "debian/changelog follows configure's version" \
	"$(basename "$tarball" .tar.gz | sed 's/^deb-//')" "xtcpd-${version%-*}"
# nocheck: make check already ran; the nocheck profile drops the test-only build deps.
# noautodbgsym: no -dbgsym packages (dwz and objcopy over every object, and lintian over
# seven more packages, for nothing this test looks at).
if ! (cd "$src" && DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=$(nproc)" DEB_BUILD_PROFILES=nocheck \
	dpkg-buildpackage -us -uc -b) > "$W/build.log" 2>&1; then
	tail -40 "$W/build.log"; abort "dpkg-buildpackage"
fi
arch=$(dpkg --print-architecture)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
export MA version
deb() { echo "$W/${1}_${version}_$arch.deb"; }
plugin_pkgs=$(sed -n 's/^Package: \(xtcpd-plugin-.*\)/\1/p' "$src/debian/control")
plugin_debs=$(for p in $plugin_pkgs; do deb "$p"; done | paste -sd' ')
debs="$(deb xtcpd) $(deb xtcpd-dev) $plugin_debs"
step "contents"
for d in $debs; do [ -f "$d" ] || fail "not built: $d"; done
files() { for d in "$@"; do dpkg-deb --fsys-tarfile "$d" | tar -t | sed 's|^\./|/|'; done; }
expect_eq "no libtool archive in any package" "" "$(files $debs | grep '\.la$')"
expect_eq "plugins only in the multiarch plugin folder" "/usr/lib/$MA/xtcpd" \
	"$(files $debs | grep '\.so$' | xargs -n1 dirname | sort -u)"
expect_eq "every plugin built is in exactly one package" \
	"$(cd "$src/debian/tmp" && ls usr/lib/"$MA"/xtcpd/*.so | sed 's|^|/|')" \
	"$(files $debs | grep '\.so$' | sort)"
# The core package pulls no library of a plugin package (kafka, http, nats, valkey,
# bpf_iter, io_uring), nor lldpd (whose liblldpctl enrich_lldp loads only when on).
expect_eq "core depends on no plugin's library" "" \
	"$(dpkg-deb -f "$(deb xtcpd)" Depends | grep -oE '(lib(rdkafka|curl|nats|hiredis|bpf|elf|uring)|lldpd)[^,]*')"
# Each optional plugin in its own package, with its disabled conf.d example: the list is
# exact, so a plugin that configure silently left out (or put in the core) fails here.
expect_eq "plugin packages and what they hold" \
"xtcpd-plugin-bpf-iter /etc/xtcpd/conf.d/10-source-bpf_iter.conf.example /usr/lib/$MA/xtcpd/source_bpf_iter.so
xtcpd-plugin-http /etc/xtcpd/conf.d/50-sink-http.conf.example /usr/lib/$MA/xtcpd/sink_http.so
xtcpd-plugin-io-uring /etc/xtcpd/conf.d/10-source-io_uring.conf.example /usr/lib/$MA/xtcpd/source_io_uring.so
xtcpd-plugin-kafka /usr/lib/$MA/xtcpd/sink_kafka.so
xtcpd-plugin-nats /etc/xtcpd/conf.d/50-sink-nats.conf.example /usr/lib/$MA/xtcpd/sink_nats.so
xtcpd-plugin-valkey /etc/xtcpd/conf.d/50-sink-valkey.conf.example /usr/lib/$MA/xtcpd/sink_valkey.so" \
	"$(for p in $plugin_pkgs; do echo "$p $(files "$(deb "$p")" | grep -E '\.(so|example)$' | sort | paste -sd' ')"; done | sort)"
expect_eq "io_uring plugin links liburing, the core package does not" "yes no" \
	"$(dpkg-deb -f "$(deb xtcpd-plugin-io-uring)" Depends | grep -q 'liburing' && echo yes || echo no) $(dpkg-deb -f "$(deb xtcpd)" Depends | grep -q 'liburing' && echo yes || echo no)"
for p in $plugin_pkgs; do
	expect_eq "$p depends on this very xtcpd" "xtcpd (= $version)" \
		"$(dpkg-deb -f "$(deb "$p")" Depends | grep -oE 'xtcpd \(= [^)]*\)')"
	# xtcpd-plugin-bpf-iter holds source_bpf_iter.so: the package is named for its plugin
	expect_eq "$p: one plugin, named for the package" "${p#xtcpd-plugin-}" \
		"$(files "$(deb "$p")" | sed -n 's|.*/[a-z]*_\(.*\)\.so$|\1|p' | tr _ -)"
done
# The daemon loads plugins and reads its configuration only when root owns them and no one
# else may write them (core/ops/trust.c): so every path shipped, folders included.
expect_eq "every path root's, none writable by group or others" "" \
	"$(for d in $debs; do dpkg-deb -c "$d"; done |
		awk '$2 != "root/root" || ($1 !~ /^l/ && $1 ~ /^.....w|^........w/)')"
expect_eq "conffiles: every file under /etc, each in one package" \
	"$(cd "$src/debian/tmp" && find etc -type f | sed 's|^|/|' | sort)" \
	"$(for d in $debs; do dpkg-deb --ctrl-tarfile "$d" | tar -xO ./conffiles 2>/dev/null; done | sort)"
expect_eq "xtcpd-dev holds every installed header, xtcpd.pc and xtcpd-plugin(3)" \
	"$(cd "$src/debian/tmp" && find usr/include -name '*.h' | sed 's|^|/|' | sort)
/usr/lib/$MA/pkgconfig/xtcpd.pc
/usr/share/man/man3/xtcpd-plugin.3.gz" \
	"$(files "$(deb xtcpd-dev)" | grep -E '\.(h|pc|gz)$' | grep -v /doc/ | sort)"

step "lintian"
# As nobody: lintian unpacks what it checks and should not do that as root. Every tag is
# shown (info, pedantic, experimental, and the overridden ones with their reasons); errors
# and warnings fail. (Not --fail-on: with --show-overrides it counts overridden tags too.)
chmod 644 "$W"/*.deb "$W"/*.changes "$W"/*.buildinfo
runuser -u nobody -- env HOME=/nonexistent TMPDIR=/tmp lintian -I -E --pedantic --show-overrides \
	"$W/xtcpd_${version}_$arch.changes" > "$W/lintian.log" 2>&1
lint_rc=$?
grep -v '^N:' "$W/lintian.log"
expect_eq "lintian: exit status, errors and warnings" "0 " \
	"$lint_rc $(grep -E '^[EW]:' "$W/lintian.log" | paste -sd' ')"
if [ "${XTCPD_DEB_REPRO:-0}" = 1 ]; then
	step "reproducible: the same bytes from another folder, umask, time zone and locale"
	mkdir -p "$W/again/elsewhere/xtcpd" &&
		tar -C "$W/again/elsewhere/xtcpd" --strip-components=1 -xzf "$tarball"
	(cd "$W/again/elsewhere/xtcpd" && umask 0002 && TZ=Asia/Tokyo LANG=C.UTF-8 \
		DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=1" DEB_BUILD_PROFILES=nocheck \
		dpkg-buildpackage -us -uc -b) > "$W/build2.log" 2>&1 || fail "second dpkg-buildpackage"
	expect_eq "second build, same packages" "$(cd "$W" && sha256sum ./*.deb)" \
		"$(cd "$W/again/elsewhere" && sha256sum ./*.deb)"
fi
if [ -n "${XTCPD_DEB_OUT:-}" ]; then
	mkdir -p "$XTCPD_DEB_OUT" && cp "$W"/*.deb "$W"/*.changes "$W"/*.buildinfo "$XTCPD_DEB_OUT"/
fi

step "install, run, remove, purge in a debootstrap root"
DEB_CORE=$(deb xtcpd) DEB_DEV=$(deb xtcpd-dev) DEB_PLUGINS="$plugin_debs" SRC="$src" \
	bash "$src/tests/debian/chroot.sh"
rc=$?
case $rc in
0) pass ;;
77) if [ "${CI:-}" = true ]; then fail "the chroot test could not run (CI=true)"; else
	echo "SKIP: the chroot test could not run"; fi ;;
*) fail "the chroot test" ;;
esac
step "done"
finish
