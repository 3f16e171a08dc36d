/* plugins/marshallers/json/json_names.h — the names the json marshaller prints for
 * kernel enumerations, as iproute2's ss spells them (long state names). Header-only:
 * tests include it to map names back. */
#ifndef XTCPD_JSON_NAMES_H
#define XTCPD_JSON_NAMES_H

#include <sys/socket.h>

/* TCP_ESTABLISHED (1) .. TCP_NEW_SYN_RECV (12), include/net/tcp_states.h. */
static inline const char *jz_state_name(unsigned s)
{
	static const char *const n[] = {
		"UNKNOWN", "ESTABLISHED", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
		"TIME-WAIT", "UNCONNECTED", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING",
		"NEW-SYN-RECV",
	};
	return s < sizeof(n) / sizeof(n[0]) ? n[s] : "UNKNOWN";
}

/* idiag_timer, as ss prints it (timer:(on,...)). */
static inline const char *jz_timer_name(unsigned t)
{
	static const char *const n[] = { "off", "on", "keepalive", "timewait", "persist" };
	return t < sizeof(n) / sizeof(n[0]) ? n[t] : "unknown";
}

/* tcpi_ca_state, enum tcp_ca_state. */
static inline const char *jz_ca_state_name(unsigned s)
{
	static const char *const n[] = { "open", "disorder", "cwr", "recovery", "loss" };
	return s < sizeof(n) / sizeof(n[0]) ? n[s] : "unknown";
}

static inline const char *jz_family_name(unsigned f)
{
	return f == AF_INET ? "AF_INET" : f == AF_INET6 ? "AF_INET6" : "unknown";
}

/* CongestionAlgorithm without its CONGESTION_ALGORITHM_ prefix. */
static inline const char *jz_cong_name(unsigned c)
{
	static const char *const n[] = { "UNSPECIFIED", "CUBIC", "DCTCP", "VEGAS", "PRAGUE",
		"BBR1", "BBR2", "BBR3" };
	return c < sizeof(n) / sizeof(n[0]) ? n[c] : "unknown";
}

#endif /* XTCPD_JSON_NAMES_H */
