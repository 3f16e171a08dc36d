/* compat_int — what compat.c (xtcp2's flags, the table) shares with compat_env.c (xtcp2's
 * environment, XTCP_CONFIG_JSON, the migration table): the one table of xtcp2 settings and
 * the function that applies one setting, whichever of the three places it came from. */
#ifndef XTCPD_COMPAT_INT_H
#define XTCPD_COMPAT_INT_H

#include <stddef.h>
#include <stdio.h>

enum compat_act {
	ACT_KEY,        /* -o TARGET=VALUE */
	ACT_KEY0,       /* -o TARGET=VALUE, dropped when VALUE is 0 (xtcp2: "the default") */
	ACT_DEST,       /* --dest VALUE (with --marshal, topic, columns: decided at the end) */
	ACT_MARSHAL,    /* --marshal VALUE, only with a destination */
	ACT_TOPIC,      /* the destination's topic/subject/channel (conf_dest_param) */
	ACT_PTIMEOUT,   /* the destination's timeout (http), 0 = its default */
	ACT_FLUSH,      /* -o marshaller.*.TARGET=VALUE: every marshaller, dropped when 0 */
	ACT_COLUMNS,    /* -o marshaller.<marshal>.columns=VALUE with -dest and csv|tsv */
	ACT_DESER,      /* the netlink source's deserializers, in xtcp2's words */
	ACT_KCOMP,      /* the kafka sink's compression ("" and auto: zstd) */
	ACT_PKT,        /* -packetSize / -packetSizeMply: the netlink receive buffer */
	ACT_WFILES,     /* -writeFiles N: N > 0 captures into -capturePath */
	ACT_CAPDIR,     /* -capturePath DIR */
	ACT_THREADS,    /* -maxThreads: core.max_threads, capped at its maximum */
	ACT_DEBUG,      /* -d [N]: -o core.log_level=debug (info when N is 0) */
	ACT_NATIVE,     /* a bool that becomes the native option TARGET when true */
	ACT_IGNORE,     /* dropped with a warning naming TARGET (the equivalent) or none */
	ACT_SOFT,       /* -o TARGET?=VALUE: where that section is configured (a sink off by
	                 * default, e.g. -grpcPort: sink.grpc.port when the grpc sink is on) */
	ACT_URING,      /* -ioUring: --source io_uring (the netlink keys set here follow it);
	                 * its batch sizes: -o source.io_uring.TARGET=VALUE, with -ioUring only */
};

enum compat_val {
	VAL_STR,        /* any text */
	VAL_UINT,       /* decimal digits */
	VAL_DUR,        /* Go duration, normalized to what xtcpd reads */
	VAL_BOOL,       /* Go bool flag: takes no separate value */
};

struct compat_opt {
	const char *name;       /* xtcp2's flag name */
	enum compat_act act;
	enum compat_val val;
	const char *target;
};

/* xtcp2's settings, by flag name; NULL when there is no such flag. */
const struct compat_opt *compat_opt_find(const char *name, size_t len);
/* Row i of the table (NULL past its end), for the migration table. */
const struct compat_opt *compat_opt_at(size_t i);

struct compat_out;

/* Apply one xtcp2 setting with its value as text. `where` names it in messages ("xtcp2
 * option -frequency", "environment POLL_FREQUENCY", "XTCP_CONFIG_JSON field
 * \"pollFrequency\""), `ignored` names it in the warning of a setting xtcpd drops.
 * 0, -EINVAL with the error set, or -ENOMEM. */
int compat_apply(struct compat_out *o, const struct compat_opt *opt, const char *value,
		 const char *where, const char *ignored);
int compat_fail(struct compat_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void compat_warn(struct compat_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* compat_value.c: digits only; a zero count or duration (xtcp2: "the default"); one
 * value checked against opt's type, *res = the text for xtcpd (maybe buf). */
int compat_is_digits(const char *s);
int compat_zero(const char *v);
int compat_value(struct compat_out *o, const char *where, const struct compat_opt *opt,
		 const char *v, char *buf, size_t n, const char **res);

/* xtcp2's environment (env(NAME) gives a value or NULL) and then XTCP_CONFIG_JSON. */
int compat_env_apply(struct compat_out *o, const char *(*env)(const char *name));

#endif
