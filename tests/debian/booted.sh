# tests/debian/booted.sh — sourced by chroot.sh once the root is back as it was: systemd
# boots in it (systemd-nspawn, own network namespace), and there installing the packages
# enables and starts the service as its unit says, removing stops it, purging cleans up.
echo "   with systemd: boot the root with systemd-nspawn ($SECONDS s)"
booted() {
	command -v systemd-nspawn >/dev/null ||
		{ fail "systemd-nspawn is not installed (scripts/deps.sh: systemd-container)"; return; }
	apt_q install systemd systemd-sysv && apt_q satisfy "$(deps $DEB_CORE $DEB_PLUGINS)" ||
		{ fail "systemd and the dependencies in the root"; return; }
	# the container mounts a tmpfs on /tmp and its own /proc
	mkdir "$R/srv/debs" && cp $DEB_CORE $DEB_PLUGINS "$R/srv/debs/" && umount "$R/proc"
	# Where this machine runs no systemd, nspawn can neither register nor make a scope.
	local opts="--register=no" run_nspawn=no leader="" polled=no i
	[ -d /run/systemd/system ] || opts="$opts --keep-unit"
	[ -e /run/systemd/nspawn ] && run_nspawn=yes
	systemd-nspawn -q -D "$R" $opts --private-network --console=passive -b > "$TMP/nspawn.log" 2>&1 &
	nspawn=$!
	# on exit: shut it down if still up, kill its init after 30 s; drop nspawn's /run folders
	[ $run_nspawn = yes ] || on_exit "rmdir /run/systemd/nspawn/locks /run/systemd/nspawn/propagate /run/systemd/nspawn 2>/dev/null"
	on_exit 'kill $nspawn 2>/dev/null && { for i in $(seq 60); do kill -0 $nspawn 2>/dev/null || break; sleep 0.5; done
		kill -9 $(pgrep -P $nspawn) 2>/dev/null; wait $nspawn; }'
	# the container's init: nspawn's child once that is systemd (an outer child comes first)
	for i in $(seq 600); do
		leader=$(pgrep -P $nspawn | head -1)
		[ -n "$leader" ] && [ "$(cat "/proc/$leader/comm" 2>/dev/null)" = systemd ] && break
		sleep 0.1
	done
	in_c() { nsenter -t "$leader" -m -u -i -p -n -C --root --wd /usr/bin/env -i LC_ALL=C \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
	# up once systemctl can talk to it and it says so (degraded: some unit of the bare root
	# failed, not ours, which is not installed yet)
	local state=""
	for i in $(seq 240); do
		state=$(in_c systemctl is-system-running 2>/dev/null)
		case "$state" in running | degraded) break ;; esac
		sleep 0.5
	done
	echo "   systemd in the root: ${state:-not up} ($SECONDS s)"
	[ -n "$state" ] || { fail "systemd did not come up in the container"; cat "$TMP/nspawn.log"; return; }

	in_c dpkg -i $(for d in $DEB_CORE $DEB_PLUGINS; do echo "/srv/debs/$(basename "$d")"; done) \
		> "$TMP/b1" 2>&1
	expect_eq "with systemd, install: exit status; enabled and started" "0 enabled active" \
		"$? $(in_c systemctl is-enabled xtcpd) $(in_c systemctl is-active xtcpd)"
	# Running as the unit's user (root when it names none), and collecting: its own metrics
	# listener is the one TCP socket of the container's namespace.
	local user pid
	user=$(in_c systemctl show -p User --value xtcpd)
	pid=$(in_c systemctl show -p MainPID --value xtcpd)
	expect_eq "the service runs as the unit's user" "$(in_c id -u "${user:-root}")" \
		"$(in_c awk '/^Uid:/ { print $2 }' "/proc/$pid/status")"
	for i in $(seq 60); do
		in_c journalctl -u xtcpd -o cat 2>/dev/null | grep '"inet_diag_msg_state":"LISTEN"' |
			grep -q '"inet_diag_msg_socket_source_port":9088,' && { polled=yes; break; }
		sleep 0.5
	done
	expect_eq "the service polled: its own listener in the journal; its LogsDirectory made" \
		"yes /var/log/xtcpd" "$polled $(in_c ls -d /var/log/xtcpd)"
	in_c dpkg -r $(for d in $DEB_PLUGINS $DEB_CORE; do dpkg-deb -f "$d" Package; done) > "$TMP/b2" 2>&1
	expect_eq "with systemd, remove: exit status; stopped" "0 inactive" \
		"$? $(in_c systemctl is-active xtcpd)"
	# every package: plugin packages hold conffiles (their conf.d examples) too
	in_c dpkg -P $(for d in $DEB_PLUGINS $DEB_CORE; do dpkg-deb -f "$d" Package; done) > "$TMP/b3" 2>&1
	expect_eq "with systemd, purge: exit status; no user, logs or unit link left" "0 " \
		"$? $(in_c getent passwd xtcpd; in_c find /etc/systemd /var/lib/systemd /var/log -name '*xtcpd*')"
	# SIGRTMIN+4 makes systemd power off (systemctl poweroff would ask logind, not installed)
	kill -s RTMIN+4 "$leader"
	for i in $(seq 120); do kill -0 $nspawn 2>/dev/null || break; sleep 0.5; done
	wait $nspawn
	expect_eq "the container shut down" 0 $?
}
booted
