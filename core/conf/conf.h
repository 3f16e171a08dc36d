/* conf — configuration: xtcpd.conf + conf.d/NAME.conf files (INI, conf_text.c), -o overrides and
 * --dest, validated against the key tables the core and each plugin declare. */
#ifndef XTCPD_CONF_H
#define XTCPD_CONF_H

#include <stdio.h>
#include <xtcpd/plugin.h>

enum conf_kind { CONF_CORE = 0, CONF_SOURCE, CONF_MARSHALLER, CONF_SINK };

/* Core keys, in the order of conf_core_keys[]. */
enum core_key {
	CK_FREQUENCY, CK_TIMEOUT, CK_MAX_LOOPS, CK_HOSTNAME, CK_LABEL, CK_TAG, CK_LOCATION,
	CK_PLUGIN_DIR, CK_LOG_LEVEL, CK_LOG_TARGET, CK_PROM_LISTEN, CK_NETNS, CK_NETNS_DIRS,
	CK_NETNS_PROC_SCAN, CK_RECONCILE_INTERVAL, CK_CPUS, CK_MAX_THREADS, CK_NICE,
	CK_POOL_WAIT, CK_SHUTDOWN_TIMEOUT, CK_MAX_NAMESPACES, CK_MAX_NAMESPACES_PER_OWNER,
	CK_POLL_JITTER_PCT, CK_XTCP2_METRICS, CK_TUNING_ADVICE_SOCKETS, CK_TUNING_ADVICE_INTERVAL,
	CK_ENRICH_CONTAINER, CK_ENRICH_DOCKER, CK_DOCKER_SOCKET, CK_DOCKER_TIMEOUT, CK_ENRICH_NIC,
	CK_UPLINK_COUNT, CK_UPLINK_INTERFACES, CK_ENRICH_LLDP, CK_LLDPD_SOCKET, CK_ENRICH_ROOT,
	CK__COUNT
};
/* Keys the core adds to every marshaller / sink section. */
enum marshaller_key { MK_FLUSH_ROWS, MK_FLUSH_BYTES, MK_BUFFERS, MK__COUNT };
/* Keys the core adds to every source section. */
enum source_key { SRK_FALLBACK, SRK_FLUSH_INTERVAL, SRK__COUNT };
enum sink_key { SK_MARSHALLER, SK_QUEUE_DEPTH, SK_QUEUE_FULL, SK_QUEUE_BLOCK_TIMEOUT, SK_MAX_IN_FLIGHT,
	SK__COUNT };

extern const struct xtcpd_key conf_core_keys[];
extern const struct xtcpd_key conf_source_keys[];
extern const struct xtcpd_key conf_marshaller_keys[];
extern const struct xtcpd_key conf_sink_keys[];

struct conf_entry {
	char *key, *value;
	const char *file;          /* interned in struct conf */
	int line;                  /* 0 = command line */
};

struct conf_section {
	enum conf_kind kind;
	char *plugin;              /* NULL for [core] */
	char *instance;            /* instance name (= plugin unless given) */
	const char *file;
	int line;
	struct conf_entry *entries;
	size_t n_entries;
	/* filled by conf_validate(): */
	struct xtcpd_value *values;        /* plugin's own keys (table order) */
	struct xtcpd_value *kind_values;   /* the core's per-kind keys */
	struct xtcpd_kv *extra;
	size_t n_extra, n_values;
	const struct xtcpd_key *keys;      /* the plugin's table */
	struct xtcpd_config cfg;           /* what the plugin gets */
	/* A source's `fallback` plugin: its table, and its values (its defaults, overridden
	 * by the entries of this section whose names it declares too). */
	const struct xtcpd_key *fb_keys;
	struct xtcpd_value *fb_values;
	struct xtcpd_config fb_cfg;
};

struct conf {
	struct conf_section **sec;
	size_t n_sec;
	char **files;              /* interned file names */
	size_t n_files;
	struct xtcpd_value core[CK__COUNT];
	char hostname[256];
	char err[1024];            /* the one error message */
};

/* Parse the main file and every *.conf of confdir (lexical order). confdir may be NULL.
 * 0 or -EINVAL with conf->err set. */
int conf_load(struct conf *c, const char *main_path, const char *confdir);
/* Parse one configuration given as text (a whole file's worth; `name` stands for its
 * file in messages), as conf_load parses a file. 0 or -EINVAL with conf->err set. */
int conf_load_text(struct conf *c, const char *name, const char *text, size_t len);
/* A validated configuration's core key k set at run time to `text` (its value num), said
 * to come from `origin` (--print-config shows it). 0 or -errno. */
int conf_set_core(struct conf *c, enum core_key k, int64_t num, const char *text,
		  const char *origin);
/* --source NAME: replace every source section with [source NAME] (its keys default;
 * -o source.NAME.KEY=VALUE sets them). */
int conf_set_source(struct conf *c, const char *plugin);
/* --dest URI --marshal NAME: replace every marshaller and sink with this one path. */
int conf_set_dest(struct conf *c, const char *dest, const char *marshal);
/* Where an xtcp2 option tied to the destination goes for --dest `dest`: writes
 * "sink.INSTANCE.KEY" into out. 0, -ENOENT (the scheme has no such key) or -EINVAL (unknown
 * scheme). Pure: the command-line rewriter calls it before anything is loaded. */
enum conf_dest_param { CONF_DEST_TOPIC, CONF_DEST_TIMEOUT };
int conf_dest_param(const char *dest, enum conf_dest_param which, char *out, size_t n);
/* -o kind.instance.key=value or -o core.key=value. Instance "*": every section of the
 * kind (none is an error); "key?=value": only where the key is not set yet, and no
 * error when there is no such section (xtcp2's defaults where xtcpd's differ). */
int conf_override(struct conf *c, const char *assignment);
/* key_table(kind, plugin) gives a plugin's key table or NULL with err set (unknown
 * plugin). Checks every entry; fills values. */
typedef const struct xtcpd_key *(*conf_keys_fn)(void *arg, enum conf_kind kind,
						const char *plugin, char *err, size_t n);
int conf_validate(struct conf *c, conf_keys_fn keys_of, void *arg);
/* After conf_validate: each plugin section's own check (the plugin's check op, ABI 1.3),
 * through fn. The first refusal becomes c->err = "file:line: [section] key: reason"
 * (the line of the key, or of the section), -EINVAL. */
typedef int (*conf_check_fn)(void *arg, const struct conf_section *s, struct xtcpd_check *res);
int conf_check_plugins(struct conf *c, conf_check_fn fn, void *arg);
/* Check one plugin section (s->keys set) against its keys and the core's keys for its
 * kind, filling its values and s->cfg. 0 or -EINVAL with c->err set. */
int conf_check_section(struct conf *c, struct conf_section *s);
/* One plugin section made from "key=value" strings (NULL-terminated), checked exactly as
 * a file's section is (tests and tools drive a plugin with it). 0 with *out (owned by c;
 * (*out)->cfg is what the plugin gets), or -EINVAL with c->err set. */
int conf_section_from_kv(struct conf *c, enum conf_kind kind, const char *plugin,
			 const char *instance, const struct xtcpd_key *keys, const char *const *kv,
			 struct conf_section **out);
/* Write c (validated) as one configuration file that conf_load accepts: every entry with
 * where it came from, every unset key as a comment with its default (--print-config). */
void conf_print(FILE *out, const struct conf *c);
/* What conf_print writes in place of a credential. */
#define CONF_HIDDEN "(hidden: set it again)"
/* Entries of c whose value is CONF_HIDDEN take the running value: the one of the same
 * section and key in old. 0, or -EINVAL with c->err set (old has none). */
int conf_keep_hidden(struct conf *c, const struct conf *old);
void conf_free(struct conf *c);
/* A reload keeps an instance whose section in `to` equals s (in `from`): s itself moves
 * to `to` (the instance borrows its values), to's equal one moves to `from`. */
void conf_take_section(struct conf *to, struct conf *from, struct conf_section *s);
/* After sections moved: a sink's default marshaller names the one in c again. */
void conf_relink(struct conf *c);

struct conf_section *conf_find(struct conf *c, enum conf_kind kind, const char *instance);
const char *conf_kind_name(enum conf_kind k);

/* Internal to conf*.c: set c->err and return -EINVAL; "file:line" (or "file"). */
int conf_fail(struct conf *c, const char *fmt, ...) XTCPD_PRINTF(2, 3);
void conf_where(const char *file, int line, char *buf, size_t n);

/* The one duration grammar: digits with units d, h, m, s, ms, largest first, each at most
 * once ("250ms", "10s", "1m30s", "2h"); bare digits are seconds. No sign, space, decimal
 * point, exponent or upper case. 0, -EINVAL, or -ERANGE past INT64_MAX ms. */
int conf_parse_duration(const char *s, int64_t *ms);
/* Sizes: digits with an optional unit (b, k, kb, kib, m, mb, mib, g, gb, gib; any case;
 * powers of two). Same strictness. */
int conf_parse_size(const char *s, int64_t *bytes);
/* Parse one value for key k; 0 or -EINVAL with err = what is allowed. */
int conf_parse_value(const struct xtcpd_key *k, const char *text, struct xtcpd_value *v,
		     char *err, size_t n);
/* Print a key table as lines "name<TAB>type<TAB>default<TAB>allowed<TAB>help". */
void conf_print_keys(FILE *out, const struct xtcpd_key *keys);

#endif
