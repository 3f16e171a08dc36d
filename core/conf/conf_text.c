/* conf_text — the INI syntax of a configuration file, parsed in place from memory: a
 * UTF-8 byte-order mark is skipped, the text must be UTF-8 without NUL or control bytes
 * (a binary file gets its own message), lines have no length limit, and each line is a
 * comment, a [section] header or key = value. conf.c turns the lines into sections. */
#include "config.h"
#include "conf/conf_text.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Length of the UTF-8 sequence at p (at most n bytes), 0 if it is not one. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Text only: the first NUL, control byte or broken UTF-8 sequence is reported with its
 * line, so a binary file (or one in another encoding) is not mistaken for bad syntax. */
static int check_text(const char *file, const char *text, size_t len, char *err, size_t n)
{
	const unsigned char *p = (const unsigned char *)text;
	int line = 1;

	for (size_t i = 0; i < len;) {
		size_t l = utf8_len(p + i, len - i);

		if (p[i] == '\n')
			line++;
		if (p[i] == '\0') {
			snprintf(err, n, "%s:%d: NUL byte: this is not a text file (binary content?)", file, line);
			return -EINVAL;
		}
		if ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\t' && p[i] != '\r') || p[i] == 0x7f) {
			snprintf(err, n, "%s:%d: control character 0x%02x: this is not a text file "
				 "(binary content?)", file, line, p[i]);
			return -EINVAL;
		}
		if (!l) {
			snprintf(err, n, "%s:%d: byte 0x%02x is not UTF-8: this is not a UTF-8 text file",
				 file, line, p[i]);
			return -EINVAL;
		}
		i += l;
	}
	return 0;
}

static char *trim(char *s, char *end)
{
	while (s < end && is_space(*s))
		s++;
	while (end > s && is_space(end[-1]))
		end--;
	*end = '\0';
	return s;
}

/* "key = value ; comment": a ';' after a space starts a comment; a value wrapped in one
 * pair of matching quotes loses them ('' is the empty value). */
static int key_line(char *s, char *end, struct conf_line *l)
{
	char *eq = memchr(s, '=', (size_t)(end - s)), *v, *vend;

	if (!eq)
		return -EINVAL;
	for (vend = eq + 1; vend < end; vend++)
		if (*vend == ';' && is_space(vend[-1]))
			break;
	l->a = trim(s, eq);
	v = trim(eq + 1, vend);
	if (!*l->a)
		return -EINVAL;
	vend = v + strlen(v);
	if (vend - v >= 2 && (*v == '"' || *v == '\'') && vend[-1] == *v) {
		vend[-1] = '\0';
		v++;
	}
	l->b = v;
	l->kind = CONF_LINE_KEY;
	return 0;
}

/* "[ words ]" with nothing but a comment after it. */
static int section_line(const char *file, char *s, char *end, struct conf_line *l, char *err,
			size_t n)
{
	char *close = memchr(s, ']', (size_t)(end - s)), *rest;

	if (!close) {
		snprintf(err, n, "%s:%d: section header without ']'", file, l->line);
		return -EINVAL;
	}
	for (rest = close + 1; rest < end && is_space(*rest); rest++)
		;
	if (rest < end && *rest != ';' && *rest != '#') {
		snprintf(err, n, "%s:%d: text after the section header's ']'", file, l->line);
		return -EINVAL;
	}
	l->a = trim(s + 1, close);
	l->b = NULL;
	l->kind = CONF_LINE_SECTION;
	return 0;
}

int conf_text_parse(const char *file, char *text, size_t len, conf_line_fn fn, void *arg,
		    char *err, size_t n)
{
	char *p = text, *end = text + len;
	struct conf_line l = { 0 };
	int rc;

	if ((rc = check_text(file, text, len, err, n)))
		return rc;
	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *eol = nl ? nl : end, *s;

		l.line++;
		if (eol > p && eol[-1] == '\r')
			eol--;
		for (s = p; s < eol && is_space(*s); s++)
			;
		p = nl ? nl + 1 : end;
		if (s == eol || *s == ';' || *s == '#')
			continue;
		if (*s == '[')
			rc = section_line(file, s, eol, &l, err, n);
		else if ((rc = key_line(s, eol, &l)))
			snprintf(err, n, "%s:%d: syntax error: expected 'key = value', '[section]' or a "
				 "comment", file, l.line);
		if (rc || (rc = fn(arg, &l)))
			return rc;
	}
	return 0;
}
