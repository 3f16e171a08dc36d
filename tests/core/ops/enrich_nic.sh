#!/bin/sh
# enrich_nic — [core] enrich_nic: the uplinks on every record. In a namespace made here,
# two veth pairs carry an IPv4 and an IPv6 default route; the daemon runs inside it
# (`ip netns exec`: its own /sys/class/net) and must name both uplinks in route order
# with the driver the ethtool ioctl reports (veth) and the speed sysfs gives (10000);
# uplink_interfaces picks others; with core.enrich_root (tests) the PCI ids, speed and
# the model from pci.ids come from a throwaway root; SIGHUP reads them again; off, no
# uplink at all; -n refuses bad interface lists with file:line. Root only.
. "${XTCPD_SRCDIR:-.}/tests/lib/lib.sh"
need_root
need_cmd ip:iproute2
need_python
need_plugin source_netlink marshaller_json sink_file
S=$XTCPD_SRCDIR
T=$TMP
R=$T/root
NS=xt-nic-$$
PORT=$(( 20000 + $$ % 20000 ))
private_netns "$NS" || exit 1
set -e
ip -n "$NS" link add xtu0 type veth peer name xtu1
ip -n "$NS" link add xtv0 type veth peer name xtv1
for i in xtu0 xtu1 xtv0 xtv1; do ip -n "$NS" link set "$i" up; done
ip -n "$NS" addr add 10.77.0.1/24 dev xtu0
ip -n "$NS" route add default via 10.77.0.2 dev xtu0
ip -n "$NS" -6 addr add fd00:77::1/64 dev xtv0 nodad
ip -n "$NS" -6 route add default via fd00:77::2 dev xtv0
set +e
ip netns exec "$NS" /usr/bin/python3 -c 'import socket, sys, time
s = socket.socket()
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen()
open(sys.argv[2], "w").close()
time.sleep(600)' "$PORT" "$T/ready" &
kill_on_exit $!
wait_for 300 test -e "$T/ready" || { echo "listener not ready"; exit 1; }
INO=$(stat -L -c %i "/proc/$!/ns/net")

printf '[source netlink]\n' > "$T/xtcpd.conf"
mkdir -p "$T/conf.d"
# run OUT ARGS: one cycle of the daemon inside $NS (its namespace only)
run() {
	_o=$1
	shift
	ip netns exec "$NS" "$XTCPD" -c "$T/xtcpd.conf" -C "$T/conf.d" --once --dest stdout \
		--marshal json -o core.netns=host -o core.prom_listen= "$@" > "$T/$_o.json" 2> "$T/$_o.err"
	expect_eq "$_o: exit status" 0 $? || cat "$T/$_o.err"
}
check() {
	expect_ok "$1: uplinks on the records" \
		/usr/bin/python3 "$S/tests/core/netns/enrich_check.py" "$T/$1.json" "$T/expect.$1"
}
# the fields of a veth uplink: no PCI ids, bus or firmware; what is absent must be
U1="uplink1_nic_driver=veth uplink1_nic_bus_info=- uplink1_nic_fw_version=- uplink1_nic_model=-"
U2="uplink2_nic_driver=veth uplink2_nic_bus_info=- uplink2_nic_fw_version=- uplink2_nic_model=-"

run routes -o core.enrich_nic=true
echo "$INO uplink1_ifname=xtu0 $U1 uplink1_nic_speed_mbps=10000 uplink1_nic_pci_vendor=- uplink2_ifname=xtv0 $U2 uplink2_nic_speed_mbps=10000" > "$T/expect.routes"
check routes
expect_ok "routes: logged" grep -q "uplink1: xtu0: driver veth, pci 0000:0000 (-), bus -, 10000 Mb/s" "$T/routes.err"

run one -o core.enrich_nic=true -o core.uplink_count=1
echo "$INO uplink1_ifname=xtu0 uplink2_ifname=-" > "$T/expect.one"
check one

run named -o core.enrich_nic=true -o core.uplink_count=2 -o core.uplink_interfaces=xtv1,xtu1
echo "$INO uplink1_ifname=xtv1 uplink2_ifname=xtu1 uplink1_nic_driver=veth" > "$T/expect.named"
check named

# PCI ids, speed and model from a throwaway root (the driver still from the ioctl)
mkdir -p "$R/sys/class/net/xtu0/device" "$R/usr/share/misc"
echo 0x8086 > "$R/sys/class/net/xtu0/device/vendor"
echo 0x1572 > "$R/sys/class/net/xtu0/device/device"
echo 25000 > "$R/sys/class/net/xtu0/speed"
printf '# pci.ids\n10de  NVIDIA Corporation\n\t1572  Not this one\n8086  Intel Corporation\n\t1571  Ethernet Controller XL710 VF\n\t1572  Ethernet Controller X710 for 10GbE SFP+\n\t\t1028 0000  Subsystem\n8087  Intel Corporation\n' \
	> "$R/usr/share/misc/pci.ids"
run root -o core.enrich_nic=true -o core.uplink_interfaces=xtu0 -o core.enrich_root="$R"
/usr/bin/python3 - "$T/root.json" "$INO" > "$T/root.model" <<'EOP'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if str(r["netns_inode"]) == sys.argv[2]:
        print(r.get("uplink1_nic_model"))
EOP
expect_eq "root: model from pci.ids" "Ethernet Controller X710 for 10GbE SFP+" "$(sort -u "$T/root.model")"
echo "$INO uplink1_ifname=xtu0 uplink1_nic_driver=veth uplink1_nic_pci_vendor=32902 uplink1_nic_pci_device=5490 uplink1_nic_speed_mbps=25000" > "$T/expect.root"
check root

run off
echo "$INO uplink1_ifname=- uplink2_ifname=-" > "$T/expect.off"
check off

# SIGHUP reads the uplinks again.
printf '[core]\nenrich_nic = true\nuplink_interfaces = xtu0\nfrequency = 200ms\n[marshaller json]\n[sink file]\nmarshaller = json\npath = %s\n' \
	"$T/hup.json" > "$T/conf.d/nic.conf"
ip netns exec "$NS" "$XTCPD" -c "$T/xtcpd.conf" -C "$T/conf.d" -o core.netns=host -o core.prom_listen= \
	2> "$T/hup.err" &
D=$!
kill_on_exit $D
wait_for 300 grep -qs '"uplink1_ifname":"xtu0"' "$T/hup.json"
expect_ok "before SIGHUP: xtu0" grep -q '"uplink1_ifname":"xtu0"' "$T/hup.json"
sed -i 's/^uplink_interfaces = xtu0$/uplink_interfaces = xtv0/' "$T/conf.d/nic.conf"
kill -HUP $D
wait_for 300 grep -qs '"uplink1_ifname":"xtv0"' "$T/hup.json"
expect_ok "after SIGHUP: xtv0" grep -q '"uplink1_ifname":"xtv0"' "$T/hup.json"
stop $D
expect_eq "clean exit" 0 "$STOP_RC"
rm -f "$T/conf.d/nic.conf"

# -n: bad lists refused with file:line
printf '[source netlink]\n[marshaller json]\n[sink null]\n' > "$T/n.conf"
for bad in "eth0,eth1,eth2:more than 2 interfaces in 'eth0,eth1,eth2'" "eth0,../x:'../x' is not an interface name" \
	"averyveryverylongname:'averyveryverylongname' is not an interface name" "eth0,,eth1:'' is not an interface name"; do
	printf '[core]\nenrich_nic = true\nuplink_interfaces = %s\n' "${bad%%:*}" > "$T/conf.d/bad.conf"
	"$XTCPD" -n -c "$T/n.conf" -C "$T/conf.d" > "$T/n.out" 2>&1
	expect_eq "-n: '${bad%%:*}' refused" 2 $?
	expect_ok "-n: '${bad%%:*}': file:line and why" grep -qF "bad.conf:3: [core] uplink_interfaces: ${bad#*:}" "$T/n.out" || cat "$T/n.out"
done
printf '[core]\nuplink_count = 3\n' > "$T/conf.d/bad.conf"
"$XTCPD" -n -c "$T/n.conf" -C "$T/conf.d" > "$T/n.out" 2>&1
expect_eq "-n: uplink_count = 3 refused" 2 $?
expect_ok "-n: uplink_count: file:line" grep -q "bad.conf:2" "$T/n.out"
rm -f "$T/conf.d/bad.conf"
finish
