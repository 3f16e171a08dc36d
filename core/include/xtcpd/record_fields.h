/* xtcpd/record_fields.h — the one table that maps struct xtcpd_record onto the wire
 * schema (proto/xtcp_flat_record.proto), in field-number order. Every marshaller expands
 * it with its own F() so encoders stay reflection-free yet cannot drift from the schema
 * (tests/plugins/marshallers/ check it against the .proto and the generated protobuf-c code).
 *
 * F(number, proto_name, json_camel_name, type, json_mode, json_key, present, value)
 *   type      U32 U64 I64 (varint), BOOL, STR (const char *, NULL = absent), NAME
 *             (char array, maybe not NUL-terminated: bounded by its size - 1),
 *             ADDR (16 raw bytes), ENUM (CongestionAlgorithm)
 *   json_mode how the human json marshaller renders it: N number, Z number omitted
 *             when 0 (enrichment: 0 = unknown), S string, BOOL (only when true),
 *             FAMILY/STATE/TIMER/CASTATE/CONG names, ADDR text address
 *   json_key  the human json key: the schema name plus a unit suffix for times
 *   present   expression of `r` that is true when the kernel sent the value (group bit,
 *             or for tcp_info whether tcpi_len covers the member)
 *   value     expression of `r` (const struct xtcpd_record *) giving the value
 */
#ifndef XTCPD_RECORD_FIELDS_H
#define XTCPD_RECORD_FIELDS_H

#include <xtcpd/record.h>

#define XTCPD_RECORD_FIELDS(F) \
	F(1, schema_version, schemaVersion, U32, N, schema_version, 1, r->schema_version) \
	F(2, daemon_version, daemonVersion, STR, S, daemon_version, 1, r->daemon_version) \
	F(10, timestamp_ns, timestampNs, I64, N, timestamp_ns, 1, r->timestamp_ns) \
	F(20, hostname, hostname, STR, S, hostname, 1, r->hostname) \
	F(21, location, location, STR, S, location, 1, r->location) \
	F(30, netns, netns, STR, S, netns, 1, r->netns) \
	F(31, netns_inode, netnsInode, U64, N, netns_inode, 1, r->netns_inode) \
	F(32, nsid, nsid, U32, N, nsid, 1, r->nsid) \
	F(40, container_id, containerId, STR, S, container_id, 1, r->container_id) \
	F(41, container_runtime, containerRuntime, STR, S, container_runtime, 1, r->container_runtime) \
	F(42, container_name, containerName, STR, S, container_name, 1, r->container_name) \
	F(43, container_image, containerImage, STR, S, container_image, 1, r->container_image) \
	F(50, label, label, STR, S, label, 1, r->label) \
	F(51, tag, tag, STR, S, tag, 1, r->tag) \
	F(60, record_counter, recordCounter, U64, N, record_counter, 1, r->record_counter) \
	F(61, socket_fd, socketFd, U64, N, socket_fd, 1, r->socket_fd) \
	F(62, netlinker_id, netlinkerId, U64, N, netlinker_id, 1, r->netlinker_id) \
	F(100, uplink1_ifname, uplink1Ifname, STR, S, uplink1_ifname, (r->uplink[0] != NULL), r->uplink[0]->ifname) \
	F(101, uplink1_nic_driver, uplink1NicDriver, STR, S, uplink1_nic_driver, (r->uplink[0] != NULL), r->uplink[0]->nic_driver) \
	F(102, uplink1_nic_model, uplink1NicModel, STR, S, uplink1_nic_model, (r->uplink[0] != NULL), r->uplink[0]->nic_model) \
	F(103, uplink1_nic_pci_vendor, uplink1NicPciVendor, U32, Z, uplink1_nic_pci_vendor, (r->uplink[0] != NULL), r->uplink[0]->nic_pci_vendor) \
	F(104, uplink1_nic_pci_device, uplink1NicPciDevice, U32, Z, uplink1_nic_pci_device, (r->uplink[0] != NULL), r->uplink[0]->nic_pci_device) \
	F(105, uplink1_nic_bus_info, uplink1NicBusInfo, STR, S, uplink1_nic_bus_info, (r->uplink[0] != NULL), r->uplink[0]->nic_bus_info) \
	F(106, uplink1_nic_speed_mbps, uplink1NicSpeedMbps, U32, Z, uplink1_nic_speed_mbps, (r->uplink[0] != NULL), r->uplink[0]->nic_speed_mbps) \
	F(107, uplink1_nic_fw_version, uplink1NicFwVersion, STR, S, uplink1_nic_fw_version, (r->uplink[0] != NULL), r->uplink[0]->nic_fw_version) \
	F(120, uplink1_lldp_chassis_name, uplink1LldpChassisName, STR, S, uplink1_lldp_chassis_name, (r->uplink[0] != NULL), r->uplink[0]->lldp_chassis_name) \
	F(121, uplink1_lldp_chassis_id, uplink1LldpChassisId, STR, S, uplink1_lldp_chassis_id, (r->uplink[0] != NULL), r->uplink[0]->lldp_chassis_id) \
	F(122, uplink1_lldp_mgmt_ip, uplink1LldpMgmtIp, STR, S, uplink1_lldp_mgmt_ip, (r->uplink[0] != NULL), r->uplink[0]->lldp_mgmt_ip) \
	F(123, uplink1_lldp_port_id, uplink1LldpPortId, STR, S, uplink1_lldp_port_id, (r->uplink[0] != NULL), r->uplink[0]->lldp_port_id) \
	F(124, uplink1_lldp_port_descr, uplink1LldpPortDescr, STR, S, uplink1_lldp_port_descr, (r->uplink[0] != NULL), r->uplink[0]->lldp_port_descr) \
	F(200, uplink2_ifname, uplink2Ifname, STR, S, uplink2_ifname, (r->uplink[1] != NULL), r->uplink[1]->ifname) \
	F(201, uplink2_nic_driver, uplink2NicDriver, STR, S, uplink2_nic_driver, (r->uplink[1] != NULL), r->uplink[1]->nic_driver) \
	F(202, uplink2_nic_model, uplink2NicModel, STR, S, uplink2_nic_model, (r->uplink[1] != NULL), r->uplink[1]->nic_model) \
	F(203, uplink2_nic_pci_vendor, uplink2NicPciVendor, U32, Z, uplink2_nic_pci_vendor, (r->uplink[1] != NULL), r->uplink[1]->nic_pci_vendor) \
	F(204, uplink2_nic_pci_device, uplink2NicPciDevice, U32, Z, uplink2_nic_pci_device, (r->uplink[1] != NULL), r->uplink[1]->nic_pci_device) \
	F(205, uplink2_nic_bus_info, uplink2NicBusInfo, STR, S, uplink2_nic_bus_info, (r->uplink[1] != NULL), r->uplink[1]->nic_bus_info) \
	F(206, uplink2_nic_speed_mbps, uplink2NicSpeedMbps, U32, Z, uplink2_nic_speed_mbps, (r->uplink[1] != NULL), r->uplink[1]->nic_speed_mbps) \
	F(207, uplink2_nic_fw_version, uplink2NicFwVersion, STR, S, uplink2_nic_fw_version, (r->uplink[1] != NULL), r->uplink[1]->nic_fw_version) \
	F(220, uplink2_lldp_chassis_name, uplink2LldpChassisName, STR, S, uplink2_lldp_chassis_name, (r->uplink[1] != NULL), r->uplink[1]->lldp_chassis_name) \
	F(221, uplink2_lldp_chassis_id, uplink2LldpChassisId, STR, S, uplink2_lldp_chassis_id, (r->uplink[1] != NULL), r->uplink[1]->lldp_chassis_id) \
	F(222, uplink2_lldp_mgmt_ip, uplink2LldpMgmtIp, STR, S, uplink2_lldp_mgmt_ip, (r->uplink[1] != NULL), r->uplink[1]->lldp_mgmt_ip) \
	F(223, uplink2_lldp_port_id, uplink2LldpPortId, STR, S, uplink2_lldp_port_id, (r->uplink[1] != NULL), r->uplink[1]->lldp_port_id) \
	F(224, uplink2_lldp_port_descr, uplink2LldpPortDescr, STR, S, uplink2_lldp_port_descr, (r->uplink[1] != NULL), r->uplink[1]->lldp_port_descr) \
	F(1001, inet_diag_msg_family, inetDiagMsgFamily, U32, FAMILY, inet_diag_msg_family, 1, r->family) \
	F(1002, inet_diag_msg_state, inetDiagMsgState, U32, STATE, inet_diag_msg_state, 1, r->state) \
	F(1003, inet_diag_msg_timer, inetDiagMsgTimer, U32, TIMER, inet_diag_msg_timer, 1, r->timer) \
	F(1004, inet_diag_msg_retrans, inetDiagMsgRetrans, U32, N, inet_diag_msg_retrans, 1, r->retrans) \
	F(1005, inet_diag_msg_socket_source_port, inetDiagMsgSocketSourcePort, U32, N, inet_diag_msg_socket_source_port, 1, r->sport) \
	F(1006, inet_diag_msg_socket_destination_port, inetDiagMsgSocketDestinationPort, U32, N, inet_diag_msg_socket_destination_port, 1, r->dport) \
	F(1007, inet_diag_msg_socket_source, inetDiagMsgSocketSource, ADDR, ADDR, inet_diag_msg_socket_source, 1, r->src) \
	F(1008, inet_diag_msg_socket_destination, inetDiagMsgSocketDestination, ADDR, ADDR, inet_diag_msg_socket_destination, 1, r->dst) \
	F(1009, inet_diag_msg_socket_interface, inetDiagMsgSocketInterface, U32, N, inet_diag_msg_socket_interface, 1, r->ifindex) \
	F(1010, inet_diag_msg_socket_cookie, inetDiagMsgSocketCookie, U64, N, inet_diag_msg_socket_cookie, 1, r->cookie) \
	F(1011, inet_diag_msg_socket_dest_asn, inetDiagMsgSocketDestAsn, U64, Z, inet_diag_msg_socket_dest_asn, 1, r->dest_asn) \
	F(1012, inet_diag_msg_socket_next_hop_asn, inetDiagMsgSocketNextHopAsn, U64, Z, inet_diag_msg_socket_next_hop_asn, 1, r->next_hop_asn) \
	F(1013, inet_diag_msg_expires, inetDiagMsgExpires, U32, N, inet_diag_msg_expires_ms, 1, r->expires) \
	F(1014, inet_diag_msg_rqueue, inetDiagMsgRqueue, U32, N, inet_diag_msg_rqueue, 1, r->rqueue) \
	F(1015, inet_diag_msg_wqueue, inetDiagMsgWqueue, U32, N, inet_diag_msg_wqueue, 1, r->wqueue) \
	F(1016, inet_diag_msg_uid, inetDiagMsgUid, U32, N, inet_diag_msg_uid, 1, r->uid) \
	F(1017, inet_diag_msg_inode, inetDiagMsgInode, U32, N, inet_diag_msg_inode, 1, r->inode) \
	F(1101, mem_info_rmem, memInfoRmem, U32, N, mem_info_rmem, (r->present & XTCPD_HAS_MEMINFO), r->mem_rmem) \
	F(1102, mem_info_wmem, memInfoWmem, U32, N, mem_info_wmem, (r->present & XTCPD_HAS_MEMINFO), r->mem_wmem) \
	F(1103, mem_info_fmem, memInfoFmem, U32, N, mem_info_fmem, (r->present & XTCPD_HAS_MEMINFO), r->mem_fmem) \
	F(1104, mem_info_tmem, memInfoTmem, U32, N, mem_info_tmem, (r->present & XTCPD_HAS_MEMINFO), r->mem_tmem) \
	F(1201, tcp_info_state, tcpInfoState, U32, STATE, tcp_info_state, XTCPD_TCPI_HAS(r->tcpi_len, state), r->tcpi.state) \
	F(1202, tcp_info_ca_state, tcpInfoCaState, U32, CASTATE, tcp_info_ca_state, XTCPD_TCPI_HAS(r->tcpi_len, ca_state), r->tcpi.ca_state) \
	F(1203, tcp_info_retransmits, tcpInfoRetransmits, U32, N, tcp_info_retransmits, XTCPD_TCPI_HAS(r->tcpi_len, retransmits), r->tcpi.retransmits) \
	F(1204, tcp_info_probes, tcpInfoProbes, U32, N, tcp_info_probes, XTCPD_TCPI_HAS(r->tcpi_len, probes), r->tcpi.probes) \
	F(1205, tcp_info_backoff, tcpInfoBackoff, U32, N, tcp_info_backoff, XTCPD_TCPI_HAS(r->tcpi_len, backoff), r->tcpi.backoff) \
	F(1206, tcp_info_options, tcpInfoOptions, U32, N, tcp_info_options, XTCPD_TCPI_HAS(r->tcpi_len, options), r->tcpi.options) \
	F(1207, tcp_info_send_scale, tcpInfoSendScale, U32, N, tcp_info_send_scale, XTCPD_TCPI_HAS(r->tcpi_len, wscale), XTCPD_TCPI_SND_WSCALE(&r->tcpi)) \
	F(1208, tcp_info_rcv_scale, tcpInfoRcvScale, U32, N, tcp_info_rcv_scale, XTCPD_TCPI_HAS(r->tcpi_len, wscale), XTCPD_TCPI_RCV_WSCALE(&r->tcpi)) \
	F(1209, tcp_info_delivery_rate_app_limited, tcpInfoDeliveryRateAppLimited, U32, N, tcp_info_delivery_rate_app_limited, XTCPD_TCPI_HAS(r->tcpi_len, rate_flags), XTCPD_TCPI_APP_LIMITED(&r->tcpi)) \
	F(1210, tcp_info_fast_open_client_failed, tcpInfoFastOpenClientFailed, U32, N, tcp_info_fast_open_client_failed, XTCPD_TCPI_HAS(r->tcpi_len, rate_flags), XTCPD_TCPI_FASTOPEN_FAIL(&r->tcpi)) \
	F(1215, tcp_info_rto, tcpInfoRto, U32, N, tcp_info_rto_us, XTCPD_TCPI_HAS(r->tcpi_len, rto), r->tcpi.rto) \
	F(1216, tcp_info_ato, tcpInfoAto, U32, N, tcp_info_ato_us, XTCPD_TCPI_HAS(r->tcpi_len, ato), r->tcpi.ato) \
	F(1217, tcp_info_snd_mss, tcpInfoSndMss, U32, N, tcp_info_snd_mss, XTCPD_TCPI_HAS(r->tcpi_len, snd_mss), r->tcpi.snd_mss) \
	F(1218, tcp_info_rcv_mss, tcpInfoRcvMss, U32, N, tcp_info_rcv_mss, XTCPD_TCPI_HAS(r->tcpi_len, rcv_mss), r->tcpi.rcv_mss) \
	F(1219, tcp_info_unacked, tcpInfoUnacked, U32, N, tcp_info_unacked, XTCPD_TCPI_HAS(r->tcpi_len, unacked), r->tcpi.unacked) \
	F(1220, tcp_info_sacked, tcpInfoSacked, U32, N, tcp_info_sacked, XTCPD_TCPI_HAS(r->tcpi_len, sacked), r->tcpi.sacked) \
	F(1221, tcp_info_lost, tcpInfoLost, U32, N, tcp_info_lost, XTCPD_TCPI_HAS(r->tcpi_len, lost), r->tcpi.lost) \
	F(1222, tcp_info_retrans, tcpInfoRetrans, U32, N, tcp_info_retrans, XTCPD_TCPI_HAS(r->tcpi_len, retrans), r->tcpi.retrans) \
	F(1223, tcp_info_fackets, tcpInfoFackets, U32, N, tcp_info_fackets, XTCPD_TCPI_HAS(r->tcpi_len, fackets), r->tcpi.fackets) \
	F(1224, tcp_info_last_data_sent, tcpInfoLastDataSent, U32, N, tcp_info_last_data_sent_ms, XTCPD_TCPI_HAS(r->tcpi_len, last_data_sent), r->tcpi.last_data_sent) \
	F(1225, tcp_info_last_ack_sent, tcpInfoLastAckSent, U32, N, tcp_info_last_ack_sent_ms, XTCPD_TCPI_HAS(r->tcpi_len, last_ack_sent), r->tcpi.last_ack_sent) \
	F(1226, tcp_info_last_data_recv, tcpInfoLastDataRecv, U32, N, tcp_info_last_data_recv_ms, XTCPD_TCPI_HAS(r->tcpi_len, last_data_recv), r->tcpi.last_data_recv) \
	F(1227, tcp_info_last_ack_recv, tcpInfoLastAckRecv, U32, N, tcp_info_last_ack_recv_ms, XTCPD_TCPI_HAS(r->tcpi_len, last_ack_recv), r->tcpi.last_ack_recv) \
	F(1228, tcp_info_pmtu, tcpInfoPmtu, U32, N, tcp_info_pmtu, XTCPD_TCPI_HAS(r->tcpi_len, pmtu), r->tcpi.pmtu) \
	F(1229, tcp_info_rcv_ssthresh, tcpInfoRcvSsthresh, U32, N, tcp_info_rcv_ssthresh, XTCPD_TCPI_HAS(r->tcpi_len, rcv_ssthresh), r->tcpi.rcv_ssthresh) \
	F(1230, tcp_info_rtt, tcpInfoRtt, U32, N, tcp_info_rtt_us, XTCPD_TCPI_HAS(r->tcpi_len, rtt), r->tcpi.rtt) \
	F(1231, tcp_info_rtt_var, tcpInfoRttVar, U32, N, tcp_info_rtt_var_us, XTCPD_TCPI_HAS(r->tcpi_len, rttvar), r->tcpi.rttvar) \
	F(1232, tcp_info_snd_ssthresh, tcpInfoSndSsthresh, U32, N, tcp_info_snd_ssthresh, XTCPD_TCPI_HAS(r->tcpi_len, snd_ssthresh), r->tcpi.snd_ssthresh) \
	F(1233, tcp_info_snd_cwnd, tcpInfoSndCwnd, U32, N, tcp_info_snd_cwnd, XTCPD_TCPI_HAS(r->tcpi_len, snd_cwnd), r->tcpi.snd_cwnd) \
	F(1234, tcp_info_adv_mss, tcpInfoAdvMss, U32, N, tcp_info_adv_mss, XTCPD_TCPI_HAS(r->tcpi_len, advmss), r->tcpi.advmss) \
	F(1235, tcp_info_reordering, tcpInfoReordering, U32, N, tcp_info_reordering, XTCPD_TCPI_HAS(r->tcpi_len, reordering), r->tcpi.reordering) \
	F(1236, tcp_info_rcv_rtt, tcpInfoRcvRtt, U32, N, tcp_info_rcv_rtt_us, XTCPD_TCPI_HAS(r->tcpi_len, rcv_rtt), r->tcpi.rcv_rtt) \
	F(1237, tcp_info_rcv_space, tcpInfoRcvSpace, U32, N, tcp_info_rcv_space, XTCPD_TCPI_HAS(r->tcpi_len, rcv_space), r->tcpi.rcv_space) \
	F(1238, tcp_info_total_retrans, tcpInfoTotalRetrans, U32, N, tcp_info_total_retrans, XTCPD_TCPI_HAS(r->tcpi_len, total_retrans), r->tcpi.total_retrans) \
	F(1239, tcp_info_pacing_rate, tcpInfoPacingRate, U64, N, tcp_info_pacing_rate, XTCPD_TCPI_HAS(r->tcpi_len, pacing_rate), r->tcpi.pacing_rate) \
	F(1240, tcp_info_max_pacing_rate, tcpInfoMaxPacingRate, U64, N, tcp_info_max_pacing_rate, XTCPD_TCPI_HAS(r->tcpi_len, max_pacing_rate), r->tcpi.max_pacing_rate) \
	F(1241, tcp_info_bytes_acked, tcpInfoBytesAcked, U64, N, tcp_info_bytes_acked, XTCPD_TCPI_HAS(r->tcpi_len, bytes_acked), r->tcpi.bytes_acked) \
	F(1242, tcp_info_bytes_received, tcpInfoBytesReceived, U64, N, tcp_info_bytes_received, XTCPD_TCPI_HAS(r->tcpi_len, bytes_received), r->tcpi.bytes_received) \
	F(1243, tcp_info_segs_out, tcpInfoSegsOut, U32, N, tcp_info_segs_out, XTCPD_TCPI_HAS(r->tcpi_len, segs_out), r->tcpi.segs_out) \
	F(1244, tcp_info_segs_in, tcpInfoSegsIn, U32, N, tcp_info_segs_in, XTCPD_TCPI_HAS(r->tcpi_len, segs_in), r->tcpi.segs_in) \
	F(1245, tcp_info_not_sent_bytes, tcpInfoNotSentBytes, U32, N, tcp_info_not_sent_bytes, XTCPD_TCPI_HAS(r->tcpi_len, notsent_bytes), r->tcpi.notsent_bytes) \
	F(1246, tcp_info_min_rtt, tcpInfoMinRtt, U32, N, tcp_info_min_rtt_us, XTCPD_TCPI_HAS(r->tcpi_len, min_rtt), r->tcpi.min_rtt) \
	F(1247, tcp_info_data_segs_in, tcpInfoDataSegsIn, U32, N, tcp_info_data_segs_in, XTCPD_TCPI_HAS(r->tcpi_len, data_segs_in), r->tcpi.data_segs_in) \
	F(1248, tcp_info_data_segs_out, tcpInfoDataSegsOut, U32, N, tcp_info_data_segs_out, XTCPD_TCPI_HAS(r->tcpi_len, data_segs_out), r->tcpi.data_segs_out) \
	F(1249, tcp_info_delivery_rate, tcpInfoDeliveryRate, U64, N, tcp_info_delivery_rate, XTCPD_TCPI_HAS(r->tcpi_len, delivery_rate), r->tcpi.delivery_rate) \
	F(1250, tcp_info_busy_time, tcpInfoBusyTime, U64, N, tcp_info_busy_time_us, XTCPD_TCPI_HAS(r->tcpi_len, busy_time), r->tcpi.busy_time) \
	F(1251, tcp_info_rwnd_limited, tcpInfoRwndLimited, U64, N, tcp_info_rwnd_limited_us, XTCPD_TCPI_HAS(r->tcpi_len, rwnd_limited), r->tcpi.rwnd_limited) \
	F(1252, tcp_info_sndbuf_limited, tcpInfoSndbufLimited, U64, N, tcp_info_sndbuf_limited_us, XTCPD_TCPI_HAS(r->tcpi_len, sndbuf_limited), r->tcpi.sndbuf_limited) \
	F(1253, tcp_info_delivered, tcpInfoDelivered, U32, N, tcp_info_delivered, XTCPD_TCPI_HAS(r->tcpi_len, delivered), r->tcpi.delivered) \
	F(1254, tcp_info_delivered_ce, tcpInfoDeliveredCe, U32, N, tcp_info_delivered_ce, XTCPD_TCPI_HAS(r->tcpi_len, delivered_ce), r->tcpi.delivered_ce) \
	F(1255, tcp_info_bytes_sent, tcpInfoBytesSent, U64, N, tcp_info_bytes_sent, XTCPD_TCPI_HAS(r->tcpi_len, bytes_sent), r->tcpi.bytes_sent) \
	F(1256, tcp_info_bytes_retrans, tcpInfoBytesRetrans, U64, N, tcp_info_bytes_retrans, XTCPD_TCPI_HAS(r->tcpi_len, bytes_retrans), r->tcpi.bytes_retrans) \
	F(1257, tcp_info_dsack_dups, tcpInfoDsackDups, U32, N, tcp_info_dsack_dups, XTCPD_TCPI_HAS(r->tcpi_len, dsack_dups), r->tcpi.dsack_dups) \
	F(1258, tcp_info_reord_seen, tcpInfoReordSeen, U32, N, tcp_info_reord_seen, XTCPD_TCPI_HAS(r->tcpi_len, reord_seen), r->tcpi.reord_seen) \
	F(1259, tcp_info_rcv_ooopack, tcpInfoRcvOoopack, U32, N, tcp_info_rcv_ooopack, XTCPD_TCPI_HAS(r->tcpi_len, rcv_ooopack), r->tcpi.rcv_ooopack) \
	F(1260, tcp_info_snd_wnd, tcpInfoSndWnd, U32, N, tcp_info_snd_wnd, XTCPD_TCPI_HAS(r->tcpi_len, snd_wnd), r->tcpi.snd_wnd) \
	F(1261, tcp_info_rcv_wnd, tcpInfoRcvWnd, U32, N, tcp_info_rcv_wnd, XTCPD_TCPI_HAS(r->tcpi_len, rcv_wnd), r->tcpi.rcv_wnd) \
	F(1262, tcp_info_rehash, tcpInfoRehash, U32, N, tcp_info_rehash, XTCPD_TCPI_HAS(r->tcpi_len, rehash), r->tcpi.rehash) \
	F(1263, tcp_info_total_rto, tcpInfoTotalRto, U32, N, tcp_info_total_rto, XTCPD_TCPI_HAS(r->tcpi_len, total_rto), r->tcpi.total_rto) \
	F(1264, tcp_info_total_rto_recoveries, tcpInfoTotalRtoRecoveries, U32, N, tcp_info_total_rto_recoveries, XTCPD_TCPI_HAS(r->tcpi_len, total_rto_recoveries), r->tcpi.total_rto_recoveries) \
	F(1265, tcp_info_total_rto_time, tcpInfoTotalRtoTime, U32, N, tcp_info_total_rto_time_ms, XTCPD_TCPI_HAS(r->tcpi_len, total_rto_time), r->tcpi.total_rto_time) \
	F(1300, congestion_algorithm_string, congestionAlgorithmString, NAME, S, congestion_algorithm_string, (r->present & XTCPD_HAS_CONG), r->cong_name) \
	F(1301, congestion_algorithm_enum, congestionAlgorithmEnum, ENUM, CONG, congestion_algorithm_enum, (r->present & XTCPD_HAS_CONG), r->cong_enum) \
	F(1401, type_of_service, typeOfService, U32, N, type_of_service, (r->present & XTCPD_HAS_TOS), r->tos) \
	F(1402, traffic_class, trafficClass, U32, N, traffic_class, (r->present & XTCPD_HAS_TCLASS), r->tclass) \
	F(1501, sk_mem_info_rmem_alloc, skMemInfoRmemAlloc, U32, N, sk_mem_info_rmem_alloc, (r->present & XTCPD_HAS_SKMEM), r->skmem[XTCPD_SKMEM_RMEM_ALLOC]) \
	F(1502, sk_mem_info_rcv_buf, skMemInfoRcvBuf, U32, N, sk_mem_info_rcv_buf, (r->present & XTCPD_HAS_SKMEM), r->skmem[XTCPD_SKMEM_RCVBUF]) \
	F(1503, sk_mem_info_wmem_alloc, skMemInfoWmemAlloc, U32, N, sk_mem_info_wmem_alloc, (r->present & XTCPD_HAS_SKMEM), r->skmem[XTCPD_SKMEM_WMEM_ALLOC]) \
	F(1504, sk_mem_info_snd_buf, skMemInfoSndBuf, U32, N, sk_mem_info_snd_buf, (r->present & XTCPD_HAS_SKMEM), r->skmem[XTCPD_SKMEM_SNDBUF]) \
	F(1505, sk_mem_info_fwd_alloc, skMemInfoFwdAlloc, U32, N, sk_mem_info_fwd_alloc, (r->present & XTCPD_HAS_SKMEM), r->skmem[XTCPD_SKMEM_FWD_ALLOC]) \
	F(1506, sk_mem_info_wmem_queued, skMemInfoWmemQueued, U32, N, sk_mem_info_wmem_queued, (r->present & XTCPD_HAS_SKMEM), r->skmem[XTCPD_SKMEM_WMEM_QUEUED]) \
	F(1507, sk_mem_info_optmem, skMemInfoOptmem, U32, N, sk_mem_info_optmem, (r->present & XTCPD_HAS_SKMEM), r->skmem[XTCPD_SKMEM_OPTMEM]) \
	F(1508, sk_mem_info_backlog, skMemInfoBacklog, U32, N, sk_mem_info_backlog, (r->present & XTCPD_HAS_SKMEM), r->skmem[XTCPD_SKMEM_BACKLOG]) \
	F(1509, sk_mem_info_drops, skMemInfoDrops, U32, N, sk_mem_info_drops, (r->present & XTCPD_HAS_SKMEM), r->skmem[XTCPD_SKMEM_DROPS]) \
	F(1600, shutdown_state, shutdownState, U32, N, shutdown_state, (r->present & XTCPD_HAS_SHUTDOWN), r->shutdown) \
	F(1701, vegas_info_enabled, vegasInfoEnabled, U32, N, vegas_info_enabled, (r->present & XTCPD_HAS_VEGAS), r->vegas_enabled) \
	F(1702, vegas_info_rtt_cnt, vegasInfoRttCnt, U32, N, vegas_info_rtt_cnt, (r->present & XTCPD_HAS_VEGAS), r->vegas_rtt_cnt) \
	F(1703, vegas_info_rtt, vegasInfoRtt, U32, N, vegas_info_rtt_us, (r->present & XTCPD_HAS_VEGAS), r->vegas_rtt) \
	F(1704, vegas_info_min_rtt, vegasInfoMinRtt, U32, N, vegas_info_min_rtt_us, (r->present & XTCPD_HAS_VEGAS), r->vegas_min_rtt) \
	F(1801, dctcp_info_enabled, dctcpInfoEnabled, U32, N, dctcp_info_enabled, (r->present & XTCPD_HAS_DCTCP), r->dctcp_enabled) \
	F(1802, dctcp_info_ce_state, dctcpInfoCeState, U32, N, dctcp_info_ce_state, (r->present & XTCPD_HAS_DCTCP), r->dctcp_ce_state) \
	F(1803, dctcp_info_alpha, dctcpInfoAlpha, U32, N, dctcp_info_alpha, (r->present & XTCPD_HAS_DCTCP), r->dctcp_alpha) \
	F(1804, dctcp_info_ab_ecn, dctcpInfoAbEcn, U32, N, dctcp_info_ab_ecn, (r->present & XTCPD_HAS_DCTCP), r->dctcp_ab_ecn) \
	F(1805, dctcp_info_ab_tot, dctcpInfoAbTot, U32, N, dctcp_info_ab_tot, (r->present & XTCPD_HAS_DCTCP), r->dctcp_ab_tot) \
	F(1901, bbr_info_bw_lo, bbrInfoBwLo, U32, N, bbr_info_bw_lo, (r->present & XTCPD_HAS_BBR), r->bbr_bw_lo) \
	F(1902, bbr_info_bw_hi, bbrInfoBwHi, U32, N, bbr_info_bw_hi, (r->present & XTCPD_HAS_BBR), r->bbr_bw_hi) \
	F(1903, bbr_info_min_rtt, bbrInfoMinRtt, U32, N, bbr_info_min_rtt_us, (r->present & XTCPD_HAS_BBR), r->bbr_min_rtt) \
	F(1904, bbr_info_pacing_gain, bbrInfoPacingGain, U32, N, bbr_info_pacing_gain, (r->present & XTCPD_HAS_BBR), r->bbr_pacing_gain) \
	F(1905, bbr_info_cwnd_gain, bbrInfoCwndGain, U32, N, bbr_info_cwnd_gain, (r->present & XTCPD_HAS_BBR), r->bbr_cwnd_gain) \
	F(2001, class_id, classId, U32, N, class_id, (r->present & XTCPD_HAS_CLASS_ID), r->class_id) \
	F(2002, sock_opt, sockOpt, U32, N, sock_opt, (r->present & XTCPD_HAS_SOCKOPT), r->sockopt) \
	F(2103, c_group, cGroup, U64, N, c_group, (r->present & XTCPD_HAS_CGROUP), r->cgroup_id) \
	F(5001, inet_diag_mark, inetDiagMark, U32, N, inet_diag_mark, (r->present & XTCPD_HAS_MARK), r->mark) \
	F(5002, dump_interrupted, dumpInterrupted, BOOL, BOOL, dump_interrupted, 1, (r->flags & XTCPD_REC_DUMP_INTR) != 0) \
	F(5003, tcp_info_length, tcpInfoLength, U32, Z, tcp_info_length, 1, r->tcpi_len) \
	F(5004, socket_closed, socketClosed, BOOL, BOOL, socket_closed, 1, (r->flags & XTCPD_REC_CLOSED) != 0) \
	F(5005, pod_namespace, podNamespace, STR, S, pod_namespace, 1, r->pod_namespace) \
	F(5006, pod_name, podName, STR, S, pod_name, 1, r->pod_name) \
	/* end */

#endif /* XTCPD_RECORD_FIELDS_H */
