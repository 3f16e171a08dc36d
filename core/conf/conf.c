/* conf — reads xtcpd.conf and conf.d/NAME.conf files (conf_text.c) into sections and
 * entries (the command line's --dest and -o add theirs through conf_cli.c), and frees
 * them. Every error is one message naming file:line, the section, the key and what is
 * allowed. */
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
#include "conf/conf_int.h"

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

const char *const conf_kind_names[] = { "core", "source", "marshaller", "sink" };

const char *conf_kind_name(enum conf_kind k)
{
	return conf_kind_names[k];
}

const char *conf_intern_file(struct conf *c, const char *name)
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

struct conf_section *conf_section_add(struct conf *c, enum conf_kind kind, const char *plugin,
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
				  w, conf_kind_names[kind], i ? "instance" : "plugin", name, CONF_NAME_MAX);
			return NULL;
		}
	}

	s = conf_find(c, kind, instance);
	if (s) {
		if (kind != CONF_CORE && strcmp(s->plugin, plugin)) {
			char w[512];
			conf_where(s->file, s->line, w, sizeof(w));
			conf_fail(c, "%s:%d: [%s %s %s]: instance name '%s' is already used by [%s %s %s] at %s",
			     file, line, conf_kind_names[kind], plugin, instance, instance, conf_kind_names[kind],
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

int conf_entry_add(struct conf *c, struct conf_section *s, const char *key, const char *value,
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
		if (n >= 1 && !strcmp(words[0], conf_kind_names[kind]))
			break;
	if (n < 1 || n > 3 || kind > CONF_SINK || (kind == CONF_CORE && n != 1) ||
	    (kind != CONF_CORE && n < 2)) {
		conf_fail(c, "%s:%d: unknown section [%s]: expected [core], [source NAME], "
		     "[marshaller NAME [INSTANCE]] or [sink NAME [INSTANCE]]", file, line, text);
		return NULL;
	}
	return conf_section_add(c, kind, kind == CONF_CORE ? NULL : words[1],
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
	return conf_entry_add(ps->c, ps->cur, l->a, l->b, ps->file, l->line);
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

	ps.file = conf_intern_file(c, path);
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
	ps.file = conf_intern_file(c, name);
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
	const char *file = conf_intern_file(c, origin);
	const char *key = conf_core_keys[k].name;
	struct conf_section *s = conf_find(c, CONF_CORE, NULL);

	if (!file)
		return conf_fail(c, "out of memory");
	if (!s && !(s = conf_section_add(c, CONF_CORE, NULL, NULL, file, 0)))
		return -EINVAL;
	if (conf_entry_add(c, s, key, text, file, 0))
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

void conf_section_free(struct conf_section *s)
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
	s->file = conf_intern_file(to, s->file);
	if (!s->file)
		s->file = "?";
	for (size_t e = 0; e < s->n_entries; e++) {
		s->entries[e].file = conf_intern_file(to, s->entries[e].file);
		if (!s->entries[e].file)
			s->entries[e].file = "?";
	}
}

void conf_free(struct conf *c)
{
	for (size_t i = 0; i < c->n_sec; i++)
		conf_section_free(c->sec[i]);
	free(c->sec);
	for (size_t i = 0; i < c->n_files; i++)
		free(c->files[i]);
	free(c->files);
	memset(c, 0, sizeof(*c));
}
