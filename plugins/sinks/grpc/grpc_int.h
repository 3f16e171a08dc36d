/* grpc_int.h — the gRPC plugin's objects, shared by its files: grpc_sink.c (the plugin:
 * keys, check, lifecycle, and the fan-out of each batch's rows to the subscribers),
 * grpc_server.c (gRPC's C core: the completion-queue thread and every call's state
 * machine) and grpc_ctl.c (ConfigService and Health over the host's control services). */
#ifndef XTCPD_GRPC_INT_H
#define XTCPD_GRPC_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <grpc/grpc.h>
#include <xtcpd/plugin.h>

#include "rows.h"

enum gk { GK_ADDRESS, GK_PORT, GK_CONTROL, GK_TOKEN, GK_TLS_CERT, GK_TLS_KEY,
	  GK_MAX_SUBSCRIBERS, GK_SUBSCRIBER_QUEUE, GK_STALL_TIMEOUT, GK_MAX_RECV, GK__COUNT };

enum gm {  /* metric slots */
	GM_SENT, GM_DROP_FULL, GM_DROP_TOOBIG, GM_DROP_STALLED, GM_SUBS, GM_SUBS_DROPPED,
	GM_REF_SUBS, GM_REF_CONTROL, GM_REF_AUTH, GM_REF_BADREQ, GM_REF_UNKNOWN, GM_BAD_BATCH,
	GM_CALLS, GM__COUNT
};

enum rpc_kind { RK_FLAT, RK_POLL, RK_UNARY, RK_REFUSE };
enum tag_what { TW_RECV, TW_SENT, TW_CLOSE, TW_DONE };

struct rpc;
struct tag {
	struct rpc *r;
	enum tag_what what;
};

/* One call, from grpc_server_request_call to its last completion. */
struct rpc {
	grpc_call *call;
	struct gsink *g;
	enum rpc_kind kind;
	int method;                   /* enum ctl_method for RK_UNARY */
	grpc_status_code refuse;      /* RK_REFUSE: the status to send */
	char refuse_msg[160];
	grpc_byte_buffer *recv;
	grpc_byte_buffer *resp;
	grpc_slice details;
	int cancelled;
	atomic_int ops;               /* batches outstanding */
	int closed;                   /* RECV_CLOSE_ON_SERVER completed */
	struct sub *sub;
	struct tag t_recv, t_sent, t_close, t_done;
};

/* One FlatRecords or PollFlatRecords stream. Its ring is filled by the sink thread and
 * emptied by sends; `lock` guards everything below it. */
struct sub {
	struct rpc *rpc;
	pthread_mutex_t lock;
	struct ring ring;
	int sending;              /* a SEND_MESSAGE is in flight */
	int dead;                 /* cancelled or closed: send nothing more */
	int64_t full_since_ns;    /* its ring is full since (CLOCK_MONOTONIC), 0 = not */
	grpc_byte_buffer *inflight;
	/* PollFlatRecords: only the records of the cycle asked for */
	int poll_mode, armed;
	int64_t armed_after_ns;   /* records of a cycle started at or after this */
	int64_t locked_ts;        /* that cycle's timestamp, once seen */
	struct sub *next;
};

struct gsink {
	const struct xtcpd_host *host;
	struct xtcpd_ctx *ctx;
	const struct xtcpd_value *v;
	char listen[300];
	int port;                 /* bound */
	_Atomic uint64_t *m[GM__COUNT];
	/* gRPC */
	grpc_server *server;
	grpc_completion_queue *cq;
	pthread_t thread;
	int thread_ok;
	atomic_int stopping;
	int shutdown_tag, listen_tag;  /* their addresses are the tags */
	grpc_call *new_call;           /* the one grpc_server_request_call outstanding */
	grpc_call_details new_details;
	grpc_metadata_array new_md;
	/* subscribers: the list under subs_lock (the sink thread walks it, the cq thread
	 * adds and removes) */
	pthread_mutex_t subs_lock;
	struct sub *subs;
	unsigned n_subs;
};

/* grpc_server.c */
int gsrv_start(struct gsink *g);
void gsrv_stop(struct gsink *g);
/* Under sub->lock: start sending the oldest entry if none is in flight. */
void gsrv_kick(struct gsink *g, struct sub *s);

/* grpc_ctl.c: the unary calls. Given the method's request bytes, fills *resp (owned,
 * free()) and returns a gRPC status, with details in msg. */
enum ctl_method { CM_GET, CM_SET, CM_SETFREQ, CM_TRIGGER, CM_BURST, CM_HEALTH };
grpc_status_code gctl_call(struct gsink *g, enum ctl_method m, const uint8_t *req, size_t n,
			   uint8_t **resp, size_t *resp_len, char *msg, size_t msg_size);
/* Parsing helpers (unit-tested). */
int gctl_duration_ms(const char *s, int64_t *ms);
/* The value of [core] `key` in --print-config text (set, or the default in its comment)
 * into out; 0, or -ENOENT. */
int gctl_core_value(const char *text, const char *key, char *out, size_t n);

#endif
