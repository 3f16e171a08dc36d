/* fuzz_marshal — libFuzzer target for the marshallers: the input becomes a buffer size and
 * up to 8 records (raw bytes for the whole struct: present bits, enums, tcpi_len, names;
 * then strings of any bytes and length for every string field and one uplink), appended
 * through protobufList, protoJson and json into that buffer. Each append fits or says
 * -ENOSPC and leaves the buffer as it was, nothing is written past the capacity, and
 * every finished message decodes — protobuf-c for protobufList (rows and each row's
 * cookie and ports as appended), json-c for the JSON ones (one object per record; the
 * cookie as appended) — or the target aborts. The three plugins are linked in, each with
 * its descriptor renamed. Build and run: tests/plugins/marshallers/fuzz.sh. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "proto/xtcp_flat_record.pb-c.h"
#include "tests/lib/testhost.h"

extern const struct xtcpd_plugin fz_plugin_protobuf_list, fz_plugin_proto_json, fz_plugin_json;
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GUARD 64
#define MAXREC 8

/* The input, read front to back; zeros once it runs out. */
struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t take(struct in *in)
{
	uint8_t b = 0;

	if (in->n) {
		b = *in->p++;
		in->n--;
	}
	return b;
}

static void take_bytes(struct in *in, void *out, size_t n)
{
	size_t k = n < in->n ? n : in->n;

	memcpy(out, in->p, k);
	memset((uint8_t *)out + k, 0, n - k);
	in->p += k;
	in->n -= k;
}

struct rec {
	struct xtcpd_record r;
	struct xtcpd_uplink up;
	char str[20][1100];
};

/* A string of the input's choosing: NULL, or up to ~1 KiB of any bytes but NUL (the
 * marshallers cut at 1024 and replace invalid UTF-8). */
static const char *take_str(struct in *in, char *s)
{
	size_t len = take(in), k;

	if (len == 0)
		return NULL;
	if (len == 255)
		len += (size_t)take(in) * 4;
	for (k = 0; k < len && k < 1099; k++) {
		s[k] = (char)take(in);
		if (!s[k])
			s[k] = 'z';
	}
	s[k] = '\0';
	return s;
}

static void take_record(struct in *in, struct rec *m)
{
	const char **str[] = { &m->r.daemon_version, &m->r.hostname, &m->r.location, &m->r.netns,
			       &m->r.container_id, &m->r.container_runtime, &m->r.container_name,
			       &m->r.container_image, &m->r.label, &m->r.tag, &m->r.pod_namespace,
			       &m->r.pod_name };
	size_t i;

	th_enrich_retire();  /* text rewritten at the same addresses (ABI 1.7) */
	take_bytes(in, &m->r, sizeof(m->r));
	for (i = 0; i < sizeof(str) / sizeof(str[0]); i++)
		*str[i] = take_str(in, m->str[i]);
	memset(&m->up, 0, sizeof(m->up));
	m->up.ifname = take_str(in, m->str[10]);
	m->up.nic_driver = take_str(in, m->str[11]);
	m->up.nic_model = take_str(in, m->str[12]);
	m->up.nic_bus_info = take_str(in, m->str[13]);
	m->up.nic_fw_version = take_str(in, m->str[14]);
	m->up.lldp_chassis_name = take_str(in, m->str[15]);
	m->up.lldp_chassis_id = take_str(in, m->str[16]);
	m->up.lldp_mgmt_ip = take_str(in, m->str[17]);
	m->up.lldp_port_id = take_str(in, m->str[18]);
	m->up.lldp_port_descr = take_str(in, m->str[19]);
	take_bytes(in, &m->up.nic_pci_vendor, sizeof(uint32_t));
	take_bytes(in, &m->up.nic_pci_device, sizeof(uint32_t));
	take_bytes(in, &m->up.nic_speed_mbps, sizeof(uint32_t));
	m->r.uplink[0] = take(in) & 1 ? &m->up : NULL;
	m->r.uplink[1] = take(in) & 1 ? &m->up : NULL;
}

static const struct th_plugin plugins[] = {
	{ NULL, &fz_plugin_protobuf_list }, { NULL, &fz_plugin_proto_json }, { NULL, &fz_plugin_json },
};
static struct th_inst inst[3];

static void check_pbl(const uint8_t *msg, size_t len, const struct rec *recs, size_t rows)
{
	XtcpFlatRecord__V1__Envelope *env;
	size_t i = 0, n = 0;
	int shift = 0;

	do {
		if (i >= len || shift > 28)
			abort();
		n |= (size_t)(msg[i] & 0x7f) << shift;
		shift += 7;
	} while (msg[i++] & 0x80);
	if (n != len - i || !(env = xtcp_flat_record__v1__envelope__unpack(NULL, n, msg + i)))
		abort();
	if (env->n_row != rows)
		abort();
	for (i = 0; i < rows; i++)
		if (env->row[i]->inet_diag_msg_socket_cookie != recs[i].r.cookie ||
		    env->row[i]->inet_diag_msg_socket_source_port != recs[i].r.sport ||
		    env->row[i]->inet_diag_msg_socket_destination_port != recs[i].r.dport)
			abort();
	xtcp_flat_record__v1__envelope__free_unpacked(env, NULL);
}

/* protoJson: one Envelope object per message, "row" holding the rows (none: absent);
 * json: one object per record and line. */
static void check_json(int envelope, const uint8_t *msg, size_t len, const struct rec *recs,
		       size_t rows)
{
	struct json_tokener *tok = json_tokener_new();
	size_t off = 0, objs = 0;

	while (off < len) {
		json_object *o = json_tokener_parse_ex(tok, (const char *)msg + off, (int)(len - off)), *v;

		if (!o || !json_object_is_type(o, json_type_object))
			abort();
		/* json-c takes the whitespace after the object: the line's newline */
		off += json_tokener_get_parse_end(tok);
		if (msg[off - 1] != '\n')
			abort();
		if (envelope) {
			objs += json_object_object_get_ex(o, "row", &v) ? json_object_array_length(v) : 0;
		} else {
			if (objs >= rows || !json_object_object_get_ex(o, "inet_diag_msg_socket_cookie", &v) ||
			    json_object_get_uint64(v) != recs[objs].r.cookie)
				abort();
			objs++;
		}
		json_object_put(o);
		json_tokener_reset(tok);
	}
	json_tokener_free(tok);
	if (objs != rows)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rec recs[MAXREC];
	static uint8_t out[70000 + GUARD];
	struct in in = { data, size };
	size_t cap, nrec, p, i;

	if (!inst[0].obj) {
		for (p = 0; p < 3; p++)
			if (th_inst_create(&inst[p], &plugins[p], NULL))
				abort();
	}
	cap = 16 + ((size_t)take(&in) << 8 | take(&in)) % 70000;
	nrec = 1 + take(&in) % MAXREC;
	for (i = 0; i < nrec; i++)
		take_record(&in, &recs[i]);
	for (p = 0; p < 3; p++) {
		const struct xtcpd_marshaller_ops *ops = inst[p].mops;
		struct xtcpd_buf buf = { .data = out, .cap = cap };

		memset(out, 0xa5, cap + GUARD);
		if (ops->begin(inst[p].obj, &buf) != 0)
			continue;
		for (i = 0; i < nrec; i++) {
			size_t before = buf.len;
			int rc = ops->append(inst[p].obj, &buf, &recs[i].r);

			if (rc == -ENOSPC && buf.len == before)
				break;
			if (rc != 0)
				abort();
			buf.rows++;
		}
		if (ops->finish(inst[p].obj, &buf) != 0 || buf.len > cap || buf.off > buf.len)
			abort();
		for (i = 0; i < GUARD; i++)
			if (out[cap + i] != 0xa5)
				abort();
		if (p == 0)
			check_pbl(out + buf.off, buf.len - buf.off, recs, buf.rows);
		else
			check_json(p == 1, out + buf.off, buf.len - buf.off, recs, buf.rows);
	}
	return 0;
}
