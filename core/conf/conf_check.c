/* conf_check — validation of parsed sections against the key tables: the core's own,
 * the per-kind keys the core adds, and each plugin's. Stops at the first error. */
#include "config.h"
#include "conf/conf.h"
#include "ops/tuning.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t table_len(const struct xtcpd_key *k)
{
	size_t n = 0;

	while (k && k[n].name)
		n++;
	return n;
}

static void section_name(const struct conf_section *s, char *buf, size_t n)
{
	if (s->kind == CONF_CORE)
		snprintf(buf, n, "[core]");
	else if (!strcmp(s->plugin, s->instance))
		snprintf(buf, n, "[%s %s]", conf_kind_name(s->kind), s->plugin);
	else
		snprintf(buf, n, "[%s %s %s]", conf_kind_name(s->kind), s->plugin, s->instance);
}

static int apply_defaults(struct conf *c, const struct xtcpd_key *keys, struct xtcpd_value *vals)
{
	char err[256];

	for (size_t i = 0; keys && keys[i].name; i++) {
		vals[i] = (struct xtcpd_value){ 0 };
		if (keys[i].def && conf_parse_value(&keys[i], keys[i].def, &vals[i], err, sizeof(err)))
			return conf_fail(c, "internal error: default of '%s' does not parse: %s", keys[i].name, err);
		vals[i].set = 0;
	}
	return 0;
}

static void allowed_keys(const struct xtcpd_key *a, const struct xtcpd_key *b, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int t = 0; t < 2; t++)
		for (const struct xtcpd_key *k = t ? b : a; k && k->name && len < n; k++)
			len += (size_t)snprintf(buf + len, n - len, "%s%s%s", len ? ", " : "", k->name,
						(k->flags & XTCPD_KEY_PREFIX) ? "*" : "");
	if (!len)
		snprintf(buf, n, "none");
}

/* Find key `name` in table; *prefix set when it matched an XTCPD_KEY_PREFIX entry. */
static long key_index(const struct xtcpd_key *keys, const char *name, int *prefix)
{
	*prefix = 0;
	for (long i = 0; keys && keys[i].name; i++) {
		if (keys[i].flags & XTCPD_KEY_PREFIX) {
			size_t pl = strlen(keys[i].name);
			if (!strncmp(name, keys[i].name, pl) && name[pl]) {
				*prefix = 1;
				return i;
			}
		} else if (!strcmp(keys[i].name, name)) {
			return i;
		}
	}
	return -1;
}

static int check_section(struct conf *c, struct conf_section *s, const struct xtcpd_key *kind_keys,
			 struct xtcpd_value *kind_vals)
{
	char sname[300], w[600], err[512], allowed[1500];
	size_t nk = table_len(s->keys);

	s->n_values = nk;
	s->values = calloc(nk + 1, sizeof(*s->values));
	s->extra = calloc(s->n_entries + 1, sizeof(*s->extra));
	if (!s->values || !s->extra)
		return conf_fail(c, "out of memory");
	if (apply_defaults(c, kind_keys, kind_vals) || apply_defaults(c, s->keys, s->values))
		return -EINVAL;
	section_name(s, sname, sizeof(sname));
	for (size_t i = 0; i < s->n_entries; i++) {
		struct conf_entry *e = &s->entries[i];
		struct xtcpd_value *v;
		const struct xtcpd_key *k;
		int prefix;
		long idx = key_index(kind_keys, e->key, &prefix);

		conf_where(e->file, e->line, w, sizeof(w));
		if (idx >= 0) {
			k = &kind_keys[idx];
			v = &kind_vals[idx];
		} else if ((idx = key_index(s->keys, e->key, &prefix)) >= 0) {
			k = &s->keys[idx];
			v = &s->values[idx];
		} else {
			allowed_keys(kind_keys, s->keys, allowed, sizeof(allowed));
			return conf_fail(c, "%s: %s: unknown key '%s' (allowed: %s)", w, sname, e->key, allowed);
		}
		if (prefix) {
			s->extra[s->n_extra++] = (struct xtcpd_kv){ e->key, e->value };
			continue;
		}
		if (conf_parse_value(k, e->value, v, err, sizeof(err)))
			return conf_fail(c, "%s: %s %s: %s", w, sname, e->key, err);
		v->set = 1;
	}
	for (int t = 0; t < 2; t++) {
		const struct xtcpd_key *keys = t ? s->keys : kind_keys;
		const struct xtcpd_value *vals = t ? s->values : kind_vals;
		for (size_t i = 0; keys && keys[i].name; i++)
			if ((keys[i].flags & XTCPD_KEY_REQUIRED) && !vals[i].set) {
				conf_where(s->file, s->line, w, sizeof(w));
				return conf_fail(c, "%s: %s: missing required key '%s' (%s)", w, sname,
					    keys[i].name, keys[i].help);
			}
	}
	s->cfg = (struct xtcpd_config){ .instance = s->instance, .values = s->values,
					.n_values = nk, .extra = s->extra, .n_extra = s->n_extra };
	return 0;
}

static int check_sink_marshaller(struct conf *c, struct conf_section *s)
{
	struct xtcpd_value *m = &s->kind_values[SK_MARSHALLER];
	char w[600], have[600] = "", sname[300];
	size_t n_m = 0, len = 0;
	const char *only = NULL;

	for (size_t i = 0; i < c->n_sec; i++)
		if (c->sec[i]->kind == CONF_MARSHALLER) {
			n_m++;
			only = c->sec[i]->instance;
			len += (size_t)snprintf(have + len, sizeof(have) - len, "%s%s", len ? ", " : "", only);
		}
	if (m->str && conf_find(c, CONF_MARSHALLER, m->str))
		return 0;
	if (!m->str && n_m == 1) {
		m->str = only;
		return 0;
	}
	section_name(s, sname, sizeof(sname));
	if (!m->str) {
		conf_where(s->file, s->line, w, sizeof(w));
		return conf_fail(c, "%s: %s: missing key 'marshaller' (allowed: %s)", w, sname,
			    n_m ? have : "none: add a [marshaller NAME] section");
	}
	for (size_t i = 0; i < s->n_entries; i++)
		if (!strcmp(s->entries[i].key, "marshaller"))
			conf_where(s->entries[i].file, s->entries[i].line, w, sizeof(w));
	return conf_fail(c, "%s: %s marshaller: no [marshaller %s] section (allowed: %s)", w, sname,
		    m->str, n_m ? have : "none: add a [marshaller NAME] section");
}

/* A source's fallback: a known source plugin, not the section's own, and every entry of
 * the section it declares too must be valid for it as well. */
static int check_fallback(struct conf *c, struct conf_section *s, conf_keys_fn keys_of, void *arg)
{
	const struct xtcpd_value *fb = &s->kind_values[SRK_FALLBACK];
	char sname[300], w[600] = "", err[700] = "";
	size_t nk;

	if (!fb->str || !*fb->str)
		return 0;
	section_name(s, sname, sizeof(sname));
	for (size_t i = 0; i < s->n_entries; i++)
		if (!strcmp(s->entries[i].key, "fallback"))
			conf_where(s->entries[i].file, s->entries[i].line, w, sizeof(w));
	if (!strcmp(fb->str, s->plugin))
		return conf_fail(c, "%s: %s fallback: '%s' is this section's own plugin (allowed: another source plugin)",
				 w, sname, fb->str);
	s->fb_keys = keys_of(arg, CONF_SOURCE, fb->str, err, sizeof(err));
	if (!s->fb_keys)
		return conf_fail(c, "%s: %s fallback: %s", w, sname, err);
	nk = table_len(s->fb_keys);
	s->fb_values = calloc(nk + 1, sizeof(*s->fb_values));
	if (!s->fb_values)
		return conf_fail(c, "out of memory");
	if (apply_defaults(c, s->fb_keys, s->fb_values))
		return -EINVAL;
	for (size_t i = 0; i < s->n_entries; i++) {
		struct conf_entry *e = &s->entries[i];
		int prefix;
		long idx = key_index(s->fb_keys, e->key, &prefix);

		if (idx < 0 || prefix)
			continue;
		if (conf_parse_value(&s->fb_keys[idx], e->value, &s->fb_values[idx], err, sizeof(err))) {
			conf_where(e->file, e->line, w, sizeof(w));
			return conf_fail(c, "%s: %s %s: for the fallback %s: %s", w, sname, e->key, fb->str, err);
		}
		s->fb_values[idx].set = 1;
	}
	for (size_t i = 0; i < nk; i++)
		if ((s->fb_keys[i].flags & XTCPD_KEY_REQUIRED) && !s->fb_values[i].set)
			return conf_fail(c, "%s: %s fallback: %s needs key '%s' (%s)", w, sname, fb->str,
					 s->fb_keys[i].name, s->fb_keys[i].help);
	s->fb_cfg = (struct xtcpd_config){ .instance = s->instance, .values = s->fb_values,
					   .n_values = nk };
	return 0;
}

void conf_relink(struct conf *c)
{
	for (size_t i = 0; i < c->n_sec; i++) {
		struct conf_section *s = c->sec[i];

		if (s->kind != CONF_SINK || !s->kind_values || s->kind_values[SK_MARSHALLER].set)
			continue;
		s->kind_values[SK_MARSHALLER].str = NULL;
		check_sink_marshaller(c, s);
	}
}

int conf_check_section(struct conf *c, struct conf_section *s)
{
	const struct xtcpd_key *kk = NULL;
	size_t nkk = 0;

	if (s->kind == CONF_SOURCE) {
		kk = conf_source_keys;
		nkk = SRK__COUNT;
	} else if (s->kind == CONF_MARSHALLER) {
		kk = conf_marshaller_keys;
		nkk = MK__COUNT;
	} else if (s->kind == CONF_SINK) {
		kk = conf_sink_keys;
		nkk = SK__COUNT;
	}
	s->kind_values = calloc(nkk + 1, sizeof(*s->kind_values));
	if (!s->kind_values)
		return conf_fail(c, "out of memory");
	return check_section(c, s, kk, s->kind_values);
}

/* Where a key of section s was set ("file:line"), or where the section starts. */
static void key_where(const struct conf_section *s, const char *key, char *w, size_t n)
{
	for (size_t i = 0; key && i < s->n_entries; i++)
		if (!strcmp(s->entries[i].key, key)) {
			conf_where(s->entries[i].file, s->entries[i].line, w, n);
			return;
		}
	conf_where(s->file, s->line, w, n);
}

/* The file a XTCPD_KEY_OUTPUT value names, as comparable text: the folder resolved
 * (links, "..", "//"), the name as written; "-" (standard output) as is. */
static void output_id(const char *path, char *out, size_t n)
{
	char dir[PATH_MAX], base[PATH_MAX], real[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	snprintf(base, sizeof(base), "%s", path);
	if (strcmp(path, "-") && realpath(dirname(dir), real))
		snprintf(out, n, "%s/%s", strcmp(real, "/") ? real : "", basename(base));
	else
		snprintf(out, n, "%s", path);
}

/* Two instances must not write one file: their writes would interleave (or one would
 * rotate the other's file away). */
static int check_outputs(struct conf *c)
{
	char a[PATH_MAX + 8], b[PATH_MAX + 8], w[600], w2[600], sa[300], sb[300];

	for (size_t i = 0; i < c->n_sec; i++) {
		const struct conf_section *s = c->sec[i];

		for (size_t k = 0; s->keys && s->keys[k].name; k++) {
			if (!(s->keys[k].flags & XTCPD_KEY_OUTPUT) || !s->values[k].str || !*s->values[k].str)
				continue;
			output_id(s->values[k].str, a, sizeof(a));
			for (size_t j = 0; j < i; j++) {
				const struct conf_section *t = c->sec[j];

				for (size_t l = 0; t->keys && t->keys[l].name; l++) {
					if (!(t->keys[l].flags & XTCPD_KEY_OUTPUT) || !t->values[l].str)
						continue;
					output_id(t->values[l].str, b, sizeof(b));
					if (strcmp(a, b))
						continue;
					key_where(s, s->keys[k].name, w, sizeof(w));
					key_where(t, t->keys[l].name, w2, sizeof(w2));
					section_name(s, sa, sizeof(sa));
					section_name(t, sb, sizeof(sb));
					return conf_fail(c, "%s: %s %s: '%s' is also written by %s %s (%s): one "
							 "file, one writer", w, sa, s->keys[k].name,
							 s->values[k].str, sb, t->keys[l].name, w2);
				}
			}
		}
	}
	return 0;
}

int conf_check_plugins(struct conf *c, conf_check_fn fn, void *arg)
{
	char msg[700], w[600], sname[300];

	for (size_t i = 0; i < c->n_sec; i++) {
		struct conf_section *s = c->sec[i];
		struct xtcpd_check res = { .struct_size = sizeof(res), .msg = msg, .msg_size = sizeof(msg) };
		int rc;

		if (s->kind == CONF_CORE)
			continue;
		msg[0] = '\0';
		rc = fn(arg, s, &res);
		if (!rc)
			continue;
		if (!msg[0])
			snprintf(msg, sizeof(msg), "the plugin's check failed: %s", strerror(rc < 0 ? -rc : rc));
		key_where(s, res.key, w, sizeof(w));
		section_name(s, sname, sizeof(sname));
		if (res.key)
			return conf_fail(c, "%s: %s %s: %s", w, sname, res.key, msg);
		return conf_fail(c, "%s: %s: %s", w, sname, msg);
	}
	return 0;
}

/* Where [core] key was set (file:line), or the first configuration file. */
static void core_where(const struct conf *c, const char *key, char *w, size_t n)
{
	const struct conf_section *core = conf_find((struct conf *)c, CONF_CORE, NULL);

	snprintf(w, n, "%s", c->n_files ? c->files[0] : "configuration");
	for (size_t i = 0; core && i < core->n_entries; i++)
		if (!strcmp(core->entries[i].key, key))
			conf_where(core->entries[i].file, core->entries[i].line, w, n);
}

/* An interface name as the kernel takes it (IFNAMSIZ, no '/', ':' or space). */
static int ifname_ok(const char *s, size_t n)
{
	if (!n || n >= 16 || (n == 1 && *s == '.') || (n == 2 && !strncmp(s, "..", 2)))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || isspace((unsigned char)s[i]) || !isprint((unsigned char)s[i]))
			return 0;
	return 1;
}

/* The enrichment keys: paths absolute, interface names valid, the parts built. */
static int check_enrich(struct conf *c)
{
	const char *sock = c->core[CK_DOCKER_SOCKET].str, *root = c->core[CK_ENRICH_ROOT].str;
	const char *lsock = c->core[CK_LLDPD_SOCKET].str;
	const char *ifs = c->core[CK_UPLINK_INTERFACES].str;
	char w[600];
	size_t n = 0;

#ifndef XTCPD_WITH_DOCKER
	if (c->core[CK_ENRICH_DOCKER].num) {
		core_where(c, "enrich_docker", w, sizeof(w));
		return conf_fail(c, "%s: [core] enrich_docker: this xtcpd was built without libcurl "
			    "and json-c (configure --enable-http=yes --enable-json=yes)", w);
	}
#endif
#ifndef XTCPD_WITH_LLDP
	if (c->core[CK_ENRICH_LLDP].num) {
		core_where(c, "enrich_lldp", w, sizeof(w));
		return conf_fail(c, "%s: [core] enrich_lldp: this xtcpd was built without liblldpctl "
			    "(configure --enable-lldp=yes)", w);
	}
#endif
	if (lsock && *lsock != '/') {
		core_where(c, "lldpd_socket", w, sizeof(w));
		return conf_fail(c, "%s: [core] lldpd_socket: '%s' is not an absolute path", w, lsock);
	}
	if (sock && *sock != '/') {
		core_where(c, "docker_socket", w, sizeof(w));
		return conf_fail(c, "%s: [core] docker_socket: '%s' is not an absolute path", w, sock);
	}
	if (root && *root && *root != '/') {
		core_where(c, "enrich_root", w, sizeof(w));
		return conf_fail(c, "%s: [core] enrich_root: '%s' is not an absolute path", w, root);
	}
	for (const char *p = ifs; p && *p; n++) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (n >= 2 || !ifname_ok(p, len)) {
			core_where(c, "uplink_interfaces", w, sizeof(w));
			if (n >= 2)
				return conf_fail(c, "%s: [core] uplink_interfaces: more than 2 interfaces "
						 "in '%s'", w, ifs);
			return conf_fail(c, "%s: [core] uplink_interfaces: '%.*s' is not an interface "
					 "name", w, (int)len, p);
		}
		p = e ? e + 1 : p + len;
	}
	return 0;
}

int conf_validate(struct conf *c, conf_keys_fn keys_of, void *arg)
{
	struct conf_section *core = conf_find(c, CONF_CORE, NULL);
	size_t counts[4] = { 0 };
	char w[600];
	int rc;

	if (core) {
		core->keys = NULL;
		rc = check_section(c, core, conf_core_keys, c->core);
		if (rc)
			return rc;
	} else if ((rc = apply_defaults(c, conf_core_keys, c->core))) {
		return rc;
	}
	for (size_t i = 0; i < c->n_sec; i++) {
		struct conf_section *s = c->sec[i];
		char err[700];

		counts[s->kind]++;
		if (s->kind == CONF_CORE)
			continue;
		err[0] = '\0';
		s->keys = keys_of(arg, s->kind, s->plugin, err, sizeof(err));
		if (!s->keys) {
			conf_where(s->file, s->line, w, sizeof(w));
			return conf_fail(c, "%s: [%s %s]: %s", w, conf_kind_name(s->kind), s->plugin, err);
		}
		if ((rc = conf_check_section(c, s)))
			return rc;
		if (s->kind == CONF_SOURCE && (rc = check_fallback(c, s, keys_of, arg)))
			return rc;
	}
	for (size_t i = 0; i < c->n_sec; i++)
		if (c->sec[i]->kind == CONF_SINK && (rc = check_sink_marshaller(c, c->sec[i])))
			return rc;
	if ((rc = check_outputs(c)))
		return rc;
	if (!counts[CONF_SOURCE])
		return conf_fail(c, "%s: no [source NAME] section: enable a source in conf.d/ "
			    "(for example [source netlink])", c->n_files ? c->files[0] : "configuration");
	if (!counts[CONF_SINK])
		return conf_fail(c, "%s: no [sink NAME] section: enable a sink in conf.d/ "
			    "(for example [sink file] with path = -)", c->n_files ? c->files[0] : "configuration");
	if (!c->core[CK_TIMEOUT].set) {
		c->core[CK_TIMEOUT].num = c->core[CK_FREQUENCY].num - c->core[CK_FREQUENCY].num / 10;
	} else if (c->core[CK_TIMEOUT].num >= c->core[CK_FREQUENCY].num) {
		for (size_t i = 0; i < core->n_entries; i++)
			if (!strcmp(core->entries[i].key, "timeout"))
				conf_where(core->entries[i].file, core->entries[i].line, w, sizeof(w));
		return conf_fail(c, "%s: [core] timeout: %s must be below frequency = %s (%lld ms)", w,
			    c->core[CK_TIMEOUT].str, c->core[CK_FREQUENCY].str,
			    (long long)c->core[CK_FREQUENCY].num);
	}
	if (c->core[CK_CPUS].str && *c->core[CK_CPUS].str) {
		cpu_set_t set;
		char err[300];
		if (tuning_parse_cpus(c->core[CK_CPUS].str, &set, err, sizeof(err))) {
			for (size_t i = 0; i < core->n_entries; i++)
				if (!strcmp(core->entries[i].key, "cpus"))
					conf_where(core->entries[i].file, core->entries[i].line, w, sizeof(w));
			return conf_fail(c, "%s: [core] %s", w, err);
		}
	}
	if ((rc = check_enrich(c)))
		return rc;
	if (c->core[CK_HOSTNAME].str && *c->core[CK_HOSTNAME].str) {
		snprintf(c->hostname, sizeof(c->hostname), "%s", c->core[CK_HOSTNAME].str);
	} else if (gethostname(c->hostname, sizeof(c->hostname) - 1)) {
		snprintf(c->hostname, sizeof(c->hostname), "localhost");
	}
	return 0;
}
