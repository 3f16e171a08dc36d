/* tests/plugins/marshallers/mt.c — see mt.h. The record filling below is written by hand
 * against record.h, field number by field number, independently of
 * <xtcpd/record_fields.h>: it is the oracle the marshallers are checked against. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "tests/lib/testhost.h"
#include "tests/plugins/marshallers/mt.h"

/* ---- plugins, through the shared test host (tests/lib/testhost.h) ------------------ */

static struct xtcpd_ctx *mt_ctx;    /* every instance's metrics, read by mt_metric() */

static struct xtcpd_ctx *ctx(void)
{
	if (!mt_ctx)
		mt_ctx = th_ctx_new("marshaller/test");
	return mt_ctx;
}

uint64_t mt_metric(const char *name)
{
	return th_metric(ctx(), name, NULL);
}

void mt_metrics_reset(void)
{
	th_metrics_reset(ctx());
}

const struct xtcpd_plugin *mt_load(const char *name)
{
	struct th_plugin p;

	return th_load(XTCPD_KIND_MARSHALLER, name, &p) ? NULL : p.desc;
}

/* Each instance's configuration, kept for its life (a test makes a handful). */
static struct { void *inst; struct xtcpd_config *cfg; } mt_cfgs[16];

int mt_create(const struct xtcpd_plugin *p, const char *const *kv, void **inst)
{
	struct xtcpd_config *cfg = th_config(p, "test", kv);
	size_t i;
	int rc;

	if (!cfg)
		return -EINVAL;
	rc = mt_ops(p)->common.create(&th_host, ctx(), cfg, inst);
	for (i = 0; i < sizeof(mt_cfgs) / sizeof(mt_cfgs[0]) && mt_cfgs[i].cfg; i++)
		;
	if (rc || i == sizeof(mt_cfgs) / sizeof(mt_cfgs[0])) {
		if (!rc)
			mt_ops(p)->common.destroy(*inst);
		th_config_free(cfg);
		return rc ? rc : -ENOSPC;
	}
	mt_cfgs[i].inst = *inst;
	mt_cfgs[i].cfg = cfg;
	return 0;
}

void mt_destroy(const struct xtcpd_plugin *p, void *inst)
{
	mt_ops(p)->common.destroy(inst);
	for (size_t i = 0; i < sizeof(mt_cfgs) / sizeof(mt_cfgs[0]); i++)
		if (mt_cfgs[i].cfg && mt_cfgs[i].inst == inst) {
			th_config_free(mt_cfgs[i].cfg);
			mt_cfgs[i].cfg = NULL;
		}
}

size_t mt_batch(const struct xtcpd_plugin *p, void *inst, struct xtcpd_buf *buf,
                uint8_t *data, size_t cap, struct mt_rec *recs, size_t n, int *rc)
{
	const struct xtcpd_marshaller_ops *ops = mt_ops(p);
	size_t i;

	memset(buf, 0, sizeof(*buf));
	buf->data = data;
	buf->cap = cap;
	*rc = ops->begin(inst, buf);
	if (*rc)
		return 0;
	for (i = 0; i < n; i++) {
		*rc = ops->append(inst, buf, &recs[i].r);
		if (*rc)
			break;
		buf->rows++;
	}
	ops->finish(inst, buf);
	return i;
}

/* ---- expected values ----------------------------------------------------------------- */

static int mt_is_str(unsigned num)
{
	static const unsigned s[] = { 2, 20, 21, 30, 40, 41, 42, 43, 50, 51, 100, 101, 102, 105,
		107, 120, 121, 122, 123, 124, 200, 201, 202, 205, 207, 220, 221, 222, 223, 224, 1300,
		5005, 5006 };
	size_t i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		if (s[i] == num)
			return 1;
	return 0;
}

static int mt_is_64(unsigned num)
{
	static const unsigned s[] = { 10, 31, 60, 61, 62, 1010, 1011, 1012, 1239, 1240, 1241,
		1242, 1249, 1250, 1251, 1252, 1255, 1256, 2103 };
	size_t i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		if (s[i] == num)
			return 1;
	return 0;
}

/* Every field number of the schema plus the extensions. */
static int mt_in_schema(unsigned n)
{
	return n == 1 || n == 2 || n == 10 || n == 20 || n == 21 || n == 30 || n == 31 ||
	       n == 32 || (n >= 40 && n <= 43) || n == 50 || n == 51 || (n >= 60 && n <= 62) ||
	       (n >= 100 && n <= 107) || (n >= 120 && n <= 124) || (n >= 200 && n <= 207) ||
	       (n >= 220 && n <= 224) || (n >= 1001 && n <= 1017) || (n >= 1101 && n <= 1104) ||
	       (n >= 1201 && n <= 1210) || (n >= 1215 && n <= 1265) || n == 1300 || n == 1301 ||
	       n == 1401 || n == 1402 || (n >= 1501 && n <= 1509) || n == 1600 ||
	       (n >= 1701 && n <= 1704) || (n >= 1801 && n <= 1805) || (n >= 1901 && n <= 1905) ||
	       n == 2001 || n == 2002 || n == 2103 || (n >= 5001 && n <= 5006);
}

static uint64_t mt_full_num(unsigned num, unsigned seed)
{
	uint64_t v = (uint64_t)num * 100 + seed;

	switch (num) {
	case 1: return 1;
	case 10: return 1700000000123456789ull + seed;
	case 1001: return AF_INET6;
	case 1002: return 1;             /* TCP_ESTABLISHED */
	case 1003: return 1;             /* retransmit timer */
	case 1201: return 1;
	case 1202: return 3;             /* TCP_CA_Recovery */
	case 1207: return 7;
	case 1208: return 9;
	case 1209: return 1;
	case 1210: return 2;
	case 1301: return seed % 7 + 1;
	case 5002: return 1;
	case 5004: return 1;
	case 5003: return sizeof(struct xtcpd_tcp_info);
	case 1004: case 1203: case 1204: case 1205: case 1206:
		return (v & 0xff) ? (v & 0xff) : 1;
	case 1005: case 1006: case 1263: case 1264:
		return v & 0xffff;
	}
	if (mt_is_64(num))
		return (uint64_t)num * 0x100000001ull + seed;
	return v;
}

static void mt_full_addr(unsigned num, unsigned seed, uint8_t b[16])
{
	unsigned i;

	for (i = 0; i < 16; i++)
		b[i] = (uint8_t)(num + i * 31 + seed);
}

int mt_expect(unsigned num, enum mt_kind kind, unsigned seed, struct mt_val *out)
{
	memset(out, 0, sizeof(*out));
	if (!mt_in_schema(num))
		return 0;
	out->type = mt_is_str(num) ? MT_T_STR : num == 1007 || num == 1008 ? MT_T_BYTES :
	            num == 5002 || num == 5004 ? MT_T_BOOL : MT_T_NUM;
	if (kind == MT_FULL) {
		if (out->type == MT_T_STR) {
			snprintf(out->s, sizeof(out->s), num == 1300 ? "cc%us%u" : "f%u-s%u \"q\"",
			         num, seed);
		} else if (out->type == MT_T_BYTES) {
			mt_full_addr(num, seed, out->b);
			out->blen = 16;
		} else {
			out->u = mt_full_num(num, seed);
		}
		return 1;
	}
	/* MT_FEW: an IPv4 listener with nothing but the header and three metadata fields;
	 * addresses are always written (16 raw bytes, zeros included). */
	switch (num) {
	case 1: out->u = 1; return 1;
	case 10: out->u = 1700000000000000000ull + seed; return 1;
	case 20: snprintf(out->s, sizeof(out->s), "few%u", seed); return 1;
	case 1001: out->u = AF_INET; return 1;
	case 1002: out->u = 10; return 1;  /* TCP_LISTEN */
	case 1005: out->u = 22 + seed; return 1;
	case 1007: out->b[0] = 127; out->b[3] = 1; out->blen = 16; return 1;
	case 1008: out->blen = 16; return 1;
	case 1010: out->u = 0xfedcba9876543210ull + seed; return 1;
	case 1017: out->u = 40000 + seed; return 1;
	}
	return 0;
}

/* ---- records ------------------------------------------------------------------------- */

static uint64_t mt_full_val(unsigned num, unsigned seed)
{
	struct mt_val v;

	(void)mt_expect(num, MT_FULL, seed, &v);
	return v.u;
}

static const char *mt_str(struct mt_rec *m, unsigned num, enum mt_kind kind, unsigned seed)
{
	struct mt_val v;
	char *s;

	if (!mt_expect(num, kind, seed, &v))
		return NULL;
	s = m->str[m->nstr++];
	snprintf(s, sizeof(m->str[0]), "%s", v.s);
	return s;
}

#define N(num) mt_full_val(num, seed)
#define S(num) mt_str(m, num, MT_FULL, seed)

static void mt_fill_uplink(struct mt_rec *m, struct xtcpd_uplink *u, unsigned base,
                           unsigned seed)
{
	u->ifname = S(base + 0);
	u->nic_driver = S(base + 1);
	u->nic_model = S(base + 2);
	u->nic_pci_vendor = (uint32_t)N(base + 3);
	u->nic_pci_device = (uint32_t)N(base + 4);
	u->nic_bus_info = S(base + 5);
	u->nic_speed_mbps = (uint32_t)N(base + 6);
	u->nic_fw_version = S(base + 7);
	u->lldp_chassis_name = S(base + 20);
	u->lldp_chassis_id = S(base + 21);
	u->lldp_mgmt_ip = S(base + 22);
	u->lldp_port_id = S(base + 23);
	u->lldp_port_descr = S(base + 24);
}

static void mt_fill_full(struct mt_rec *m, unsigned seed)
{
	struct xtcpd_record *r = &m->r;
	struct xtcpd_tcp_info *t = &r->tcpi;
	struct mt_val v;

	r->schema_version = (uint32_t)N(1);
	r->daemon_version = S(2);
	r->timestamp_ns = (int64_t)N(10);
	r->hostname = S(20);
	r->location = S(21);
	r->netns = S(30);
	r->netns_inode = N(31);
	r->nsid = (uint32_t)N(32);
	r->container_id = S(40);
	r->container_runtime = S(41);
	r->container_name = S(42);
	r->container_image = S(43);
	r->label = S(50);
	r->tag = S(51);
	r->record_counter = N(60);
	r->socket_fd = N(61);
	r->netlinker_id = N(62);
	mt_fill_uplink(m, &m->up[0], 100, seed);
	mt_fill_uplink(m, &m->up[1], 200, seed);
	r->uplink[0] = &m->up[0];
	r->uplink[1] = &m->up[1];

	r->present = XTCPD_HAS_MEMINFO | XTCPD_HAS_INFO | XTCPD_HAS_CONG | XTCPD_HAS_TOS |
	             XTCPD_HAS_TCLASS | XTCPD_HAS_SKMEM | XTCPD_HAS_SHUTDOWN | XTCPD_HAS_VEGAS |
	             XTCPD_HAS_DCTCP | XTCPD_HAS_BBR | XTCPD_HAS_CLASS_ID | XTCPD_HAS_SOCKOPT |
	             XTCPD_HAS_CGROUP | XTCPD_HAS_MARK;
	r->flags = XTCPD_REC_DUMP_INTR | XTCPD_REC_CLOSED;
	r->family = (uint8_t)N(1001);
	r->state = (uint8_t)N(1002);
	r->timer = (uint8_t)N(1003);
	r->retrans = (uint8_t)N(1004);
	r->sport = (uint16_t)N(1005);
	r->dport = (uint16_t)N(1006);
	mt_full_addr(1007, seed, r->src);
	mt_full_addr(1008, seed, r->dst);
	r->ifindex = (uint32_t)N(1009);
	r->cookie = N(1010);
	r->dest_asn = N(1011);
	r->next_hop_asn = N(1012);
	r->expires = (uint32_t)N(1013);
	r->rqueue = (uint32_t)N(1014);
	r->wqueue = (uint32_t)N(1015);
	r->uid = (uint32_t)N(1016);
	r->inode = (uint32_t)N(1017);
	r->mem_rmem = (uint32_t)N(1101);
	r->mem_wmem = (uint32_t)N(1102);
	r->mem_fmem = (uint32_t)N(1103);
	r->mem_tmem = (uint32_t)N(1104);

	r->tcpi_len = sizeof(*t);
	t->state = (uint8_t)N(1201);
	t->ca_state = (uint8_t)N(1202);
	t->retransmits = (uint8_t)N(1203);
	t->probes = (uint8_t)N(1204);
	t->backoff = (uint8_t)N(1205);
	t->options = (uint8_t)N(1206);
	t->wscale = (uint8_t)(N(1207) | N(1208) << 4);
	t->rate_flags = (uint8_t)(N(1209) | N(1210) << 1);
	t->rto = (uint32_t)N(1215);
	t->ato = (uint32_t)N(1216);
	t->snd_mss = (uint32_t)N(1217);
	t->rcv_mss = (uint32_t)N(1218);
	t->unacked = (uint32_t)N(1219);
	t->sacked = (uint32_t)N(1220);
	t->lost = (uint32_t)N(1221);
	t->retrans = (uint32_t)N(1222);
	t->fackets = (uint32_t)N(1223);
	t->last_data_sent = (uint32_t)N(1224);
	t->last_ack_sent = (uint32_t)N(1225);
	t->last_data_recv = (uint32_t)N(1226);
	t->last_ack_recv = (uint32_t)N(1227);
	t->pmtu = (uint32_t)N(1228);
	t->rcv_ssthresh = (uint32_t)N(1229);
	t->rtt = (uint32_t)N(1230);
	t->rttvar = (uint32_t)N(1231);
	t->snd_ssthresh = (uint32_t)N(1232);
	t->snd_cwnd = (uint32_t)N(1233);
	t->advmss = (uint32_t)N(1234);
	t->reordering = (uint32_t)N(1235);
	t->rcv_rtt = (uint32_t)N(1236);
	t->rcv_space = (uint32_t)N(1237);
	t->total_retrans = (uint32_t)N(1238);
	t->pacing_rate = N(1239);
	t->max_pacing_rate = N(1240);
	t->bytes_acked = N(1241);
	t->bytes_received = N(1242);
	t->segs_out = (uint32_t)N(1243);
	t->segs_in = (uint32_t)N(1244);
	t->notsent_bytes = (uint32_t)N(1245);
	t->min_rtt = (uint32_t)N(1246);
	t->data_segs_in = (uint32_t)N(1247);
	t->data_segs_out = (uint32_t)N(1248);
	t->delivery_rate = N(1249);
	t->busy_time = N(1250);
	t->rwnd_limited = N(1251);
	t->sndbuf_limited = N(1252);
	t->delivered = (uint32_t)N(1253);
	t->delivered_ce = (uint32_t)N(1254);
	t->bytes_sent = N(1255);
	t->bytes_retrans = N(1256);
	t->dsack_dups = (uint32_t)N(1257);
	t->reord_seen = (uint32_t)N(1258);
	t->rcv_ooopack = (uint32_t)N(1259);
	t->snd_wnd = (uint32_t)N(1260);
	t->rcv_wnd = (uint32_t)N(1261);
	t->rehash = (uint32_t)N(1262);
	t->total_rto = (uint16_t)N(1263);
	t->total_rto_recoveries = (uint16_t)N(1264);
	t->total_rto_time = (uint32_t)N(1265);
	t->received_ce = 77777; /* beyond the schema: must not appear anywhere */

	(void)mt_expect(1300, MT_FULL, seed, &v);
	memcpy(r->cong_name, v.s, strlen(v.s) + 1);
	r->cong_enum = (uint32_t)N(1301);
	r->tos = (uint32_t)N(1401);
	r->tclass = (uint32_t)N(1402);
	r->skmem[XTCPD_SKMEM_RMEM_ALLOC] = (uint32_t)N(1501);
	r->skmem[XTCPD_SKMEM_RCVBUF] = (uint32_t)N(1502);
	r->skmem[XTCPD_SKMEM_WMEM_ALLOC] = (uint32_t)N(1503);
	r->skmem[XTCPD_SKMEM_SNDBUF] = (uint32_t)N(1504);
	r->skmem[XTCPD_SKMEM_FWD_ALLOC] = (uint32_t)N(1505);
	r->skmem[XTCPD_SKMEM_WMEM_QUEUED] = (uint32_t)N(1506);
	r->skmem[XTCPD_SKMEM_OPTMEM] = (uint32_t)N(1507);
	r->skmem[XTCPD_SKMEM_BACKLOG] = (uint32_t)N(1508);
	r->skmem[XTCPD_SKMEM_DROPS] = (uint32_t)N(1509);
	r->shutdown = (uint32_t)N(1600);
	r->vegas_enabled = (uint32_t)N(1701);
	r->vegas_rtt_cnt = (uint32_t)N(1702);
	r->vegas_rtt = (uint32_t)N(1703);
	r->vegas_min_rtt = (uint32_t)N(1704);
	r->dctcp_enabled = (uint32_t)N(1801);
	r->dctcp_ce_state = (uint32_t)N(1802);
	r->dctcp_alpha = (uint32_t)N(1803);
	r->dctcp_ab_ecn = (uint32_t)N(1804);
	r->dctcp_ab_tot = (uint32_t)N(1805);
	r->bbr_bw_lo = (uint32_t)N(1901);
	r->bbr_bw_hi = (uint32_t)N(1902);
	r->bbr_min_rtt = (uint32_t)N(1903);
	r->bbr_pacing_gain = (uint32_t)N(1904);
	r->bbr_cwnd_gain = (uint32_t)N(1905);
	r->class_id = (uint32_t)N(2001);
	r->sockopt = (uint32_t)N(2002);
	r->cgroup_id = N(2103);
	r->mark = (uint32_t)N(5001);
	r->pod_namespace = S(5005);
	r->pod_name = S(5006);
}

#undef N
#undef S

static void mt_fill_few(struct mt_rec *m, unsigned seed)
{
	struct xtcpd_record *r = &m->r;
	struct mt_val v;

	r->schema_version = 1;
	(void)mt_expect(10, MT_FEW, seed, &v);
	r->timestamp_ns = (int64_t)v.u;
	r->hostname = mt_str(m, 20, MT_FEW, seed);
	r->family = AF_INET;
	r->state = 10;
	r->sport = (uint16_t)(22 + seed);
	r->src[0] = 127;
	r->src[3] = 1;
	(void)mt_expect(1010, MT_FEW, seed, &v);
	r->cookie = v.u;
	r->inode = 40000 + seed;
}

void mt_fill(struct mt_rec *m, enum mt_kind kind, unsigned seed)
{
	/* The record's text is rewritten at the same addresses: what the daemon announces
	 * before it frees enrichment text, so no marshaller keeps the old bytes (ABI 1.7). */
	th_enrich_retire();
	memset(m, 0, sizeof(*m));
	if (kind == MT_FULL)
		mt_fill_full(m, seed);
	else
		mt_fill_few(m, seed);
}
