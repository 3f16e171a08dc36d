/* conf — reads xtcpd.conf and conf.d/NAME.conf files with libinih into sections, applies --dest
 * and -o, and validates every entry against the declared key tables. Every error is
 * one message naming file:line, the section, the key and what is allowed. */
#include "config.h"
#include "conf/conf.h"

#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMDLINE "command line"

struct parse_state {
	struct conf *c;
	FILE *f;
	const char *file;
	int line;
	int too_long;
	struct conf_section *cur;
	int failed;
};

int conf_fail(struct conf *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *kind_names[] = { "core", "source", "marshaller", "sink" };

const char *conf_kind_name(enum conf_kind k)
{
	return kind_names[k];
}

static const char *intern_file(struct conf *c, const char *name)
{
	char **nf = realloc(c->files, (c->n_files + 1) * sizeof(char *));

	if (!nf)
		return NULL;
	c->files = nf;
	c->files[c->n_files] = strdup(name);
	return c->files[c->n_files] ? c->files[c->n_files++] : NULL;
}

void conf_where(const char *file, int line, char *buf, size_t n)
{
	if (line > 0)
		snprintf(buf, n, "%s:%d", file, line);
	else
		snprintf(buf, n, "%s", file);
}

struct conf_section *conf_find(struct conf *c, enum conf_kind kind, const char *instance)
{
	for (size_t i = 0; i < c->n_sec; i++) {
		struct conf_section *s = c->sec[i];
		if (s->kind == kind && (kind == CONF_CORE || !strcmp(s->instance, instance)))
			return s;
	}
	return NULL;
}

static struct conf_section *section_add(struct conf *c, enum conf_kind kind, const char *plugin,
					const char *instance, const char *file, int line)
{
	struct conf_section *s, **ns;

	s = conf_find(c, kind, instance);
	if (s) {
		if (kind != CONF_CORE && strcmp(s->plugin, plugin)) {
			char w[512];
			conf_where(s->file, s->line, w, sizeof(w));
			conf_fail(c, "%s:%d: [%s %s %s]: instance name '%s' is already used by [%s %s %s] at %s",
			     file, line, kind_names[kind], plugin, instance, instance, kind_names[kind],
			     s->plugin, s->instance, w);
			return NULL;
		}
		return s; /* same section again (e.g. a later conf.d file): merge */
	}
	s = calloc(1, sizeof(*s));
	ns = realloc(c->sec, (c->n_sec + 1) * sizeof(*ns));
	if (!s || !ns) {
		free(s);
		if (ns)
			c->sec = ns;
		conf_fail(c, "out of memory");
		return NULL;
	}
	c->sec = ns;
	s->kind = kind;
	s->plugin = plugin ? strdup(plugin) : NULL;
	s->instance = strdup(instance ? instance : "core");
	s->file = file;
	s->line = line;
	c->sec[c->n_sec++] = s;
	return s;
}

static int entry_add(struct conf *c, struct conf_section *s, const char *key, const char *value,
		     const char *file, int line)
{
	struct conf_entry *ne;

	for (size_t i = 0; i < s->n_entries; i++) /* later settings win */
		if (!strcmp(s->entries[i].key, key)) {
			char *v = strdup(value);
			if (!v)
				return conf_fail(c, "out of memory");
			free(s->entries[i].value);
			s->entries[i].value = v;
			s->entries[i].file = file;
			s->entries[i].line = line;
			return 0;
		}
	ne = realloc(s->entries, (s->n_entries + 1) * sizeof(*ne));
	if (!ne)
		return conf_fail(c, "out of memory");
	s->entries = ne;
	ne = &s->entries[s->n_entries];
	ne->key = strdup(key);
	ne->value = strdup(value);
	ne->file = file;
	ne->line = line;
	if (!ne->key || !ne->value)
		return conf_fail(c, "out of memory");
	s->n_entries++;
	return 0;
}

/* "[kind plugin [instance]]" -> section. */
static struct conf_section *section_parse(struct conf *c, const char *text, const char *file,
					  int line)
{
	char words[3][128] = { "", "", "" };
	char extra[2];
	int n = sscanf(text, "%127s %127s %127s %1s", words[0], words[1], words[2], extra);
	enum conf_kind kind;

	for (kind = CONF_CORE; kind <= CONF_SINK; kind++)
		if (n >= 1 && !strcmp(words[0], kind_names[kind]))
			break;
	if (n < 1 || n > 3 || kind > CONF_SINK || (kind == CONF_CORE && n != 1) ||
	    (kind != CONF_CORE && n < 2)) {
		conf_fail(c, "%s:%d: unknown section [%s]: expected [core], [source NAME], "
		     "[marshaller NAME [INSTANCE]] or [sink NAME [INSTANCE]]", file, line, text);
		return NULL;
	}
	return section_add(c, kind, kind == CONF_CORE ? NULL : words[1],
			   kind == CONF_CORE ? NULL : (n == 3 ? words[2] : words[1]), file, line);
}

/* inih reads through here, so we know the line number and see section headers even
 * when the section has no keys (inih does not report those). */
static char *reader(char *str, int num, void *stream)
{
	struct parse_state *ps = stream;
	char *p, *end;

	if (!fgets(str, num, ps->f))
		return NULL;
	ps->line++;
	if (!strchr(str, '\n') && !feof(ps->f) && !ps->too_long)
		ps->too_long = ps->line;
	for (p = str; *p == ' ' || *p == '\t'; p++)
		;
	if (*p == '[' && !ps->failed) {
		end = strchr(p, ']');
		if (!end) {
			conf_fail(ps->c, "%s:%d: section header without ']'", ps->file, ps->line);
			ps->failed = 1;
			return str;
		}
		*end = '\0';
		ps->cur = section_parse(ps->c, p + 1, ps->file, ps->line);
		*end = ']';
		if (!ps->cur)
			ps->failed = 1;
	}
	return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *ps = user;

	if (ps->failed || !name)
		return 1;
	if (!ps->cur) {
		conf_fail(ps->c, "%s:%d: '%s' is outside any section (start with [core], [source NAME], ...)",
		     ps->file, ps->line, name);
		ps->failed = 1;
		return 1;
	}
	if (entry_add(ps->c, ps->cur, name, value, ps->file, ps->line))
		ps->failed = 1;
	return 1;
}

static int parse_file(struct conf *c, const char *path)
{
	struct parse_state ps = { .c = c };
	int rc;

	ps.file = intern_file(c, path);
	if (!ps.file)
		return conf_fail(c, "out of memory");
	ps.f = fopen(path, "r");
	if (!ps.f)
		return conf_fail(c, "%s: cannot open: %s", path, strerror(errno));
	rc = ini_parse_stream(reader, &ps, handler, &ps);
	fclose(ps.f);
	if (ps.failed)
		return -EINVAL;
	if (ps.too_long)
		return conf_fail(c, "%s:%d: line longer than %d characters", path, ps.too_long, INI_MAX_LINE - 2);
	if (rc > 0)
		return conf_fail(c, "%s:%d: syntax error: expected 'key = value', '[section]' or a comment",
			    path, rc);
	if (rc < 0)
		return conf_fail(c, "%s: cannot read", path);
	return 0;
}

static int conf_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && !strcmp(d->d_name + n - 5, ".conf");
}

int conf_load(struct conf *c, const char *main_path, const char *confdir)
{
	struct dirent **names = NULL;
	int n, rc = 0;

	if (main_path && (rc = parse_file(c, main_path)))
		return rc;
	if (!confdir)
		return 0;
	n = scandir(confdir, &names, conf_filter, alphasort);
	if (n < 0) {
		if (errno == ENOENT && main_path)
			return 0; /* no conf.d is fine when a main file was given */
		return conf_fail(c, "%s: cannot read the folder: %s", confdir, strerror(errno));
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", confdir, names[i]->d_name);
		if (!rc)
			rc = parse_file(c, path);
		free(names[i]);
	}
	free(names);
	return rc;
}

static void section_free(struct conf_section *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_entries; i++) {
		free(s->entries[i].key);
		free(s->entries[i].value);
	}
	free(s->entries);
	free(s->values);
	free(s->kind_values);
	free(s->extra);
	free(s->plugin);
	free(s->instance);
	free(s);
}

/* --dest schemes: "SCHEME[:ARG]" -> [sink PLUGIN] with KEY = ARG (or = fixed). Adding a
 * destination is one row here. */
static const struct dest_scheme {
	const char *scheme, *plugin;
	const char *key;            /* the key ARG goes to; NULL = takes no ARG */
	const char *fixed;          /* value of `key` when the scheme takes no ARG */
	const char *usage;          /* shown in the "not allowed" message */
} dest_schemes[] = {
	{ "kafka", "kafka", "brokers", NULL, "kafka:HOST:PORT" },
	{ "udp", "udp", "address", NULL, "udp:HOST:PORT" },
	{ "file", "file", "path", NULL, "file:PATH" },
	{ "stdout", "file", "path", "-", "stdout" },
	{ "null", "null", NULL, NULL, "null" },
};

/* --marshal names: xtcp2's spellings -> marshaller plugin. */
static const struct { const char *name, *plugin; } marshal_names[] = {
	{ "protobufList", "protobufList" },
	{ "protoJson", "protoJson" },
	{ "json", "json" },
};

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

static void dest_usage(char *buf, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < N_ELEM(dest_schemes) && used < n; i++)
		used += (size_t)snprintf(buf + used, n - used, "%s%s",
					 i == 0 ? "" : i + 1 == N_ELEM(dest_schemes) ? " or " : ", ",
					 dest_schemes[i].usage);
}

int conf_set_dest(struct conf *c, const char *dest, const char *marshal)
{
	const char *file = intern_file(c, CMDLINE);
	const char *arg = strchr(dest, ':'), *mplugin = NULL;
	const struct dest_scheme *d = NULL;
	size_t slen = arg ? (size_t)(arg - dest) : strlen(dest), j = 0;
	struct conf_section *s, *m;
	char buf[512];

	if (!file)
		return conf_fail(c, "out of memory");
	for (size_t i = 0; i < N_ELEM(marshal_names); i++)
		if (!strcmp(marshal, marshal_names[i].name))
			mplugin = marshal_names[i].plugin;
	if (!mplugin) {
		size_t used = 0;
		for (size_t i = 0; i < N_ELEM(marshal_names) && used < sizeof(buf); i++)
			used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s", i ? "|" : "",
						 marshal_names[i].name);
		return conf_fail(c, "%s: --marshal '%s' is not allowed (allowed: %s)", CMDLINE, marshal, buf);
	}
	for (size_t i = 0; i < N_ELEM(dest_schemes); i++)
		if (strlen(dest_schemes[i].scheme) == slen && !strncmp(dest, dest_schemes[i].scheme, slen))
			d = &dest_schemes[i];
	if (!d || (arg && (!d->key || d->fixed))) {
		dest_usage(buf, sizeof(buf));
		return conf_fail(c, "%s: --dest '%s' is not allowed (use %s)", CMDLINE, dest, buf);
	}
	if (d->key && !d->fixed && (!arg || !arg[1]))
		return conf_fail(c, "%s: --dest '%s' needs an address or path after '%s:'", CMDLINE, dest,
				 d->scheme);
	for (size_t i = 0; i < c->n_sec; i++) { /* drop configured marshallers and sinks */
		if (c->sec[i]->kind == CONF_MARSHALLER || c->sec[i]->kind == CONF_SINK)
			section_free(c->sec[i]);
		else
			c->sec[j++] = c->sec[i];
	}
	c->n_sec = j;
	m = section_add(c, CONF_MARSHALLER, mplugin, mplugin, file, 0);
	if (!m)
		return -EINVAL;
	s = section_add(c, CONF_SINK, d->plugin, d->plugin, file, 0);
	if (!s || entry_add(c, s, "marshaller", mplugin, file, 0))
		return -EINVAL;
	if (d->key)
		return entry_add(c, s, d->key, d->fixed ? d->fixed : arg + 1, file, 0);
	return 0;
}

int conf_section_from_kv(struct conf *c, enum conf_kind kind, const char *plugin,
			 const char *instance, const struct xtcpd_key *keys, const char *const *kv,
			 struct conf_section **out)
{
	const char *file = intern_file(c, CMDLINE);
	struct conf_section *s;

	if (!file)
		return conf_fail(c, "out of memory");
	s = section_add(c, kind, plugin, instance ? instance : plugin, file, 0);
	if (!s)
		return -EINVAL;
	for (size_t i = 0; kv && kv[i]; i++) {
		const char *eq = strchr(kv[i], '=');
		char key[256];

		if (!eq || eq == kv[i] || (size_t)(eq - kv[i]) >= sizeof(key))
			return conf_fail(c, "%s: '%s': expected KEY=VALUE", CMDLINE, kv[i]);
		snprintf(key, sizeof(key), "%.*s", (int)(eq - kv[i]), kv[i]);
		if (entry_add(c, s, key, eq + 1, file, 0))
			return -EINVAL;
	}
	s->keys = keys;
	*out = s;
	return conf_check_section(c, s);
}

int conf_override(struct conf *c, const char *a)
{
	const char *file = intern_file(c, CMDLINE);
	const char *eq = strchr(a, '='), *dot1 = strchr(a, '.'), *dot2;
	char kind_s[32], inst[128], key[256];
	enum conf_kind kind;
	struct conf_section *s;

	if (!file)
		return conf_fail(c, "out of memory");
	if (!eq || !dot1 || dot1 > eq)
		return conf_fail(c, "%s: -o '%s': expected core.KEY=VALUE or KIND.INSTANCE.KEY=VALUE", CMDLINE, a);
	snprintf(kind_s, sizeof(kind_s), "%.*s", (int)(dot1 - a), a);
	for (kind = CONF_CORE; kind <= CONF_SINK && strcmp(kind_s, kind_names[kind]); kind++)
		;
	if (kind > CONF_SINK)
		return conf_fail(c, "%s: -o '%s': '%s' is not a section kind (allowed: core|source|marshaller|sink)",
			    CMDLINE, a, kind_s);
	if (kind == CONF_CORE) {
		snprintf(key, sizeof(key), "%.*s", (int)(eq - dot1 - 1), dot1 + 1);
		s = conf_find(c, CONF_CORE, NULL);
		if (!s)
			s = section_add(c, CONF_CORE, NULL, NULL, file, 0);
	} else {
		dot2 = strchr(dot1 + 1, '.');
		if (!dot2 || dot2 > eq)
			return conf_fail(c, "%s: -o '%s': expected %s.INSTANCE.KEY=VALUE", CMDLINE, a, kind_s);
		snprintf(inst, sizeof(inst), "%.*s", (int)(dot2 - dot1 - 1), dot1 + 1);
		snprintf(key, sizeof(key), "%.*s", (int)(eq - dot2 - 1), dot2 + 1);
		s = conf_find(c, kind, inst);
		if (!s)
			return conf_fail(c, "%s: -o '%s': there is no [%s ... %s] section to set '%s' in",
				    CMDLINE, a, kind_s, inst, key);
	}
	if (!s)
		return -EINVAL;
	if (!*key)
		return conf_fail(c, "%s: -o '%s': empty key", CMDLINE, a);
	return entry_add(c, s, key, eq + 1, file, 0);
}

void conf_free(struct conf *c)
{
	for (size_t i = 0; i < c->n_sec; i++)
		section_free(c->sec[i]);
	free(c->sec);
	for (size_t i = 0; i < c->n_files; i++)
		free(c->files[i]);
	free(c->files);
	memset(c, 0, sizeof(*c));
}
