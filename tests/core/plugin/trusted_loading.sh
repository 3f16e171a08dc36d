#!/bin/sh
# trusted_loading.sh — only root's code is loaded (issue 23, items 3-4), each attack run
# as reported and shown refused, with a plugin whose constructor leaves a mark when it runs:
#  1. the plugin folder is a link in a user's (65534) folder, flipped by the user between
#     root's plugins and their own, against 40 starts by root: all refused, no mark;
#  2. a plugin that is a link (root's, in root's folder): refused;
#  3. a root-owned plugin folder inside a user's folder: refused;
#  4. the running daemon holds its plugins' files open (it loaded them through the fds);
#  5. with file capabilities on the binary (AT_SECURE), run by user 65534:
#     XTCPD_PLUGIN_DIR, -c, -C and -o core.plugin_dir are refused, the mark never made;
#     without them (no privilege), the same user's plugin runs, as that user.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
[ "$(id -u)" = 0 ] || cannot_run "needs root"
command -v setpriv >/dev/null || cannot_run "no setpriv (util-linux)"
command -v setcap >/dev/null || cannot_run "no setcap (libcap2-bin)"
LIBS=$XTCPD_BUILDDIR/.libs
[ -e "$LIBS/test_evil.so" ] && have_plugin source_synth || cannot_run "test plugins not built"
mkdir -m 1777 "$TMP/marks"   # where the plugin, run by root or by the user, leaves its mark
MARK=$TMP/marks/mark
export XTCPD_TEST_MARK=$MARK
AS_USER="setpriv --reuid=65534 --regid=65534 --clear-groups"
printf '[source synth]\n[sink broken]\n' > "$TMP/x.conf"
mkdir -m 755 "$TMP/none"

# 1. the plugin folder is a link, in a user's folder, that the user flips between root's
# plugins and their own (what a check by path, then dlopen by path, lost to)
mkdir -m 755 "$TMP/good" "$TMP/user" "$TMP/user/evil"
cp "$LIBS/source_synth.so" "$TMP/good/"
cp "$LIBS/test_good.so" "$TMP/good/sink_broken.so"
cp "$LIBS/source_synth.so" "$TMP/user/evil/"
cp "$LIBS/test_evil.so" "$TMP/user/evil/sink_broken.so"
ln -s "$TMP/good" "$TMP/user/plugins"
chown -R 65534:65534 "$TMP/user"
$AS_USER sh -c 'cd "$1" && while :; do ln -sfn evil l && mv -T l plugins;
	ln -sfn "$2" l && mv -T l plugins; done' flipper "$TMP/user" "$TMP/good" 2>/dev/null &
kill_on_exit $!
refused=0
for i in $(seq 40); do
	out=$(XTCPD_PLUGIN_DIR="$TMP/user/plugins" "$XTCPD" -n -c "$TMP/x.conf" -C "$TMP/none" 2>&1)
	[ $? = 2 ] && [ "$out" = "xtcpd: $TMP/x.conf:1: [source synth]: plugin $TMP/user/plugins/source_synth.so refused: folder $TMP/user is owned by uid 65534, neither root nor this daemon's user" ] &&
		refused=$((refused + 1))
done
expect_eq "1. starts refused (a flipped link in a user's folder)" 40 $refused
expect_eq "1. the user's code never ran" "" "$(cat "$MARK" 2>/dev/null)"

# 2. a link, even root's in root's folder
mkdir -m 755 "$TMP/root"
cp "$LIBS/source_synth.so" "$LIBS/test_good.so" "$TMP/root/"
ln -s test_good.so "$TMP/root/sink_broken.so"
out=$(XTCPD_PLUGIN_DIR="$TMP/root" "$XTCPD" -n -c "$TMP/x.conf" -C "$TMP/none" 2>&1)
expect_eq "2. a link: exit status" 2 $?
expect_eq "2. a link: message" "xtcpd: $TMP/x.conf:2: [sink broken]: plugin $TMP/root/sink_broken.so refused: file $TMP/root/sink_broken.so is a symbolic link" "$out"

# 3. root's folder in a user's folder: the user can swap it
mkdir -m 755 "$TMP/u2"
mkdir -m 755 "$TMP/u2/plugins"
cp "$LIBS/source_synth.so" "$TMP/u2/plugins/"
cp "$LIBS/test_evil.so" "$TMP/u2/plugins/sink_broken.so"
chown 65534 "$TMP/u2"
out=$(XTCPD_PLUGIN_DIR="$TMP/u2/plugins" "$XTCPD" -n -c "$TMP/x.conf" -C "$TMP/none" 2>&1)
expect_eq "3. parent of a user: exit status" 2 $?
expect_eq "3. parent of a user: message" "xtcpd: $TMP/x.conf:1: [source synth]: plugin $TMP/u2/plugins/source_synth.so refused: folder $TMP/u2 is owned by uid 65534, neither root nor this daemon's user" "$out"
expect_eq "3. the code never ran" "" "$(cat "$MARK" 2>/dev/null)"

# 4. a running daemon holds the files it loaded open
have_plugin marshaller_json && have_plugin sink_null || cannot_run "json/null plugins not built"
printf '[core]\nfrequency = 1h\nprom_listen =\nnetns = host\n[source synth]\n[marshaller json]\n[sink null]\n' > "$TMP/run.conf"
"$XTCPD" -c "$TMP/run.conf" -C "$TMP/none" 2> "$TMP/err" &
PID=$!
kill_on_exit $PID
i=0
while [ $i -lt 100 ] && [ "$(ls -l /proc/$PID/fd 2>/dev/null | grep -c '\.so$')" -lt 3 ]; do
	sleep 0.05; i=$((i + 1))
done
expect_eq "4. plugin files held open" "$LIBS/marshaller_json.so
$LIBS/sink_null.so
$LIBS/source_synth.so" "$(for f in /proc/$PID/fd/*; do readlink "$f"; done | grep '\.so$' | sort)"
kill $PID; wait $PID

# 5. file capabilities: the caller chooses nothing
mkdir -m 755 "$TMP/bin"
cp "$XTCPD" "$TMP/bin/xtcpd"
cp "$XTCPD" "$TMP/bin/xtcpd-plain"
setcap cap_sys_admin,cap_sys_ptrace,cap_net_admin+ep "$TMP/bin/xtcpd" 2> "$TMP/setcap" ||
	cannot_run "setcap on $TMP: $(cat "$TMP/setcap")"
mkdir -m 755 "$TMP/mine"
cp "$LIBS/test_evil.so" "$TMP/mine/sink_broken.so"
cp "$TMP/x.conf" "$TMP/mine/x.conf"
chown -R 65534:65534 "$TMP/mine"
WHY="xtcpd runs with privileges its caller does not have (file capabilities or setuid), so it reads only"
check_refused() { # NAME WHAT CMD...: exit 2 and the one line naming WHAT, no mark
	name=$1 what=$2
	shift 2
	out=$("$@" 2>&1)
	expect_eq "5. $name: exit status" 2 $?
	expect_eq "5. $name: message" "xtcpd: $what refused: $WHY" "$(echo "$out" | cut -d/ -f1 | sed 's/ *$//')"
}
check_refused "XTCPD_PLUGIN_DIR" XTCPD_PLUGIN_DIR \
	env XTCPD_PLUGIN_DIR="$TMP/mine" $AS_USER "$TMP/bin/xtcpd" --list-plugins
check_refused "-c" -c env -u XTCPD_PLUGIN_DIR $AS_USER "$TMP/bin/xtcpd" -n -c "$TMP/mine/x.conf"
check_refused "-C" -C env -u XTCPD_PLUGIN_DIR $AS_USER "$TMP/bin/xtcpd" -n -C "$TMP/mine"
check_refused "-o core.plugin_dir" "-o core.plugin_dir" \
	env -u XTCPD_PLUGIN_DIR $AS_USER "$TMP/bin/xtcpd" -n -o core.plugin_dir="$TMP/mine"
expect_eq "5. with file capabilities the user's code never ran" "" "$(cat "$MARK" 2>/dev/null)"
# the control: the same binary without capabilities runs the user's plugin as the user
XTCPD_PLUGIN_DIR="$TMP/mine" $AS_USER "$TMP/bin/xtcpd-plain" --list-plugins > /dev/null 2>&1
expect_eq "5. without privilege a user's plugin runs as the user" "uid=65534" "$(cat "$MARK" 2>/dev/null)"
finish
