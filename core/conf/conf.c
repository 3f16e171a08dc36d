/* conf — reads xtcpd.conf and conf.d/NAME.conf files (conf_text.c) into sections, applies --dest
 * and -o, and validates every entry against the declared key tables. Every error is
 * one message naming file:line, the section, the key and what is allowed. */
#include "config.h"
#include "conf/conf.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/trust.h"
#include "conf/conf_text.h"

#define CMDLINE "command line"

/* Configuration files are small; anything bigger is a mistake (say, a log file). */
#define CONF_FILE_MAX (1 << 20)

struct parse_state {
	struct conf *c;
	const char *file;
	struct conf_section *cur;
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
	char **nf;

	for (size_t i = 0; i < c->n_files; i++)
		if (!strcmp(c->files[i], name))
			return c->files[i];
	nf = realloc(c->files, (c->n_files + 1) * sizeof(char *));

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

#define CONF_NAME_MAX 64

/* Plugin and instance names become file names, log prefixes and metric labels: letters,
 * digits, '_', '-' and '.', starting with a letter or a digit. */
static int name_ok(const char *name)
{
	size_t n = strlen(name);

	return n && n <= CONF_NAME_MAX && isalnum((unsigned char)name[0]) &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == n;
}

static struct conf_section *section_add(struct conf *c, enum conf_kind kind, const char *plugin,
					const char *instance, const char *file, int line)
{
	struct conf_section *s, **ns;

	for (int i = 0; kind != CONF_CORE && i < 2; i++) {
		const char *name = i ? instance : plugin;

		if (name && !name_ok(name)) {
			char w[512];

			conf_where(file, line, w, sizeof(w));
			conf_fail(c, "%s: [%s ...]: %s name '%s' is not allowed (allowed: letters, digits, "
				  "'_', '-' and '.', starting with a letter or digit, up to %d characters)",
				  w, kind_names[kind], i ? "instance" : "plugin", name, CONF_NAME_MAX);
			return NULL;
		}
	}

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

static int line_cb(void *arg, const struct conf_line *l)
{
	struct parse_state *ps = arg;

	if (l->kind == CONF_LINE_SECTION) {
		ps->cur = section_parse(ps->c, l->a, ps->file, l->line);
		return ps->cur ? 0 : -EINVAL;
	}
	if (!ps->cur)
		return conf_fail(ps->c, "%s:%d: '%s' is outside any section (start with [core], [source NAME], ...)",
				 ps->file, l->line, l->a);
	return entry_add(ps->c, ps->cur, l->a, l->b, ps->file, l->line);
}

static const char *file_type(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device" :
	       S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

/* Reads fd to its end into a malloc'ed buffer with one spare byte: at most CONF_FILE_MAX
 * bytes (files in /proc say size 0, so the size is only a first guess). */
static int read_all(struct conf *c, const char *path, int fd, size_t guess, char **text,
		    size_t *len)
{
	size_t cap = guess > 0 && guess <= CONF_FILE_MAX ? guess + 1 : 4096, n = 0;
	char *buf = malloc(cap + 1), *nb;
	ssize_t r;

	if (!buf)
		return conf_fail(c, "out of memory");
	for (;;) {
		if (n == cap) {
			if (cap > CONF_FILE_MAX) {
				free(buf);
				return conf_fail(c, "%s: larger than %d bytes: not a configuration file",
						 path, CONF_FILE_MAX);
			}
			if (!(nb = realloc(buf, 2 * cap + 1))) {
				free(buf);
				return conf_fail(c, "out of memory");
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r == 0)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;

			free(buf);
			return conf_fail(c, "%s: cannot read: %s", path, strerror(err));
		}
		n += (size_t)r;
	}
	if (n > CONF_FILE_MAX) {
		free(buf);
		return conf_fail(c, "%s: larger than %d bytes: not a configuration file", path, CONF_FILE_MAX);
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

/* Only a regular file is read (trust_open already refused anything else; this holds for
 * any fd): a FIFO would block, a device would never end, a directory is a mistake. Takes
 * fd. */
static int read_fd(struct conf *c, const char *path, int fd, char **text, size_t *len)
{
	struct stat st;
	int rc;

	if (fstat(fd, &st) < 0)
		rc = conf_fail(c, "%s: cannot stat: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = conf_fail(c, "%s: is %s, not a regular file", path, file_type(st.st_mode));
	else
		rc = read_all(c, path, fd, (size_t)st.st_size, text, len);
	close(fd);
	return rc;
}

/* Configuration is code (it names plugins and what they load): a file or folder anyone
 * but root (or the unprivileged daemon's own user) could have written is refused. The
 * fd returned is the file checked. */
static int conf_open(struct conf *c, const char *path, unsigned flags)
{
	char why[700];
	int fd = trust_open(path, (flags & TRUST_DIR) ? "folder" : "file", flags, why, sizeof(why));

	if (fd == -ENOENT || fd == -ENOTDIR)
		return conf_fail(c, "%s: cannot open: %s", path, strerror(-fd)), fd;
	if (fd < 0)
		return conf_fail(c, "%s: refused: %s", path, why), fd;
	return fd;
}

static int parse_file(struct conf *c, const char *path)
{
	struct parse_state ps = { .c = c };
	char *text = NULL;
	size_t len = 0;
	int rc;

	ps.file = intern_file(c, path);
	if (!ps.file)
		return conf_fail(c, "out of memory");
	if ((rc = conf_open(c, path, 0)) < 0)
		return -EINVAL;
	if ((rc = read_fd(c, path, rc, &text, &len)))
		return rc;
	rc = conf_text_parse(ps.file, text, len, line_cb, &ps, c->err, sizeof(c->err));
	free(text);
	return rc;
}

int conf_load_text(struct conf *c, const char *name, const char *text, size_t len)
{
	struct parse_state ps = { .c = c };
	char *copy;
	int rc;

	if (len > CONF_FILE_MAX)
		return conf_fail(c, "%s: larger than %d bytes: not a configuration", name, CONF_FILE_MAX);
	ps.file = intern_file(c, name);
	copy = malloc(len + 1);
	if (!ps.file || !copy) {
		free(copy);
		return conf_fail(c, "out of memory");
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	rc = conf_text_parse(ps.file, copy, len, line_cb, &ps, c->err, sizeof(c->err));
	free(copy);
	return rc;
}

int conf_set_core(struct conf *c, enum core_key k, int64_t num, const char *text,
		  const char *origin)
{
	const char *file = intern_file(c, origin);
	const char *key = conf_core_keys[k].name;
	struct conf_section *s = conf_find(c, CONF_CORE, NULL);

	if (!file)
		return conf_fail(c, "out of memory");
	if (!s && !(s = section_add(c, CONF_CORE, NULL, NULL, file, 0)))
		return -EINVAL;
	if (entry_add(c, s, key, text, file, 0))
		return -ENOMEM;
	for (size_t i = 0; i < s->n_entries; i++)
		if (!strcmp(s->entries[i].key, key))
			c->core[k].str = s->entries[i].value;  /* the old text was freed */
	c->core[k].num = num;
	c->core[k].set = 1;
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
	if ((rc = conf_open(c, confdir, TRUST_DIR)) < 0) {
		if (rc != -ENOENT || !main_path)
			return -EINVAL;
		c->err[0] = '\0';  /* no conf.d is fine when a main file was given */
		return 0;
	}
	close(rc);
	rc = 0;
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
	free(s->fb_values);
	free(s->extra);
	free(s->plugin);
	free(s->instance);
	free(s);
}

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
	const char *file = intern_file(c, CMDLINE);
	size_t j = 0;

	if (!file)
		return conf_fail(c, "out of memory");
	for (size_t i = 0; i < c->n_sec; i++) { /* drop the configured sources */
		if (c->sec[i]->kind == CONF_SOURCE)
			section_free(c->sec[i]);
		else
			c->sec[j++] = c->sec[i];
	}
	c->n_sec = j;
	return section_add(c, CONF_SOURCE, plugin, plugin, file, 0) ? 0 : -EINVAL;
}

int conf_set_dest(struct conf *c, const char *dest, const char *marshal)
{
	const char *file = intern_file(c, CMDLINE);
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
		return conf_fail(c, "%s: --marshal '%s' is not allowed (allowed: %s)", CMDLINE, marshal, buf);
	}
	if (d && d->refused)
		return conf_fail(c, "%s: --dest '%s': %s", CMDLINE, dest, d->refused);
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
	if (!m || (mn->key && entry_add(c, m, mn->key, mn->value, file, 0)))
		return -EINVAL;
	s = section_add(c, CONF_SINK, d->plugin, d->plugin, file, 0);
	if (!s || entry_add(c, s, "marshaller", mplugin, file, 0))
		return -EINVAL;
	if (mn->http_ctype && !strcmp(d->plugin, "http") &&
	    entry_add(c, s, "content_type", mn->http_ctype, file, 0))
		return -EINVAL;
	if (d->key)
		return entry_add(c, s, d->key, d->fixed ? d->fixed : d->whole ? dest : arg + 1, file, 0);
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
	return entry_add(c, s, key, value, file, 0);
}

int conf_override(struct conf *c, const char *a)
{
	const char *file = intern_file(c, CMDLINE);
	const char *eq = strchr(a, '='), *dot1 = strchr(a, '.'), *dot2;
	char kind_s[32], inst[128], key[256];
	enum conf_kind kind;
	struct conf_section *s;
	int soft, n = 0;

	if (!file)
		return conf_fail(c, "out of memory");
	if (!eq || !dot1 || dot1 > eq)
		return conf_fail(c, "%s: -o '%s': expected core.KEY=VALUE or KIND.INSTANCE.KEY=VALUE", CMDLINE, a);
	soft = eq[-1] == '?';
	snprintf(kind_s, sizeof(kind_s), "%.*s", (int)(dot1 - a), a);
	for (kind = CONF_CORE; kind <= CONF_SINK && strcmp(kind_s, kind_names[kind]); kind++)
		;
	if (kind > CONF_SINK)
		return conf_fail(c, "%s: -o '%s': '%s' is not a section kind (allowed: core|source|marshaller|sink)",
			    CMDLINE, a, kind_s);
	if (kind == CONF_CORE) {
		snprintf(key, sizeof(key), "%.*s", (int)(eq - soft - dot1 - 1), dot1 + 1);
		if (!*key)
			return conf_fail(c, "%s: -o '%s': empty key", CMDLINE, a);
		s = conf_find(c, CONF_CORE, NULL);
		if (!s)
			s = section_add(c, CONF_CORE, NULL, NULL, file, 0);
		return s ? override_one(c, s, key, eq + 1, soft, file) : -EINVAL;
	}
	dot2 = strchr(dot1 + 1, '.');
	if (!dot2 || dot2 > eq)
		return conf_fail(c, "%s: -o '%s': expected %s.INSTANCE.KEY=VALUE", CMDLINE, a, kind_s);
	snprintf(inst, sizeof(inst), "%.*s", (int)(dot2 - dot1 - 1), dot1 + 1);
	snprintf(key, sizeof(key), "%.*s", (int)(eq - soft - dot2 - 1), dot2 + 1);
	if (!*key)
		return conf_fail(c, "%s: -o '%s': empty key", CMDLINE, a);
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
				 CMDLINE, a, kind_s, inst, key);
	return 0;
}

void conf_take_section(struct conf *to, struct conf *from, struct conf_section *s)
{
	size_t i, j;

	for (j = 0; j < from->n_sec && from->sec[j] != s; j++)
		;
	for (i = 0; i < to->n_sec; i++)
		if (to->sec[i]->kind == s->kind && !strcmp(to->sec[i]->instance, s->instance))
			break;
	if (i == to->n_sec || j == from->n_sec)
		return;
	from->sec[j] = to->sec[i];
	to->sec[i] = s;
	/* its file names must outlive `from` */
	s->file = intern_file(to, s->file);
	if (!s->file)
		s->file = "?";
	for (size_t e = 0; e < s->n_entries; e++) {
		s->entries[e].file = intern_file(to, s->entries[e].file);
		if (!s->entries[e].file)
			s->entries[e].file = "?";
	}
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
