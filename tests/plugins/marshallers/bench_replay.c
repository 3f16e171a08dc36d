/* tests/plugins/marshallers/bench_replay.c — the bench's fixed replay: a --capture file (raw
 * sock_diag datagrams back to back, tests/plugins/marshallers/replay.nlraw made by mkcapture.sh)
 * parsed once by the netlink source's own parser (parse.c, linked in) into records, with
 * the metadata the core and the source add to every record on emit. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugins/sources/netlink/parse.h"
#include "tests/plugins/marshallers/bench.h"

/* Metadata as the daemon would fill it for this capture: core (pipeline_emit: schema and
 * daemon version, poll start, hostname, label/tag/location, counter, lane) and source
 * (nls_meta: namespace name, nsfs inode and nsid of mkcapture.sh's namespace, the
 * sock_diag fd). The strings are typical config values, so bytes/record is realistic. */
#define BR_TIMESTAMP_NS 1795713900000000000LL /* 2026-11-26 17:25 UTC: the capture */
#define BR_NETNS_INODE 4026532178u            /* netlink-4026532178-000001.nlraw */
#define BR_NETLINKERS 4                       /* the source's default reader threads */

static void br_meta(struct xtcpd_record *r, size_t i)
{
	r->schema_version = XTCPD_SCHEMA_VERSION;
	r->daemon_version = PACKAGE_VERSION;
	r->timestamp_ns = BR_TIMESTAMP_NS;
	r->hostname = "edge-cache-17.fra2.example.net";
	r->location = "fra2-hall3-rack42";
	r->netns = "xt-mkcap-31337";
	r->netns_inode = BR_NETNS_INODE;
	r->nsid = 3;
	r->label = "edge-cache";
	r->tag = "bench-replay";
	r->record_counter = (uint64_t)i + 1;
	r->socket_fd = 9;
	r->netlinker_id = i % BR_NETLINKERS;
}

static int br_read(const char *path, uint8_t **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long sz;

	*data = NULL;
	if (f == NULL)
		return -errno;
	if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return -EINVAL;
	}
	*data = malloc((size_t)sz);
	if (*data == NULL || fread(*data, 1, (size_t)sz, f) != (size_t)sz) {
		fclose(f);
		free(*data);
		*data = NULL;
		return -EIO;
	}
	fclose(f);
	*len = (size_t)sz;
	return 0;
}

int bench_replay_load(const char *path, struct xtcpd_record **recs, size_t *n)
{
	struct nlp_counts c = { 0 };
	struct xtcpd_record *out;
	uint8_t *data;
	size_t len = 0, off, cap = 0;
	int rc = br_read(path, &data, &len);

	*recs = NULL;
	*n = 0;
	if (rc)
		return rc;
	/* Upper bound of the records: every message is at least a header. */
	for (off = 0; off < len && nlp_msg_ok((const struct nlmsghdr *)(data + off), len - off);
	     off += nlp_msg_step((const struct nlmsghdr *)(data + off), len - off))
		cap++;
	out = calloc(cap ? cap : 1, sizeof(*out));
	if (out == NULL) {
		free(data);
		return -ENOMEM;
	}
	/* The same walk as the source's nls_process on a replay: DONE/ERROR/NOOP and
	 * anything that is not an inet_diag answer are skipped. */
	for (off = 0; off < len && nlp_msg_ok((const struct nlmsghdr *)(data + off), len - off);
	     off += nlp_msg_step((const struct nlmsghdr *)(data + off), len - off)) {
		const struct nlmsghdr *h = (const struct nlmsghdr *)(data + off);

		if (h->nlmsg_type == NLMSG_NOOP || h->nlmsg_type == NLMSG_DONE ||
		    h->nlmsg_type == NLMSG_ERROR)
			continue;
		if (nlp_parse(h, NLP_DECODE_ALL, &out[*n], &c) != 0)
			continue;
		if (h->nlmsg_flags & NLM_F_DUMP_INTR)
			out[*n].flags |= XTCPD_REC_DUMP_INTR;
		br_meta(&out[*n], *n);
		(*n)++;
	}
	free(data);
	/* A fixture the parser does not take whole is a broken fixture, not a data point. */
	if (off != len || c.bad_header || c.bad_attr || c.bad_type || *n == 0) {
		free(out);
		*n = 0;
		return -EBADMSG;
	}
	*recs = out;
	return 0;
}
