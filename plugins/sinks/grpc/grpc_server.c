/* grpc_server — gRPC's C core for the plugin: one completion-queue thread drives every
 * call. A new call is dispatched on its method path: FlatRecords and PollFlatRecords
 * become subscribers (their sends are started by whoever fills their ring: the sink
 * thread, or this thread when a send completes), ConfigService and Health calls are
 * answered from grpc_ctl.c, anything else, or what the configuration refuses, gets its
 * status at once (counted). A call is freed when its close and every batch completed. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>

#include "grpc_int.h"
#include "ops_clock.h"

#define P_FLAT "/xtcp_flat_record.v1.XTCPFlatRecordService/"
#define P_CONF "/xtcp_config.v1.ConfigService/"

static const struct { const char *path; enum rpc_kind kind; int method, control; } methods[] = {
	{ P_FLAT "FlatRecords", RK_FLAT, 0, 0 },
	{ P_FLAT "PollFlatRecords", RK_POLL, 0, 1 },
	{ P_CONF "Get", RK_UNARY, CM_GET, 1 },
	{ P_CONF "Set", RK_UNARY, CM_SET, 1 },
	{ P_CONF "SetPollFrequency", RK_UNARY, CM_SETFREQ, 1 },
	{ P_CONF "TriggerPoll", RK_UNARY, CM_TRIGGER, 1 },
	{ P_CONF "TriggerPollBurst", RK_UNARY, CM_BURST, 1 },
	{ "/grpc.health.v1.Health/Check", RK_UNARY, CM_HEALTH, 0 },
};

static int start(struct rpc *r, grpc_op *ops, size_t n, struct tag *t)
{
	grpc_call_error e;

	atomic_fetch_add(&r->ops, 1);
	e = grpc_call_start_batch(r->call, ops, n, t, NULL);
	if (e != GRPC_CALL_OK) {
		atomic_fetch_sub(&r->ops, 1);
		r->g->host->log_ratelimited(r->g->ctx, start, 60000, XTCPD_LOG_ERR,
					    "grpc_call_start_batch: error %d", (int)e);
		return -EIO;
	}
	return 0;
}

static void rpc_free(struct rpc *r)
{
	if (r->sub) {
		ring_fini(&r->sub->ring);
		if (r->sub->inflight)
			grpc_byte_buffer_destroy(r->sub->inflight);
		pthread_mutex_destroy(&r->sub->lock);
		free(r->sub);
	}
	if (r->recv)
		grpc_byte_buffer_destroy(r->recv);
	if (r->resp)
		grpc_byte_buffer_destroy(r->resp);
	grpc_slice_unref(r->details);
	grpc_call_unref(r->call);
	free(r);
}

static void maybe_free(struct rpc *r)
{
	if (r->closed && atomic_load(&r->ops) == 0)
		rpc_free(r);
}

void gsrv_kick(struct gsink *g, struct sub *s)
{
	const uint8_t *p;
	size_t n;
	grpc_slice sl;
	grpc_op op = { .op = GRPC_OP_SEND_MESSAGE };

	if (s->sending || s->dead || atomic_load(&g->stopping) || !(n = ring_peek(&s->ring, &p)))
		return;
	sl = grpc_slice_from_copied_buffer((const char *)p, n);
	s->inflight = grpc_raw_byte_buffer_create(&sl, 1);
	grpc_slice_unref(sl);
	ring_pop(&s->ring);
	s->sending = 1;
	op.data.send_message.send_message = s->inflight;
	if (start(s->rpc, &op, 1, &s->rpc->t_sent)) {
		grpc_byte_buffer_destroy(s->inflight);
		s->inflight = NULL;
		s->sending = 0;
		s->dead = 1;
	}
}

/* The status of a call answered at once (refused), of a unary call's end, or of a
 * PollFlatRecords stream the client closed (its RECV_CLOSE is posted already). */
static void finish(struct rpc *r, grpc_status_code code, const char *msg, int with_md)
{
	int stream = r->kind == RK_POLL;

	grpc_op ops[4];
	size_t n = 0;

	memset(ops, 0, sizeof(ops));
	if (with_md)
		ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
	if (r->resp && code == GRPC_STATUS_OK) {
		ops[n].op = GRPC_OP_SEND_MESSAGE;
		ops[n++].data.send_message.send_message = r->resp;
	}
	r->details = grpc_slice_from_copied_string(msg ? msg : "");
	ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
	ops[n].data.send_status_from_server.status = code;
	ops[n++].data.send_status_from_server.status_details = msg && *msg ? &r->details : NULL;
	if (!stream) {
		ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
		ops[n++].data.recv_close_on_server.cancelled = &r->cancelled;
	}
	if (start(r, ops, n, &r->t_done) && !stream)
		r->closed = 1;
}

static int post_recv(struct rpc *r, int with_md)
{
	grpc_op ops[2];
	size_t n = 0;

	memset(ops, 0, sizeof(ops));
	if (with_md)
		ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[n].op = GRPC_OP_RECV_MESSAGE;
	ops[n++].data.recv_message.recv_message = &r->recv;
	return start(r, ops, n, &r->t_recv);
}

/* "authorization: Bearer TOKEN", compared in constant time. */
static int authorized(const struct gsink *g, const grpc_metadata_array *md)
{
	const char *tok = g->v[GK_TOKEN].str;
	size_t tl = strlen(tok);

	if (!tl)
		return 1;
	for (size_t i = 0; i < md->count; i++) {
		const grpc_metadata *m = &md->metadata[i];
		const uint8_t *v = GRPC_SLICE_START_PTR(m->value);
		size_t vl = GRPC_SLICE_LENGTH(m->value);
		unsigned char diff = 0;

		if (grpc_slice_str_cmp(m->key, "authorization") || vl != tl + 7 ||
		    strncasecmp((const char *)v, "Bearer ", 7))
			continue;
		for (size_t j = 0; j < tl; j++)
			diff |= (unsigned char)(v[7 + j] ^ (uint8_t)tok[j]);
		return !diff;
	}
	return 0;
}

static void refuse(struct rpc *r, enum gm m, grpc_status_code code, const char *msg)
{
	metrics_add_(r->g->m[m], 1);
	r->kind = RK_REFUSE;
	finish(r, code, msg, 1);
}

static int add_sub(struct gsink *g, struct rpc *r)
{
	struct sub *s = calloc(1, sizeof(*s));

	if (!s || ring_init(&s->ring, (size_t)g->v[GK_SUBSCRIBER_QUEUE].num)) {
		free(s);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->rpc = r;
	s->poll_mode = r->kind == RK_POLL;
	r->sub = s;
	pthread_mutex_lock(&g->subs_lock);
	s->next = g->subs;
	g->subs = s;
	g->n_subs++;
	atomic_store(g->m[GM_SUBS], g->n_subs);
	pthread_mutex_unlock(&g->subs_lock);
	return 0;
}

static void del_sub(struct gsink *g, struct sub *s)
{
	if (!s)  /* it could not be listed */
		return;
	pthread_mutex_lock(&g->subs_lock);
	for (struct sub **pp = &g->subs; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			g->n_subs--;
			break;
		}
	atomic_store(g->m[GM_SUBS], g->n_subs);
	pthread_mutex_unlock(&g->subs_lock);
	pthread_mutex_lock(&s->lock);
	s->dead = 1;
	pthread_mutex_unlock(&s->lock);
}

static void accept_call(struct gsink *g, grpc_call *call, const grpc_call_details *d,
			const grpc_metadata_array *md)
{
	struct rpc *r = calloc(1, sizeof(*r));
	size_t i;

	if (!r) {
		grpc_call_cancel_with_status(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory", NULL);
		grpc_call_unref(call);
		return;
	}
	r->call = call;
	r->g = g;
	r->details = grpc_empty_slice();
	r->t_recv = (struct tag){ r, TW_RECV };
	r->t_sent = (struct tag){ r, TW_SENT };
	r->t_close = (struct tag){ r, TW_CLOSE };
	r->t_done = (struct tag){ r, TW_DONE };
	metrics_add_(g->m[GM_CALLS], 1);
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (!grpc_slice_str_cmp(d->method, methods[i].path))
			break;
	if (i == sizeof(methods) / sizeof(methods[0]))
		return refuse(r, GM_REF_UNKNOWN, GRPC_STATUS_UNIMPLEMENTED, "unknown method");
	if (methods[i].control && !g->v[GK_CONTROL].num)
		return refuse(r, GM_REF_CONTROL, GRPC_STATUS_PERMISSION_DENIED,
			      "control is off on this server (sink grpc: control = false)");
	if (methods[i].control && !authorized(g, md))
		return refuse(r, GM_REF_AUTH, GRPC_STATUS_UNAUTHENTICATED,
			      "a bearer token is required (authorization: Bearer TOKEN)");
	r->kind = methods[i].kind;
	r->method = methods[i].method;
	if (r->kind == RK_UNARY) {
		if (post_recv(r, 1))
			r->closed = 1, maybe_free(r);
		return;
	}
	if (g->n_subs >= (unsigned)g->v[GK_MAX_SUBSCRIBERS].num)
		return refuse(r, GM_REF_SUBS, GRPC_STATUS_RESOURCE_EXHAUSTED,
			      "too many subscribers (sink grpc: max_subscribers)");
	{
		grpc_op op = { .op = GRPC_OP_RECV_CLOSE_ON_SERVER };

		op.data.recv_close_on_server.cancelled = &r->cancelled;
		if (start(r, &op, 1, &r->t_close)) {
			r->closed = 1;
			maybe_free(r);
			return;
		}
	}
	/* initial metadata first: the sink thread may start a send once it is listed */
	if (post_recv(r, 1) || add_sub(g, r))
		grpc_call_cancel_with_status(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "cannot serve", NULL);
}

static void unary(struct rpc *r, int ok)
{
	grpc_byte_buffer_reader rd;
	grpc_slice all;
	uint8_t *resp = NULL;
	size_t resp_len = 0;
	char msg[1200] = "";
	grpc_status_code code;

	if (!ok || !r->recv || !grpc_byte_buffer_reader_init(&rd, r->recv)) {
		metrics_add_(r->g->m[GM_REF_BADREQ], 1);
		finish(r, GRPC_STATUS_INVALID_ARGUMENT, "no request message", 0);
		return;
	}
	all = grpc_byte_buffer_reader_readall(&rd);
	grpc_byte_buffer_reader_destroy(&rd);
	code = gctl_call(r->g, (enum ctl_method)r->method, GRPC_SLICE_START_PTR(all),
			 GRPC_SLICE_LENGTH(all), &resp, &resp_len, msg, sizeof(msg));
	grpc_slice_unref(all);
	if (code == GRPC_STATUS_INVALID_ARGUMENT)
		metrics_add_(r->g->m[GM_REF_BADREQ], 1);
	if (resp) {
		grpc_slice sl = grpc_slice_from_copied_buffer((const char *)resp, resp_len);

		r->resp = grpc_raw_byte_buffer_create(&sl, 1);
		grpc_slice_unref(sl);
		free(resp);
	}
	finish(r, code, msg, 0);
}

/* PollFlatRecords: each message asks for a poll; its records come back on the stream. */
static void poll_request(struct rpc *r, int ok)
{
	struct gsink *g = r->g;
	struct sub *s = r->sub;
	struct timespec now;
	int rc;

	if (!s)  /* it could not be listed: the call is cancelled */
		return;
	if (!ok || !r->recv) {  /* the client is done sending: end the stream */
		pthread_mutex_lock(&s->lock);
		s->dead = 1;
		pthread_mutex_unlock(&s->lock);
		if (ok)
			finish(r, GRPC_STATUS_OK, NULL, 0);
		return;
	}
	grpc_byte_buffer_destroy(r->recv);
	r->recv = NULL;
	/* Armed before asking: the poll may run and its records reach the sink thread before
	 * this thread runs again. A poll started now has a later timestamp; one already
	 * running (coalesced) an earlier one: then the first cycle whose records come. */
	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&s->lock);
	s->armed = 1;
	s->locked_ts = 0;
	s->armed_after_ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
	pthread_mutex_unlock(&s->lock);
	rc = XTCPD_HOST_HAS(g->host, poll_now) ? g->host->poll_now(g->ctx) : -ENOSYS;
	if (rc) {
		pthread_mutex_lock(&s->lock);
		s->armed = rc == -EALREADY;
		if (!s->locked_ts)
			s->armed_after_ns = 0;
		pthread_mutex_unlock(&s->lock);
	}
	post_recv(r, 0);
}

static void on_event(struct gsink *g, struct tag *t, int ok)
{
	struct rpc *r = t->r;

	switch (t->what) {
	case TW_RECV:
		if (r->kind == RK_UNARY)
			unary(r, ok);
		else if (r->kind == RK_POLL)
			poll_request(r, ok);
		else if (r->recv) {  /* FlatRecordsRequest: nothing in it */
			grpc_byte_buffer_destroy(r->recv);
			r->recv = NULL;
		}
		break;
	case TW_SENT:
		pthread_mutex_lock(&r->sub->lock);
		grpc_byte_buffer_destroy(r->sub->inflight);
		r->sub->inflight = NULL;
		r->sub->sending = 0;
		if (ok) {
			metrics_add_(g->m[GM_SENT], 1);
			r->sub->full_since_ns = 0;
			gsrv_kick(g, r->sub);
		} else {
			r->sub->dead = 1;
		}
		pthread_mutex_unlock(&r->sub->lock);
		break;
	case TW_CLOSE:
		r->closed = 1;
		del_sub(g, r->sub);
		break;
	case TW_DONE:
		if (r->kind != RK_POLL)
			r->closed = 1;
		break;
	}
	atomic_fetch_sub(&r->ops, 1);
	maybe_free(r);
}

static void request_next(struct gsink *g)
{
	grpc_call_details_init(&g->new_details);
	grpc_metadata_array_init(&g->new_md);
	g->new_call = NULL;
	if (grpc_server_request_call(g->server, &g->new_call, &g->new_details, &g->new_md, g->cq,
				     g->cq, &g->listen_tag) != GRPC_CALL_OK)
		g->host->log(g->ctx, XTCPD_LOG_ERR, "grpc_server_request_call failed: no more calls");
}

static void *cq_loop(void *arg)
{
	struct gsink *g = arg;

	pthread_setname_np(pthread_self(), "grpc-cq");
	for (;;) {
		grpc_event ev = grpc_completion_queue_next(g->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);

		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			break;
		if (ev.type != GRPC_OP_COMPLETE)
			continue;
		if (ev.tag == &g->shutdown_tag) {
			grpc_completion_queue_shutdown(g->cq);
		} else if (ev.tag == &g->listen_tag) {
			if (ev.success && g->new_call)
				accept_call(g, g->new_call, &g->new_details, &g->new_md);
			grpc_call_details_destroy(&g->new_details);
			grpc_metadata_array_destroy(&g->new_md);
			if (ev.success && !atomic_load(&g->stopping))
				request_next(g);
		} else {
			on_event(g, ev.tag, ev.success);
		}
	}
	return NULL;
}

static char *read_pem(struct gsink *g, const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t n = 0;

	if (f) {
		buf = calloc(1, 1 << 20);
		if (buf)
			n = fread(buf, 1, (1 << 20) - 1, f);
		fclose(f);
	}
	if (!buf || !n) {
		g->host->log(g->ctx, XTCPD_LOG_ERR, "%s: cannot read", path);
		free(buf);
		return NULL;
	}
	return buf;
}

static grpc_server_credentials *credentials(struct gsink *g)
{
	grpc_ssl_pem_key_cert_pair pair;
	grpc_server_credentials *c;
	char *cert, *key;

	if (!*g->v[GK_TLS_CERT].str)
		return grpc_insecure_server_credentials_create();
	cert = read_pem(g, g->v[GK_TLS_CERT].str);
	key = cert ? read_pem(g, g->v[GK_TLS_KEY].str) : NULL;
	if (!key) {
		free(cert);
		return NULL;
	}
	pair.cert_chain = cert;
	pair.private_key = key;
	c = grpc_ssl_server_credentials_create(NULL, &pair, 1, 0, NULL);
	memset(key, 0, strlen(key));
	free(cert);
	free(key);
	return c;
}

int gsrv_start(struct gsink *g)
{
	/* SO_REUSEPORT stays on (gRPC's default): a reload builds the new instance beside
	 * the running one, and both listen on the port until the swap stops the old one. */
	grpc_arg a[1] = {
		{ .type = GRPC_ARG_INTEGER, .key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
		  .value.integer = (int)g->v[GK_MAX_RECV].num },
	};
	grpc_channel_args args = { 1, a };
	grpc_server_credentials *creds;

	grpc_init();
	g->server = grpc_server_create(&args, NULL);
	g->cq = grpc_completion_queue_create_for_next(NULL);
	grpc_server_register_completion_queue(g->server, g->cq, NULL);
	creds = credentials(g);
	g->port = creds ? grpc_server_add_http2_port(g->server, g->listen, creds) : 0;
	if (creds)
		grpc_server_credentials_release(creds);
	if (!g->port) {
		g->host->log(g->ctx, XTCPD_LOG_ERR, "cannot listen on %s%s", g->listen,
			     creds ? " (in use, or not an address of this host)" : "");
		grpc_server_destroy(g->server);
		g->server = NULL;
		grpc_completion_queue_shutdown(g->cq);
		while (grpc_completion_queue_next(g->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
		       GRPC_QUEUE_SHUTDOWN)
			;
		grpc_completion_queue_destroy(g->cq);
		g->cq = NULL;
		grpc_shutdown();
		return -EADDRINUSE;
	}
	grpc_server_start(g->server);
	request_next(g);
	if (pthread_create(&g->thread, NULL, cq_loop, g)) {
		gsrv_stop(g);
		return -EAGAIN;
	}
	g->thread_ok = 1;
	g->host->log(g->ctx, XTCPD_LOG_INFO, "listening on %s%s (port %d), control %s%s", g->listen,
		     *g->v[GK_TLS_CERT].str ? " with TLS" : "", g->port,
		     g->v[GK_CONTROL].num ? "on" : "off",
		     g->v[GK_CONTROL].num && *g->v[GK_TOKEN].str ? " with a token" : "");
	return 0;
}

void gsrv_stop(struct gsink *g)
{
	if (!g->server)
		return;
	atomic_store(&g->stopping, 1);
	grpc_server_shutdown_and_notify(g->server, g->cq, &g->shutdown_tag);
	grpc_server_cancel_all_calls(g->server);
	if (g->thread_ok)
		pthread_join(g->thread, NULL);
	g->thread_ok = 0;
	grpc_server_destroy(g->server);
	g->server = NULL;
	grpc_completion_queue_destroy(g->cq);
	g->cq = NULL;
	grpc_shutdown();
}
