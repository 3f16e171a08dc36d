#!/bin/sh
# capture.sh — --capture writes predictable names (netlink-<inode>-<cycle>.nlraw), so
# (issue 23, item 6): a link planted at the next name does not make root write through it
# (a root 0600 file it points to stays as it was; the capture of that name is refused,
# said and counted, the run goes on); a capture folder anyone else can write to, or owned
# by a user, is refused at start with exit 2; the files it makes are 0640.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
[ "$(id -u)" = 0 ] || cannot_run "needs root (the victim is root's)"
have_plugin source_netlink && have_plugin marshaller_json || cannot_run "netlink/json plugins not built"
INO=$(stat -L -c %i /proc/self/ns/net)
printf '[source netlink]\n' > "$TMP/x.conf"
mkdir -m 755 "$TMP/conf.d"
run() { # DIR: one cycle of the host namespace, captured into DIR
	"$XTCPD" -c "$TMP/x.conf" -C "$TMP/conf.d" --once --dest null -o core.netns=host \
		-o core.prom_listen= --capture "$1" 2> "$TMP/err"
}

# a link planted at the first capture's name, to a root file
mkdir -m 755 "$TMP/cap"
printf 'secret\n' > "$TMP/victim"
chmod 600 "$TMP/victim"
ln -s "$TMP/victim" "$TMP/cap/netlink-$INO-000001.nlraw"
run "$TMP/cap"
expect_eq "planted link: the run goes on" 0 $?
expect_eq "planted link: the victim is untouched" "secret 600" "$(cat "$TMP/victim") $(stat -c %a "$TMP/victim")"
expect_eq "planted link: said" "xtcpd: warning: source/netlink: --capture: $TMP/cap/netlink-$INO-000001.nlraw: File exists (capture files are never overwritten)" "$(cat "$TMP/err")"

# a fresh folder: 0640 files
mkdir -m 755 "$TMP/cap2"
run "$TMP/cap2"
expect_eq "fresh capture: one file, 0640" "640 netlink-$INO-000001.nlraw" \
	"$(cd "$TMP/cap2" && stat -c '%a %n' -- *)"

# folders others could plant into
mkdir -m 1777 "$TMP/open"
run "$TMP/open"
expect_eq "world-writable folder: exit status" 2 $?
expect_eq "world-writable folder: message" "xtcpd: --capture $TMP/open: refused: folder $TMP/open is writable by others (chmod go-w)" "$(cat "$TMP/err")"
mkdir -m 755 "$TMP/users"
chown 65534 "$TMP/users"
run "$TMP/users"
expect_eq "a user's folder: exit status" 2 $?
expect_eq "a user's folder: message" "xtcpd: --capture $TMP/users: refused: folder $TMP/users is owned by uid 65534, neither root nor this daemon's user" "$(cat "$TMP/err")"
expect_eq "refused folders stay empty" "" "$(ls -A "$TMP/open"; ls -A "$TMP/users")"
finish
