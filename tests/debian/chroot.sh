#!/usr/bin/env bash
# tests/debian/chroot.sh — the built packages in a throwaway Debian root (debootstrap of the
# host's release): without systemd, install quietly, run the daemon and out-of-tree plugins,
# remove, purge and leave the root as it was; then boot it with systemd (booted.sh). Run by
# scripts/deb.sh with DEB_CORE, DEB_DEV, DEB_PLUGINS, SRC, MA, version set. 77: cannot run.
XTCPD=/usr/sbin/xtcpd # the packaged daemon, run inside the root
. "$(dirname "$0")/../lib/lib.sh"
export LC_ALL=C # sort and comm, here and in the root, agree
SUITE=$(. /etc/os-release && echo "$VERSION_CODENAME")
MIRROR=${XTCPD_DEB_MIRROR:-http://deb.debian.org/debian}
SECURITY=${XTCPD_DEB_SECURITY:-http://deb.debian.org/debian-security}
cannot() { echo "SKIP: $*"; exit $SKIP; }
need_root
command -v debootstrap >/dev/null || cannot "debootstrap is not installed (scripts/deps.sh)"
R=$(mktemp -d /tmp/xtcpd-root.XXXXXX)
chmod 755 "$R" # the root's /: mktemp's 0700 would shut the service's user out of everything
on_exit 'umount "$R/proc" 2>/dev/null; rm -rf --one-file-system "$R"'

echo "   debootstrap --variant=minbase $SUITE from $MIRROR ($SECONDS s)"
debootstrap --variant=minbase "$SUITE" "$R" "$MIRROR" > "$TMP/debootstrap.log" 2>&1 ||
	{ tail -5 "$TMP/debootstrap.log"; cannot "debootstrap $SUITE from $MIRROR failed"; }
mount -t proc proc "$R/proc" || cannot "cannot mount /proc in the root"
{
	echo "deb $MIRROR $SUITE main"
	[ "$SUITE" = sid ] || printf 'deb %s %s-updates main\ndeb %s %s-security main\n' \
		"$MIRROR" "$SUITE" "$SECURITY" "$SUITE"
} > "$R/etc/apt/sources.list"
chr() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C \
	DEBIAN_FRONTEND=noninteractive "$@"; }
apt_q() { chr apt-get -q -y --no-install-recommends "$@" >> "$TMP/apt.log" 2>&1 ||
	{ tail -5 "$TMP/apt.log"; return 1; }; }
# The toolchain a third-party plugin author has (not a dependency of any package)
apt_q update && apt_q install gcc libc6-dev pkgconf || cannot "apt-get in the root failed"
echo "   root ready; PID 1 of this machine: '$(cat /proc/1/comm)'; /run/systemd/system in" \
	"the root: $([ -d "$R/run/systemd/system" ] && echo yes || echo no) ($SECONDS s)"

# What the root holds: every path with type, mode and owner, file sizes, /etc contents.
# Left out: package manager state and logs, /tmp, the shadow tools' backups (passwd-) and
# adduser's lock file (/run is a tmpfs where systemd runs).
snap() {
	(cd "$R" && find . -xdev \( -path ./proc -o -path ./tmp -o -path ./var/lib/dpkg \
		-o -path ./var/lib/apt -o -path ./var/cache -o -path ./var/log -o -name '*shadow-' \
		-o -path ./etc/passwd- -o -path ./etc/group- -o -path ./run/adduser \) -prune \
		-o -type f -printf '%p f %m %U %G %s\n' -o -printf '%p %y %m %U %G\n' | sort
	find ./etc -xdev -type f ! -name '*-' -exec md5sum {} + | sort)
}
installed() {
	chr dpkg-query -W -f='${db:Status-Status} ${binary:Package}\n' |
		awk '$1 == "installed" { print $2 }' | sort
}
# Dependencies of some of our packages, without our own: for apt-get satisfy.
deps() {
	for d; do dpkg-deb -f "$d" Depends; done | tr ',' '\n' | sed 's/^ *//' | grep . |
		grep -v '^xtcpd' | sort -u | paste -sd,
}
# What dpkg and the maintainer scripts said beyond dpkg's usual progress lines.
said() {
	grep -vE '^(Selecting previously unselected package |\(Reading database \.\.\. |Preparing to unpack |Unpacking |Setting up |Processing triggers for |Removing |Purging configuration files for )' "$1"
}
in_root() { for d; do printf '/tmp/debs/%s\n' "$(basename "$d")"; done; }
plugins_of() { for d; do dpkg-deb -c "$d"; done | sed -nE 's|.*/([a-z]+)_([^/]+)\.so$|\1\t\2|p' | sort; }
dpkg_in() { local log=$1; shift; chr dpkg "$@" > "$log" 2>&1; }

snap > "$TMP/s0"
installed > "$TMP/p0"
mkdir -p "$R/tmp/debs" "$R/tmp/oot" && cp $DEB_CORE $DEB_DEV $DEB_PLUGINS "$R/tmp/debs/"

echo "   core and -dev ($SECONDS s)"
apt_q satisfy "$(deps $DEB_CORE $DEB_DEV)" || fail "dependencies of xtcpd and xtcpd-dev"
expect_eq "xtcpd and xtcpd-dev pull no plugin package's library" "" \
	"$(installed | grep -E '^lib(rdkafka|curl|nats|hiredis|bpf|elf|uring)')"
dpkg_in "$TMP/i1" -i $(in_root $DEB_CORE $DEB_DEV)
expect_eq "install: exit status, nothing said without systemd" "0 " "$? $(said "$TMP/i1")"
pw=$(chr getent passwd xtcpd)
expect_eq "system user" "xtcpd daemon (user and group created by the xtcpd package),,,:/nonexistent:/usr/sbin/nologin" \
	"$(echo "$pw" | cut -d: -f5-)"
expect_eq "uid in the system range, own group" "yes xtcpd" \
	"$([ "$(echo "$pw" | cut -d: -f3)" -lt 1000 ] && echo yes) $(chr getent group "$(echo "$pw" | cut -d: -f4)" | cut -d: -f1)"
unit=$(dpkg-deb -c "$DEB_CORE" | grep -o '/[^ ]*/systemd/system/xtcpd.service')
expect_eq "unit enabled for multi-user.target (started only where systemd runs)" "$unit" \
	"$(readlink "$R/etc/systemd/system/multi-user.target.wants/xtcpd.service")"
expect_eq "xtcpd -n on the shipped configuration" "configuration OK" "$(chr xtcpd -n 2>&1)"
# As the service runs: the unit's user with its ambient capabilities, so the daemon counts as
# privileged and trusts only root's files (core/ops/trust.c): what the package ships passes,
# and the same file made group-writable is refused.
unit_cmd=$(sed -n 's/^ExecStart=//p' "$R$unit")
caps=$(sed -n 's/^AmbientCapabilities=//p' "$R$unit" | tr 'A-Z ' 'a-z\n' | sed 's/^cap_/+/' | paste -sd,)
as_unit() { chr setpriv --reuid="$(sed -n 's/^User=//p' "$R$unit")" --regid="$(sed -n 's/^Group=//p' "$R$unit")" \
	--init-groups --inh-caps="$caps" --ambient-caps="$caps" "$@"; }
expect_eq "as the unit's user with its capabilities: xtcpd -n" "configuration OK" \
	"$(as_unit $unit_cmd -n 2>&1)"
chmod g+w "$R/etc/xtcpd/conf.d/10-source-netlink.conf"
expect_eq "as the unit's user: a group-writable conf.d file is refused" "2 refused" \
	"$(as_unit $unit_cmd -n > "$TMP/gw" 2>&1; echo "$? $(grep -o 'refused' "$TMP/gw" | head -1)")"
chmod g-w "$R/etc/xtcpd/conf.d/10-source-netlink.conf"
expect_eq "compiled-in plugin folder" "/usr/lib/$MA/xtcpd" \
	"$(chr xtcpd --help-core | awk -F'\t' '$1 == "plugin_dir" { print $3 }')"
expect_eq "xtcpd.pc: plugindir, version" "/usr/lib/$MA/xtcpd ${version%-*}" \
	"$(chr pkg-config --variable=plugindir xtcpd) $(chr pkg-config --modversion xtcpd)"
expect_eq "--list-plugins: the core package's" "$(plugins_of "$DEB_CORE")" \
	"$(chr xtcpd --list-plugins 2>&1 | cut -f1,2 | sort)"

# One poll with the shipped configuration, run as the service, reports our listener. Host
# namespace only: other tests' namespaces come and go on a shared machine, and a dump cut
# short warns.
python3 -c 'import socket, sys, time
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
print(l.getsockname()[1], flush=True); time.sleep(600)' > "$TMP/port" &
kill_on_exit $!
i=0; while [ ! -s "$TMP/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
port=$(cat "$TMP/port")
as_unit $unit_cmd --once -o core.prom_listen= -o core.netns=host > "$TMP/once.json" 2> "$TMP/once.err"
expect_eq "--once as the service: exit status, stderr" "0 " "$? $(cat "$TMP/once.err")"
expect_eq "--once: our listener, once" 1 "$(python3 -c 'import json, sys
print(sum(1 for l in open(sys.argv[1]) for r in [json.loads(l)] if r["netns"] == "host"
    and r["inet_diag_msg_state"] == "LISTEN" and r["inet_diag_msg_socket_source_port"] == int(sys.argv[2])))' \
	"$TMP/once.json" "$port")"

# Third-party plugins built against the installed xtcpd-dev only, in the plugin folder:
# a sink, and a marshaller over the installed field table <xtcpd/record_fields.h>.
cp "$SRC/tests/lib/plugins/oot_sink.c" "$SRC/tests/lib/plugins/oot_marshaller.c" "$R/tmp/oot/"
chr sh -c 'cd /tmp/oot && dir=$(pkg-config --variable=plugindir xtcpd) &&
	cc -std=c11 -Wall -Werror -shared -fPIC $(pkg-config --cflags xtcpd) -o $dir/sink_oot.so oot_sink.c &&
	cc -std=c11 -Wall -Werror -shared -fPIC $(pkg-config --cflags xtcpd) -o $dir/marshaller_ootfields.so oot_marshaller.c'
expect_eq "out-of-tree sink and marshaller build against xtcpd-dev" 0 $?
poll_ours="[core]
prom_listen =
netns = host
[source netlink]
states = listen
sport = $port"
printf '%s\n[marshaller protobufList]\n[sink oot]\npath = /tmp/oot/counts\n' "$poll_ours" > "$R/tmp/oot/sink.conf"
chr xtcpd -c /tmp/oot/sink.conf -C /tmp/oot/none --once > "$TMP/oot.out" 2>&1
expect_eq "oot sink: exit status, got our listener only" "0 rows=1 batches=1" \
	"$? $(cat "$R/tmp/oot/counts" 2>&1)"
expect_eq "oot sink keys" "path	string	-	up to 4095 characters	(required) where to write the counts" \
	"$(chr xtcpd --help-plugin oot | sed -n 3p)"
nfields=$(($(wc -l < "$SRC/proto/xtcp_flat_record_v1.tsv") - 1 + $(grep -c '= 50[0-9][0-9];' "$SRC/proto/xtcp_flat_record.proto")))
printf '%s\n[marshaller ootfields]\n[sink file]\npath = /tmp/oot/fields.txt\n' "$poll_ours" > "$R/tmp/oot/m.conf"
chr xtcpd -c /tmp/oot/m.conf -C /tmp/oot/none --once > "$TMP/ootm.out" 2>&1
expect_eq "oot marshaller: exit status, one line, every field of the table" "0 1 fields=$nfields" \
	"$? $(wc -l < "$R/tmp/oot/fields.txt") $(sed 's/.* \(fields=[0-9]*\) .*/\1/' "$R/tmp/oot/fields.txt")"
rm -f "$R/usr/lib/$MA/xtcpd/sink_oot.so" "$R/usr/lib/$MA/xtcpd/marshaller_ootfields.so"

echo "   plugin packages ($SECONDS s)"
apt_q satisfy "$(deps $DEB_PLUGINS)" || fail "dependencies of the plugin packages"
dpkg_in "$TMP/i2" -i $(in_root $DEB_PLUGINS)
expect_eq "install plugins: exit status, nothing said" "0 " "$? $(said "$TMP/i2")"
expect_eq "--list-plugins: every package's" "$(plugins_of $DEB_CORE $DEB_PLUGINS)" \
	"$(chr xtcpd --list-plugins 2>&1 | cut -f1,2 | sort)"
while IFS="$(printf '\t')" read -r kind name; do
	expect_eq "--help-plugin $name" "# $kind $name" "$(chr xtcpd --help-plugin "$name" | head -1 | cut -d' ' -f1-3)"
done < <(plugins_of $DEB_PLUGINS)
# The packaged io_uring source (liburing from its package's Depends) polls our listener.
printf '[core]\nprom_listen =\nnetns = host\n[source io_uring]\nstates = listen\nsport = %s\n[marshaller json]\n[sink file]\npath = /tmp/oot/uring.json\n' \
	"$port" > "$R/tmp/oot/uring.conf"
chr xtcpd -c /tmp/oot/uring.conf -C /tmp/oot/none --once > "$TMP/uring.out" 2>&1
expect_eq "io_uring package: --once exit status, our listener once" "0 1" \
	"$? $(grep -c "\"inet_diag_msg_socket_source_port\":$port," "$R/tmp/oot/uring.json" 2>&1)"

echo "   remove and purge ($SECONDS s)"
echo '# the admin'"'"'s own' > "$R/etc/xtcpd/conf.d/99-local.conf"
mkdir "$R/var/log/xtcpd" && echo '{}' > "$R/var/log/xtcpd/xtcpd.json" # as the service would
ours=$(for d in $DEB_CORE $DEB_DEV $DEB_PLUGINS; do dpkg-deb -f "$d" Package; done)
dpkg_in "$TMP/r" -r $ours
expect_eq "remove: exit status, nothing said" "0 " "$? $(said "$TMP/r")"
expect_eq "after remove: no daemon, no plugin folder, conffiles and user kept" "yes" \
	"$([ ! -e "$R/usr/sbin/xtcpd" ] && [ ! -e "$R/usr/lib/$MA/xtcpd" ] &&
		[ -f "$R/etc/xtcpd/xtcpd.conf" ] && chr getent passwd xtcpd >/dev/null && echo yes)"
# every package left with conffiles: the plugin packages hold conffiles (their conf.d examples) too; the
# warning comes from whichever of them dpkg purges last
dpkg_in "$TMP/p" -P $(chr dpkg-query -W -f='${db:Status-Status} ${Package}\n' $ours 2>/dev/null |
	awk '$1 == "config-files" { print $2 }')
expect_eq "purge: exit status, dpkg keeps the admin's file" \
	"0 dpkg: warning: while removing PKG, directory '/etc/xtcpd/conf.d' not empty so not removed" \
	"$? $(said "$TMP/p" | sed 's/while removing [^,]*,/while removing PKG,/')"
expect_eq "purge: user, group, logs, unit links gone; the admin's file kept" \
	"/etc/xtcpd/conf.d/99-local.conf" \
	"$(chr getent passwd xtcpd; chr getent group xtcpd; ls "$R/var/log/xtcpd" 2>/dev/null
	find "$R/etc/systemd" "$R/var/lib/systemd" -name '*xtcpd*'; find "$R/etc/xtcpd" -type f | sed "s|^$R||")"
rm -r "$R/etc/xtcpd"

# A user or group the admin made before is the admin's: install and purge keep it.
chr adduser --system --no-create-home --quiet --comment "the admin's" xtcpd
before=$(chr getent passwd xtcpd)
dpkg_in "$TMP/a1" -i $(in_root $DEB_CORE) && dpkg_in "$TMP/a2" -P xtcpd
expect_eq "admin's user: install and purge quiet, user untouched" "0  $before" \
	"$? $(said "$TMP/a1")$(said "$TMP/a2") $(chr getent passwd xtcpd)"
chr userdel xtcpd
chr addgroup --system --quiet xtcpd
group=$(chr getent group xtcpd)
dpkg_in "$TMP/g1" -i $(in_root $DEB_CORE)
expect_eq "admin's group: the package's user joins it" \
	"xtcpd daemon (user created by the xtcpd package),,, $(echo "$group" | cut -d: -f3)" \
	"$(chr getent passwd xtcpd | cut -d: -f5) $(chr getent passwd xtcpd | cut -d: -f4)"
dpkg_in "$TMP/g2" -P xtcpd
expect_eq "admin's group: purge removes the user, keeps the group" "0 $group" \
	"$? $(said "$TMP/g1")$(said "$TMP/g2")$(chr getent passwd xtcpd)$(chr getent group xtcpd)"
chr groupdel xtcpd

# Nothing left behind: the dependencies go too, and the root is as it was.
added=$(comm -13 "$TMP/p0" <(installed))
[ -z "$added" ] || apt_q purge $added || fail "purge the dependencies"
expect_eq "root as before the first install" "" "$(diff "$TMP/s0" <(snap))"
expect_eq "dpkg forgot our packages" "" "$(chr dpkg-query -W 'xtcpd*' 2>/dev/null)"

. "$(dirname "$0")/booted.sh"
echo "   done ($SECONDS s)"
finish
