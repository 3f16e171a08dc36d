#!/bin/sh
# conf_trust.sh — configuration is code (it names the plugins and what they load): a file
# or conf.d folder anyone but root could have written is refused before anything starts,
# with the path and the reason, exit 2 (issue 23, item 5). The attack as reported: a user
# writes a conf.d fragment that points plugin_dir at their own plugin, root starts the
# daemon: refused, the plugin's constructor never runs. Unprivileged, the daemon's own
# user's files are trusted (and only theirs).
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
[ "$(id -u)" = 0 ] || cannot_run "needs root"
command -v setpriv >/dev/null || cannot_run "no setpriv (util-linux)"
LIBS=$XTCPD_BUILDDIR/.libs
[ -e "$LIBS/test_evil.so" ] && have_plugin source_synth && have_plugin sink_null && have_plugin marshaller_json ||
	cannot_run "test plugins not built"
mkdir -m 1777 "$TMP/marks"
export XTCPD_TEST_MARK=$TMP/marks/mark
AS_USER="setpriv --reuid=65534 --regid=65534 --clear-groups"

# case NAME EXPECTED-MESSAGE ARGS...: `xtcpd -n ARGS` exits 2 with exactly the message
case_refused() {
	name=$1 want=$2
	shift 2
	out=$("$XTCPD" -n "$@" 2>&1)
	expect_eq "$name: exit status" 2 $?
	expect_eq "$name: message" "$want" "$out"
}
case_ok() {
	name=$1
	shift
	expect_eq "$name" "configuration OK" "$("$XTCPD" -n "$@" 2>&1)"
}
good() { # DIR: a root folder with a valid main file and an empty conf.d
	mkdir -m 755 "$1" "$1/conf.d"
	printf '[source synth]\n[marshaller json]\n[sink null]\n' > "$1/x.conf"
	chmod 644 "$1/x.conf"
}

good "$TMP/a"
case_ok "root's files" -c "$TMP/a/x.conf"
chmod o+w "$TMP/a/x.conf"
case_refused "world-writable file" "xtcpd: $TMP/a/x.conf: refused: file $TMP/a/x.conf is writable by others (chmod go-w)" -c "$TMP/a/x.conf"
chmod 664 "$TMP/a/x.conf"
case_refused "group-writable file" "xtcpd: $TMP/a/x.conf: refused: file $TMP/a/x.conf is writable by its group (chmod go-w)" -c "$TMP/a/x.conf"
chmod 644 "$TMP/a/x.conf"
chown 65534 "$TMP/a/x.conf"
case_refused "a user's file" "xtcpd: $TMP/a/x.conf: refused: file $TMP/a/x.conf is owned by uid 65534, neither root nor this daemon's user" -c "$TMP/a/x.conf"
chown 0 "$TMP/a/x.conf"
chmod g+w "$TMP/a/conf.d"
case_refused "group-writable conf.d" "xtcpd: $TMP/a/conf.d: refused: folder $TMP/a/conf.d is writable by its group (chmod go-w)" -c "$TMP/a/x.conf"
chmod g-w "$TMP/a/conf.d"
printf '[sink null]\nqueue_depth = 4\n' > "$TMP/a/conf.d/10-x.conf"
chown 65534 "$TMP/a/conf.d/10-x.conf"
case_refused "a user's file in conf.d" "xtcpd: $TMP/a/conf.d/10-x.conf: refused: file $TMP/a/conf.d/10-x.conf is owned by uid 65534, neither root nor this daemon's user" -c "$TMP/a/x.conf"
rm "$TMP/a/conf.d/10-x.conf"

# the attack: a user's conf.d naming the user's plugin folder
good "$TMP/b"
mkdir -m 755 "$TMP/b/mine"
cp "$LIBS/source_synth.so" "$LIBS/sink_null.so" "$TMP/b/mine/"
cp "$LIBS/test_evil.so" "$TMP/b/mine/sink_broken.so"
printf '[core]\nplugin_dir = %s\n[sink broken]\n' "$TMP/b/mine" > "$TMP/b/conf.d/50-mine.conf"
chown -R 65534:65534 "$TMP/b/conf.d" "$TMP/b/mine"
case_refused "a user's conf.d" "xtcpd: $TMP/b/conf.d: refused: folder $TMP/b/conf.d is owned by uid 65534, neither root nor this daemon's user" -c "$TMP/b/x.conf"
expect_eq "a user's conf.d: their plugin never ran" "" "$(cat "$TMP/marks/mark" 2>/dev/null)"

# the main file in a user's folder (the user can replace it)
good "$TMP/c"
chown 65534 "$TMP/c"
case_refused "a user's folder" "xtcpd: $TMP/c/x.conf: refused: folder $TMP/c is owned by uid 65534, neither root nor this daemon's user" -c "$TMP/c/x.conf"

# links are followed when root owns them, and the target is checked as well
good "$TMP/d"
mkdir -m 755 "$TMP/d/available" "$TMP/d/user"
printf '[sink null]\nqueue_depth = 4\n' > "$TMP/d/available/10-x.conf"
ln -s ../available/10-x.conf "$TMP/d/conf.d/10-x.conf"
case_ok "root's link to root's file" -c "$TMP/d/x.conf"
printf '[sink null]\nqueue_depth = 4\n' > "$TMP/d/user/20-y.conf"
chown 65534 "$TMP/d/user"
ln -s ../user/20-y.conf "$TMP/d/conf.d/20-y.conf"
case_refused "root's link into a user's folder" "xtcpd: $TMP/d/conf.d/20-y.conf: refused: folder $TMP/d/user is owned by uid 65534, neither root nor this daemon's user" -c "$TMP/d/x.conf"

# unprivileged: the daemon's own user's files are trusted, another user's are not
good "$TMP/e"
chown -R 65534:65534 "$TMP/e"
expect_eq "unprivileged: own files" "configuration OK" \
	"$($AS_USER "$XTCPD" -n -c "$TMP/e/x.conf" 2>&1)"
chown 1 "$TMP/e/x.conf"
expect_eq "unprivileged: another user's file" "xtcpd: $TMP/e/x.conf: refused: file $TMP/e/x.conf is owned by uid 1, neither root nor this daemon's user" \
	"$($AS_USER "$XTCPD" -n -c "$TMP/e/x.conf" 2>&1)"
finish
