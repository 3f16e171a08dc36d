/* conf_print — the effective configuration (files, conf.d, --dest, -o and xtcp2's flags,
 * environment and XTCP_CONFIG_JSON, all applied) written back as one configuration file
 * that -c accepts: set keys as written, unset keys as comments with their default. */
#include "config.h"
#include "conf/conf.h"

#include <stdlib.h>
#include <string.h>

/* Names that hold credentials: printed as a placeholder, never as the value. */
static int conf_secret(const char *key)
{
	static const char *const words[] = { "password", "secret", "token", "credential" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(key, words[i]))
			return 1;
	return 0;
}

/* A value the INI reader would change (spaces at the ends, empty, starting with a quote)
 * goes in the quote it does not contain; `; from` after it says where it was set. */
static void conf_print_value(FILE *out, const char *key, const char *v, const char *where)
{
	size_t n = strlen(v);

	if (conf_secret(key))
		v = CONF_HIDDEN, n = strlen(v);
	if (!n || v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t' ||
	    v[0] == '"' || v[0] == '\'')
		fprintf(out, strchr(v, '"') ? "'%s'" : "\"%s\"", v);
	else
		fprintf(out, "%s", v);
	fprintf(out, " ; from %s\n", where);
}

static const struct conf_entry *conf_entry_of(const struct conf_section *s, const char *key)
{
	for (size_t i = 0; i < s->n_entries; i++)
		if (!strcmp(s->entries[i].key, key))
			return &s->entries[i];
	return NULL;
}

static void conf_print_unset(FILE *out, const struct conf_section *s, const struct xtcpd_key *keys)
{
	for (size_t i = 0; keys && keys[i].name; i++)
		if (!(keys[i].flags & XTCPD_KEY_PREFIX) && !conf_entry_of(s, keys[i].name))
			fprintf(out, "# %s = %s\n", keys[i].name, keys[i].def ? keys[i].def : "");
}

static void conf_print_section(FILE *out, const struct conf_section *s)
{
	static const struct xtcpd_key *const kind_keys[] = {
		[CONF_CORE] = NULL, [CONF_SOURCE] = conf_source_keys,
		[CONF_MARSHALLER] = conf_marshaller_keys, [CONF_SINK] = conf_sink_keys,
	};

	if (s->kind == CONF_CORE)
		fprintf(out, "[core]\n");
	else if (!strcmp(s->plugin, s->instance))
		fprintf(out, "[%s %s]\n", conf_kind_name(s->kind), s->plugin);
	else
		fprintf(out, "[%s %s %s]\n", conf_kind_name(s->kind), s->plugin, s->instance);
	for (size_t i = 0; i < s->n_entries; i++) {
		char where[600];

		conf_where(s->entries[i].file, s->entries[i].line, where, sizeof(where));
		fprintf(out, "%s = ", s->entries[i].key);
		conf_print_value(out, s->entries[i].key, s->entries[i].value, where);
	}
	conf_print_unset(out, s, s->kind == CONF_CORE ? conf_core_keys : s->keys);
	conf_print_unset(out, s, kind_keys[s->kind]);
	fprintf(out, "\n");
}

void conf_print(FILE *out, const struct conf *c)
{
	const struct conf_section *core = NULL;

	fprintf(out, "# xtcpd: the effective configuration (set keys, then the defaults as "
		"comments)\n\n");
	for (size_t i = 0; i < c->n_sec; i++)
		if (c->sec[i]->kind == CONF_CORE)
			core = c->sec[i];
	if (core) {
		conf_print_section(out, core);
	} else {
		struct conf_section none = { .kind = CONF_CORE };

		conf_print_section(out, &none);
	}
	for (size_t i = 0; i < c->n_sec; i++)
		if (c->sec[i]->kind != CONF_CORE)
			conf_print_section(out, c->sec[i]);
}

/* A configuration given back as --print-config wrote it (a control service's Get, edit,
 * Set) carries CONF_HIDDEN for each credential: it means "unchanged", so the running
 * value is taken (from the same section and key of `old`). 0, or -EINVAL with c->err
 * naming the first one `old` does not have. */
int conf_keep_hidden(struct conf *c, const struct conf *old)
{
	for (size_t i = 0; i < c->n_sec; i++) {
		struct conf_section *s = c->sec[i];

		for (size_t j = 0; j < s->n_entries; j++) {
			struct conf_entry *e = &s->entries[j];
			const struct conf_entry *was = NULL;
			char *v;

			if (strcmp(e->value, CONF_HIDDEN))
				continue;
			for (size_t k = 0; !was && k < old->n_sec; k++) {
				const struct conf_section *o = old->sec[k];

				if (o->kind == s->kind && !strcmp(o->instance, s->instance))
					was = conf_entry_of(o, e->key);
			}
			if (!was || !strcmp(was->value, CONF_HIDDEN)) {
				char w[600];

				conf_where(e->file, e->line, w, sizeof(w));
				return conf_fail(c, "%s: [%s %s] %s: hidden, and the running configuration "
						 "has no value to keep: set it", w, conf_kind_name(s->kind),
						 s->instance, e->key);
			}
			if (!(v = strdup(was->value)))
				return conf_fail(c, "out of memory");
			free(e->value);
			e->value = v;
		}
	}
	return 0;
}
