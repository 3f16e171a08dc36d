/* conf_cli — what the command line adds to a configuration: --source, --dest and
 * --marshal (xtcp2's destination URIs and format names, one table row each) and -o
 * overrides (core.KEY=VALUE, KIND.INSTANCE.KEY=VALUE, "?=" for a soft default). */
#include "config.h"
#include "conf/conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_int.h"

/* --dest schemes: "SCHEME[:ARG]" -> [sink PLUGIN] with KEY = ARG (or = fixed, or = the
 * whole URI). Adding a destination is one row here; xtcp2 schemes xtcpd does not build are
 * rows that say why. xtcp2's -topic and -produceTimeout go to the keys named in the
 * topic and timeout columns (compat.c asks through conf_dest_param). */
static const struct dest_scheme {
	const char *scheme, *plugin;
	const char *key;            /* the key ARG goes to; NULL = takes no ARG */
	const char *fixed;          /* value of `key` when the scheme takes no ARG */
	const char *usage;          /* shown in the "not allowed" message */
	int whole;                  /* `key` gets the whole URI, scheme included */
	const char *topic_key;      /* where xtcp2's -topic goes; NULL = not used */
	const char *timeout_key;    /* where xtcp2's -produceTimeout goes; NULL = not used */
	const char *refused;        /* not built: why (the whole message) */
} dest_schemes[] = {
	{ "kafka", "kafka", "brokers", NULL, "kafka:HOST:PORT", 0, "topic", NULL, NULL },
	{ "udp", "udp", "address", NULL, "udp:HOST:PORT", 0, NULL, NULL, NULL },
	{ "tcp", "tcp", "address", NULL, "tcp:HOST:PORT", 0, NULL, NULL, NULL },
	{ "unix", "unix", "path", NULL, "unix:PATH", 0, NULL, NULL, NULL },
	{ "unixgram", "unixgram", "path", NULL, "unixgram:PATH", 0, NULL, NULL, NULL },
	{ "file", "file", "path", NULL, "file:PATH", 0, NULL, NULL, NULL },
	{ "stdout", "file", "path", "-", "stdout", 0, NULL, NULL, NULL },
	{ "stderr", "stderr", NULL, NULL, "stderr", 0, NULL, NULL, NULL },
	{ "null", "null", NULL, NULL, "null", 0, NULL, NULL, NULL },
	{ "http", "http", "url", NULL, "http://HOST[:PORT]/PATH", 1, NULL, "timeout", NULL },
	{ "https", "http", "url", NULL, "https://HOST[:PORT]/PATH", 1, NULL, "timeout", NULL },
	{ "nats", "nats", "url", NULL, "nats:HOST:PORT", 0, "subject", NULL, NULL },
	{ "valkey", "valkey", "address", NULL, "valkey:HOST:PORT", 0, "channel", NULL, NULL },
	{ "nsq", NULL, NULL, NULL, NULL, 0, NULL, NULL,
	  "xtcpd has no nsq sink: there is no maintained C client library for NSQ" },
	{ "s3parquet", NULL, NULL, NULL, NULL, 0, NULL, NULL,
	  "xtcpd has no s3parquet sink: no C library that writes Parquet is packaged in Debian" },
};

/* --marshal names: xtcp2's spellings -> marshaller plugin, and the key that makes the
 * plugin write that format; xtcp2 posts jsonl as application/x-ndjson (an http sink's
 * content_type key, as protoJson's own type is application/json). */
static const struct marshal_name {
	const char *name, *plugin;
	const char *key, *value;    /* set in the marshaller's section; NULL = none */
	const char *http_ctype;     /* an http sink's content_type; NULL = the marshaller's */
} marshal_names[] = {
	{ "protobufList", "protobufList", NULL, NULL, NULL },
	{ "protoJson", "protoJson", NULL, NULL, NULL },
	{ "jsonl", "protoJson", "layout", "jsonl", "application/x-ndjson" },
	{ "protoText", "protoText", NULL, NULL, NULL },
	{ "json", "json", NULL, NULL, NULL },
	{ "csv", "csv", NULL, NULL, NULL },
	{ "tsv", "tsv", NULL, NULL, NULL },
};

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

static void dest_usage(char *buf, size_t n)
{
	size_t used = 0, last = 0, k = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < N_ELEM(dest_schemes); i++)
		if (dest_schemes[i].usage)
			last = i;
	for (size_t i = 0; i < N_ELEM(dest_schemes) && used < n; i++)
		if (dest_schemes[i].usage)
			used += (size_t)snprintf(buf + used, n - used, "%s%s",
						 k++ == 0 ? "" : i == last ? " or " : ", ",
						 dest_schemes[i].usage);
}

static const struct dest_scheme *dest_find(const char *dest)
{
	const char *colon = strchr(dest, ':');
	size_t slen = colon ? (size_t)(colon - dest) : strlen(dest);

	for (size_t i = 0; i < N_ELEM(dest_schemes); i++)
		if (strlen(dest_schemes[i].scheme) == slen && !strncmp(dest, dest_schemes[i].scheme, slen))
			return &dest_schemes[i];
	return NULL;
}

int conf_dest_param(const char *dest, enum conf_dest_param which, char *out, size_t n)
{
	const struct dest_scheme *d = dest_find(dest);
	const char *key;

	if (!d)
		return -EINVAL;
	key = which == CONF_DEST_TOPIC ? d->topic_key : d->timeout_key;
	if (!key)
		return -ENOENT;
	snprintf(out, n, "sink.%s.%s", d->plugin, key);
	return 0;
}

int conf_set_source(struct conf *c, const char *plugin)
{
	const char *file = conf_intern_file(c, CONF_CMDLINE);
	size_t j = 0;

	if (!file)
		return conf_fail(c, "out of memory");
	for (size_t i = 0; i < c->n_sec; i++) { /* drop the configured sources */
		if (c->sec[i]->kind == CONF_SOURCE)
			conf_section_free(c->sec[i]);
		else
			c->sec[j++] = c->sec[i];
	}
	c->n_sec = j;
	return conf_section_add(c, CONF_SOURCE, plugin, plugin, file, 0) ? 0 : -EINVAL;
}

int conf_set_dest(struct conf *c, const char *dest, const char *marshal)
{
	const char *file = conf_intern_file(c, CONF_CMDLINE);
	const char *arg = strchr(dest, ':'), *mplugin = NULL;
	const struct marshal_name *mn = NULL;
	const struct dest_scheme *d = dest_find(dest);
	size_t j = 0;
	struct conf_section *s, *m;
	char buf[512];

	if (!file)
		return conf_fail(c, "out of memory");
	for (size_t i = 0; i < N_ELEM(marshal_names); i++)
		if (!strcmp(marshal, marshal_names[i].name))
			mn = &marshal_names[i], mplugin = mn->plugin;
	if (!mplugin) {
		size_t used = 0;
		for (size_t i = 0; i < N_ELEM(marshal_names) && used < sizeof(buf); i++)
			used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s", i ? "|" : "",
						 marshal_names[i].name);
		return conf_fail(c, "%s: --marshal '%s' is not allowed (allowed: %s)", CONF_CMDLINE, marshal, buf);
	}
	if (d && d->refused)
		return conf_fail(c, "%s: --dest '%s': %s", CONF_CMDLINE, dest, d->refused);
	if (!d || (arg && (!d->key || d->fixed))) {
		dest_usage(buf, sizeof(buf));
		return conf_fail(c, "%s: --dest '%s' is not allowed (use %s)", CONF_CMDLINE, dest, buf);
	}
	if (d->key && !d->fixed && (!arg || !arg[1]))
		return conf_fail(c, "%s: --dest '%s' needs an address or path after '%s:'", CONF_CMDLINE, dest,
				 d->scheme);
	for (size_t i = 0; i < c->n_sec; i++) { /* drop configured marshallers and sinks */
		if (c->sec[i]->kind == CONF_MARSHALLER || c->sec[i]->kind == CONF_SINK)
			conf_section_free(c->sec[i]);
		else
			c->sec[j++] = c->sec[i];
	}
	c->n_sec = j;
	m = conf_section_add(c, CONF_MARSHALLER, mplugin, mplugin, file, 0);
	if (!m || (mn->key && conf_entry_add(c, m, mn->key, mn->value, file, 0)))
		return -EINVAL;
	s = conf_section_add(c, CONF_SINK, d->plugin, d->plugin, file, 0);
	if (!s || conf_entry_add(c, s, "marshaller", mplugin, file, 0))
		return -EINVAL;
	if (mn->http_ctype && !strcmp(d->plugin, "http") &&
	    conf_entry_add(c, s, "content_type", mn->http_ctype, file, 0))
		return -EINVAL;
	if (d->key)
		return conf_entry_add(c, s, d->key, d->fixed ? d->fixed : d->whole ? dest : arg + 1, file, 0);
	return 0;
}

int conf_section_from_kv(struct conf *c, enum conf_kind kind, const char *plugin,
			 const char *instance, const struct xtcpd_key *keys, const char *const *kv,
			 struct conf_section **out)
{
	const char *file = conf_intern_file(c, CONF_CMDLINE);
	struct conf_section *s;

	if (!file)
		return conf_fail(c, "out of memory");
	s = conf_section_add(c, kind, plugin, instance ? instance : plugin, file, 0);
	if (!s)
		return -EINVAL;
	for (size_t i = 0; kv && kv[i]; i++) {
		const char *eq = strchr(kv[i], '=');
		char key[256];

		if (!eq || eq == kv[i] || (size_t)(eq - kv[i]) >= sizeof(key))
			return conf_fail(c, "%s: '%s': expected KEY=VALUE", CONF_CMDLINE, kv[i]);
		snprintf(key, sizeof(key), "%.*s", (int)(eq - kv[i]), kv[i]);
		if (conf_entry_add(c, s, key, eq + 1, file, 0))
			return -EINVAL;
	}
	s->keys = keys;
	*out = s;
	return conf_check_section(c, s);
}

/* "?=" sets a key only where no file or earlier override set it (xtcp2's defaults
 * where xtcpd's differ); instance "*" means every section of the kind (xtcp2's envelope
 * caps follow whatever marshaller is in use). */
static int override_one(struct conf *c, struct conf_section *s, const char *key,
			const char *value, int soft, const char *file)
{
	if (soft)
		for (size_t i = 0; i < s->n_entries; i++)
			if (!strcmp(s->entries[i].key, key))
				return 0;
	return conf_entry_add(c, s, key, value, file, 0);
}

int conf_override(struct conf *c, const char *a)
{
	const char *file = conf_intern_file(c, CONF_CMDLINE);
	const char *eq = strchr(a, '='), *dot1 = strchr(a, '.'), *dot2;
	char kind_s[32], inst[128], key[256];
	enum conf_kind kind;
	struct conf_section *s;
	int soft, n = 0;

	if (!file)
		return conf_fail(c, "out of memory");
	if (!eq || !dot1 || dot1 > eq)
		return conf_fail(c, "%s: -o '%s': expected core.KEY=VALUE or KIND.INSTANCE.KEY=VALUE", CONF_CMDLINE, a);
	soft = eq[-1] == '?';
	snprintf(kind_s, sizeof(kind_s), "%.*s", (int)(dot1 - a), a);
	for (kind = CONF_CORE; kind <= CONF_SINK && strcmp(kind_s, conf_kind_names[kind]); kind++)
		;
	if (kind > CONF_SINK)
		return conf_fail(c, "%s: -o '%s': '%s' is not a section kind (allowed: core|source|marshaller|sink)",
			    CONF_CMDLINE, a, kind_s);
	if (kind == CONF_CORE) {
		snprintf(key, sizeof(key), "%.*s", (int)(eq - soft - dot1 - 1), dot1 + 1);
		if (!*key)
			return conf_fail(c, "%s: -o '%s': empty key", CONF_CMDLINE, a);
		s = conf_find(c, CONF_CORE, NULL);
		if (!s)
			s = conf_section_add(c, CONF_CORE, NULL, NULL, file, 0);
		return s ? override_one(c, s, key, eq + 1, soft, file) : -EINVAL;
	}
	dot2 = strchr(dot1 + 1, '.');
	if (!dot2 || dot2 > eq)
		return conf_fail(c, "%s: -o '%s': expected %s.INSTANCE.KEY=VALUE", CONF_CMDLINE, a, kind_s);
	snprintf(inst, sizeof(inst), "%.*s", (int)(dot2 - dot1 - 1), dot1 + 1);
	snprintf(key, sizeof(key), "%.*s", (int)(eq - soft - dot2 - 1), dot2 + 1);
	if (!*key)
		return conf_fail(c, "%s: -o '%s': empty key", CONF_CMDLINE, a);
	for (size_t i = 0; i < c->n_sec; i++) {
		s = c->sec[i];
		if (s->kind != kind || (strcmp(inst, "*") && strcmp(s->instance, inst)))
			continue;
		if (override_one(c, s, key, eq + 1, soft, file))
			return -EINVAL;
		n++;
	}
	if (!n && !soft)
		return conf_fail(c, "%s: -o '%s': there is no [%s ... %s] section to set '%s' in",
				 CONF_CMDLINE, a, kind_s, inst, key);
	return 0;
}
