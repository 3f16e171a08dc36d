/* testconf — builds a struct xtcpd_config from "key=value" strings using a plugin's own
 * key table, the way the core does, so sink tests see the values a real run would. */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tests/sinks/testhost.h"

static int tc_enum(const char *choices, const char *s, int64_t *out)
{
	size_t n = strlen(s);
	int64_t i = 0;

	for (const char *c = choices; c; i++) {
		const char *bar = strchr(c, '|');
		size_t len = bar ? (size_t)(bar - c) : strlen(c);

		if (len == n && !strncmp(c, s, n)) {
			*out = i;
			return 0;
		}
		c = bar ? bar + 1 : NULL;
	}
	return -1;
}

static int tc_number(const struct xtcpd_key *k, const char *s, int64_t *out)
{
	char *end;
	double mult = 1;
	int64_t v = strtoll(s, &end, 10);

	if (end == s)
		return -1;
	if (k->type == XTCPD_KEY_DURATION) {
		if (!*end || !strcmp(end, "s"))
			mult = 1000;
		else if (!strcmp(end, "ms"))
			mult = 1;
		else if (!strcmp(end, "m"))
			mult = 60000;
		else if (!strcmp(end, "h"))
			mult = 3600000;
		else
			return -1;
	} else if (k->type == XTCPD_KEY_SIZE) {
		if (!*end)
			mult = 1;
		else if (strchr("kK", *end))
			mult = 1024;
		else if (*end == 'M')
			mult = 1024.0 * 1024;
		else if (*end == 'G')
			mult = 1024.0 * 1024 * 1024;
		else
			return -1;
		if (*end && end[1] && strcmp(end + 1, "iB") && strcmp(end + 1, "B"))
			return -1;
	} else if (*end) {
		return -1;
	}
	v = (int64_t)(v * mult);
	if ((k->min || k->max) && (v < k->min || v > k->max))
		return -1;
	*out = v;
	return 0;
}

static int tc_value(const struct xtcpd_key *k, const char *s, struct xtcpd_value *v)
{
	v->str = s;
	switch (k->type) {
	case XTCPD_KEY_BOOL:
		if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") || !strcasecmp(s, "on") ||
		    !strcmp(s, "1"))
			v->num = 1;
		else if (!strcasecmp(s, "no") || !strcasecmp(s, "false") ||
			 !strcasecmp(s, "off") || !strcmp(s, "0"))
			v->num = 0;
		else
			return -1;
		return 0;
	case XTCPD_KEY_ENUM:
		return tc_enum(k->choices, s, &v->num);
	case XTCPD_KEY_INT:
	case XTCPD_KEY_DURATION:
	case XTCPD_KEY_SIZE:
		return tc_number(k, s, &v->num);
	case XTCPD_KEY_STRING:
		return k->max > 0 && (int64_t)strlen(s) > k->max ? -1 : 0;
	case XTCPD_KEY_LIST:
		return 0;
	}
	return -1;
}

struct xtcpd_config *th_config(const struct xtcpd_plugin *p, const char *instance,
			       const char *const *kv)
{
	struct xtcpd_config *cfg = calloc(1, sizeof(*cfg));
	struct xtcpd_value *values;
	struct xtcpd_kv *extra;
	size_t n = 0, n_kv = 0;

	while (p->keys[n].name)
		n++;
	while (kv && kv[n_kv])
		n_kv++;
	values = calloc(n + 1, sizeof(*values));
	extra = calloc(n_kv + 1, sizeof(*extra));
	if (!cfg || !values || !extra)
		abort();
	cfg->instance = instance;
	cfg->values = values;
	cfg->n_values = n;
	cfg->extra = extra;
	for (size_t i = 0; i < n; i++)
		if (p->keys[i].def && tc_value(&p->keys[i], p->keys[i].def, &values[i])) {
			fprintf(stderr, "testconf: bad default for %s\n", p->keys[i].name);
			goto fail;
		}
	for (size_t j = 0; j < n_kv; j++) {
		const char *eq = strchr(kv[j], '=');
		size_t klen = eq ? (size_t)(eq - kv[j]) : 0;
		size_t i;

		for (i = 0; eq && i < n; i++) {
			const struct xtcpd_key *k = &p->keys[i];

			if (k->flags & XTCPD_KEY_PREFIX) {
				if (!strncmp(kv[j], k->name, strlen(k->name))) {
					char *key = strndup(kv[j], klen);

					extra[cfg->n_extra].key = key;
					extra[cfg->n_extra++].value = eq + 1;
					break;
				}
			} else if (strlen(k->name) == klen && !strncmp(k->name, kv[j], klen)) {
				if (tc_value(k, eq + 1, &values[i])) {
					fprintf(stderr, "testconf: bad value %s\n", kv[j]);
					goto fail;
				}
				values[i].set = 1;
				break;
			}
		}
		if (!eq || i == n) {
			fprintf(stderr, "testconf: unknown key %s\n", kv[j]);
			goto fail;
		}
	}
	for (size_t i = 0; i < n; i++)
		if ((p->keys[i].flags & XTCPD_KEY_REQUIRED) && !values[i].set) {
			fprintf(stderr, "testconf: %s is required\n", p->keys[i].name);
			goto fail;
		}
	return cfg;
fail:
	th_config_free(cfg);
	return NULL;
}

void th_config_free(struct xtcpd_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_extra; i++)
		free((char *)cfg->extra[i].key);
	free((void *)cfg->values);
	free((void *)cfg->extra);
	free(cfg);
}
