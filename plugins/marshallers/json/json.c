/* plugins/marshallers/json — marshaller "json": one JSON object per socket per line,
 * for people and scripts, built with json-c. Keys are the schema's field names (times
 * carry their unit: tcp_info_rtt_us), addresses are text, state/timer/congestion are
 * names. Fields of attribute groups the kernel did not send are left out.
 *
 * json-c allocates per object, so each reader thread keeps one tree, built on its first
 * record, whose value objects are updated in place and re-linked into the root with
 * constant keys: after warm-up a record costs no allocation. Strings are rendered by a
 * serializer of our own (json_object_set_string reallocates whenever a string grows). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <json-c/json.h>
#include <xtcpd/plugin.h>

#include <xtcpd/record_fields.h>
#include "plugins/marshallers/common/mstr.h"
#include "plugins/marshallers/json/json_names.h"

/* ---- the field table, from <xtcpd/record_fields.h> ----------------------------------  */

enum jz_type { JZ_U32, JZ_U64, JZ_I64, JZ_ENUM, JZ_BOOL, JZ_STR, JZ_NAME, JZ_ADDR };
enum jz_mode { JZ_N, JZ_Z, JZ_S, JZ_BOOLM, JZ_FAMILY, JZ_STATE, JZ_TIMER, JZ_CASTATE,
	       JZ_CONG, JZ_ADDRM };

#define JZ_M_N JZ_N
#define JZ_M_Z JZ_Z
#define JZ_M_S JZ_S
#define JZ_M_BOOL JZ_BOOLM
#define JZ_M_FAMILY JZ_FAMILY
#define JZ_M_STATE JZ_STATE
#define JZ_M_TIMER JZ_TIMER
#define JZ_M_CASTATE JZ_CASTATE
#define JZ_M_CONG JZ_CONG
#define JZ_M_ADDR JZ_ADDRM

struct jz_field {
	const char *key;
	uint8_t type, mode;
};

#define JZ_DESC(num, name, camel, type, jmode, jkey, cond, val) \
	{ #jkey, JZ_##type, JZ_M_##jmode },
static const struct jz_field jz_fields[] = { XTCPD_RECORD_FIELDS(JZ_DESC) };
#define JZ_NFIELDS (sizeof(jz_fields) / sizeof(jz_fields[0]))

/* One extracted value. */
struct jz_val {
	int present;
	uint64_t u;            /* numbers, bools, enums (int64 as two's complement) */
	const char *s;         /* strings, names, addresses (16 raw bytes) */
	size_t n;
};

#define JZ_GET_U32(cond, val) if (cond) v->present = 1, v->u = (uint32_t)(val);
#define JZ_GET_U64(cond, val) if (cond) v->present = 1, v->u = (uint64_t)(val);
#define JZ_GET_I64(cond, val) if (cond) v->present = 1, v->u = (uint64_t)(int64_t)(val);
#define JZ_GET_ENUM JZ_GET_U32
#define JZ_GET_BOOL(cond, val) if (cond) v->present = 1, v->u = (val) ? 1 : 0;
#define JZ_GET_STR(cond, val)                                                            \
	if ((cond) && (val))                                                             \
		v->present = 1, v->s = (val), v->n = mstr_len(v->s, MSTR_MAX, truncated);
#define JZ_GET_NAME(cond, val)                                                           \
	if (cond)                                                                        \
		v->present = 1, v->s = (val), v->n = mstr_len(v->s, sizeof(val) - 1, truncated);
#define JZ_GET_ADDR(cond, val) if (cond) v->present = 1, v->s = (const char *)(val);
#define JZ_GET(num, name, camel, type, jmode, jkey, cond, val) \
	JZ_GET_##type(cond, val) v++;

static void jz_extract(const struct xtcpd_record *r, struct jz_val *v, int *truncated)
{
	memset(v, 0, JZ_NFIELDS * sizeof(*v));
	XTCPD_RECORD_FIELDS(JZ_GET)
}

/* ---- per-thread tree ----------------------------------------------------------------- */

/* What a string child prints: set per record, read by jz_str_serialize. */
struct jz_slot {
	const char *s;
	size_t n;
	unsigned *bad;         /* invalid UTF-8 bytes replaced */
	uint8_t *scratch;      /* 6 * MSTR_MAX + 2 bytes, per thread */
};

struct jz_tree {
	struct jz_tree *next;  /* the instance's list, to free them all at destroy */
	json_object *root;
	json_object *child[JZ_NFIELDS];
	struct jz_slot slot[JZ_NFIELDS];
	struct jz_val val[JZ_NFIELDS];
	json_object *next_link[JZ_NFIELDS]; /* what this record links (NULL = left out) */
	json_object *linked[JZ_NFIELDS];    /* what the root holds now */
	char text[2][INET6_ADDRSTRLEN]; /* source, destination address text */
	unsigned bad;
	uint8_t scratch[6 * MSTR_MAX + 2];
};

struct jz {
	const struct xtcpd_host *host;
	struct xtcpd_ctx *ctx;
	pthread_key_t key;
	int key_ok;
	pthread_mutex_t lock;  /* the list only: taken once per thread, at warm-up */
	struct jz_tree *trees;
	struct mstr_counters cnt;       /* truncated / invalid UTF-8 strings */
};

static int jz_str_serialize(json_object *jso, struct printbuf *pb, int level, int flags)
{
	struct jz_slot *sl = json_object_get_userdata(jso);
	uint8_t *e;

	(void)level, (void)flags;
	sl->scratch[0] = '"';
	e = mstr_json(sl->scratch + 1, sl->s, sl->n, sl->bad);
	*e++ = '"';
	return printbuf_memappend(pb, (const char *)sl->scratch, (int)(e - sl->scratch));
}

/* json-c prints integers with snprintf, which is most of its cost here: print the
 * object's value with a plain digit loop instead. userdata marks uint64 objects. */
static const char jz_unsigned;

static int jz_int_serialize(json_object *jso, struct printbuf *pb, int level, int flags)
{
	uint8_t tmp[24], *e;

	(void)level, (void)flags;
	if (json_object_get_userdata(jso) == &jz_unsigned)
		e = mstr_u64(tmp, json_object_get_uint64(jso));
	else
		e = mstr_i64(tmp, json_object_get_int64(jso));
	return printbuf_memappend(pb, (const char *)tmp, (int)(e - tmp));
}

static void jz_tree_free(struct jz_tree *t)
{
	size_t i;

	if (t == NULL)
		return;
	json_object_put(t->root);
	for (i = 0; i < JZ_NFIELDS; i++)
		json_object_put(t->child[i]);
	free(t);
}

static struct jz_tree *jz_tree_new(void)
{
	struct jz_tree *t = calloc(1, sizeof(*t));
	size_t i;

	if (t == NULL)
		return NULL;
	t->root = json_object_new_object();
	if (t->root == NULL)
		goto out_free;
	for (i = 0; i < JZ_NFIELDS; i++) {
		const struct jz_field *f = &jz_fields[i];

		if (f->mode == JZ_BOOLM) {
			t->child[i] = json_object_new_boolean(1);
		} else if (f->mode == JZ_N || f->mode == JZ_Z) {
			t->child[i] = f->type == JZ_U64 ? json_object_new_uint64(0) :
			              json_object_new_int64(0);
			if (t->child[i] != NULL)
				json_object_set_serializer(t->child[i], jz_int_serialize,
				                           f->type == JZ_U64 ? (void *)&jz_unsigned
				                                             : NULL, NULL);
		} else {
			t->child[i] = json_object_new_string("");
			if (t->child[i] != NULL) {
				t->slot[i].bad = &t->bad;
				t->slot[i].scratch = t->scratch;
				json_object_set_serializer(t->child[i], jz_str_serialize,
				                           &t->slot[i], NULL);
			}
		}
		if (t->child[i] == NULL)
			goto out_free;
	}
	return t;
out_free:
	jz_tree_free(t);
	return NULL;
}

static struct jz_tree *jz_tree_get(struct jz *m)
{
	struct jz_tree *t = pthread_getspecific(m->key);

	if (t != NULL)
		return t;
	t = jz_tree_new();
	if (t == NULL || pthread_setspecific(m->key, t) != 0) {
		jz_tree_free(t);
		return NULL;
	}
	pthread_mutex_lock(&m->lock);
	t->next = m->trees;
	m->trees = t;
	pthread_mutex_unlock(&m->lock);
	return t;
}

/* Point string child i at text; returns the child. */
static json_object *jz_text(struct jz_tree *t, size_t i, const char *s, size_t n)
{
	t->slot[i].s = s;
	t->slot[i].n = n;
	return t->child[i];
}

static json_object *jz_name(struct jz_tree *t, size_t i, const char *s)
{
	return jz_text(t, i, s, strlen(s));
}

/* The child to link for field i, updated to the record's value; NULL = leave out. */
static json_object *jz_render(struct jz_tree *t, size_t i, const struct xtcpd_record *r)
{
	const struct jz_field *f = &jz_fields[i];
	const struct jz_val *v = &t->val[i];
	json_object *c = t->child[i];

	if (!v->present)
		return NULL;
	switch (f->mode) {
	case JZ_Z:
		if (v->u == 0)
			return NULL;
		/* fall through */
	case JZ_N:
		if (f->type == JZ_U64)
			json_object_set_uint64(c, v->u);
		else
			json_object_set_int64(c, (int64_t)v->u);
		return c;
	case JZ_BOOLM:
		return v->u ? c : NULL;
	case JZ_S:
		return v->n ? jz_text(t, i, v->s, v->n) : NULL;
	case JZ_FAMILY:
		return jz_name(t, i, jz_family_name((unsigned)v->u));
	case JZ_STATE:
		return jz_name(t, i, jz_state_name((unsigned)v->u));
	case JZ_TIMER:
		return jz_name(t, i, jz_timer_name((unsigned)v->u));
	case JZ_CASTATE:
		return jz_name(t, i, jz_ca_state_name((unsigned)v->u));
	case JZ_CONG:
		return jz_name(t, i, jz_cong_name((unsigned)v->u));
	case JZ_ADDRM: {
		char *txt = t->text[v->s == (const char *)r->src ? 0 : 1];

		if (inet_ntop(r->family == AF_INET ? AF_INET : AF_INET6, v->s, txt,
		              INET6_ADDRSTRLEN) == NULL)
			txt[0] = 0;
		return jz_name(t, i, txt);
	}
	}
	return NULL;
}

/* ---- plugin ops ---------------------------------------------------------------------- */

static int jz_append(void *inst, struct xtcpd_buf *buf, const struct xtcpd_record *rec)
{
	struct jz *m = inst;
	struct lh_table *lh;
	struct jz_tree *t;
	const char *out;
	int truncated = 0;
	size_t i, n;

	t = jz_tree_get(m);
	if (t == NULL)
		return -ENOMEM;
	jz_extract(rec, t->val, &truncated);
	t->bad = 0;
	for (i = 0; i < JZ_NFIELDS; i++)
		t->next_link[i] = jz_render(t, i, rec);
	/* Records mostly have the same set of keys as the one before: then the values
	 * updated in place are all it takes. Otherwise unlink the children (constant keys:
	 * nothing is freed but our extra references) and link this set in schema order. */
	if (memcmp(t->next_link, t->linked, sizeof(t->linked)) != 0) {
		lh = json_object_get_object(t->root);
		while (lh->head != NULL)
			lh_table_delete_entry(lh, lh->head);
		for (i = 0; i < JZ_NFIELDS; i++) {
			json_object *c = t->next_link[i];

			t->linked[i] = c;
			if (c != NULL)
				json_object_object_add_ex(t->root, jz_fields[i].key, json_object_get(c),
				                          JSON_C_OBJECT_ADD_KEY_IS_NEW |
				                          JSON_C_OBJECT_ADD_CONSTANT_KEY);
		}
	}
	out = json_object_to_json_string_length(t->root, JSON_C_TO_STRING_PLAIN |
	                                        JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (out == NULL)
		return -ENOMEM;
	if (buf->cap - buf->len < n + 1)
		return -ENOSPC;
	memcpy(buf->data + buf->len, out, n);
	buf->data[buf->len + n] = '\n';
	buf->len += n + 1;
	mstr_counters_add(&m->cnt, truncated, t->bad);
	return 0;
}

static int jz_begin(void *inst, struct xtcpd_buf *buf)
{
	(void)inst;
	buf->off = buf->len = 0;
	return 0;
}

static int jz_finish(void *inst, struct xtcpd_buf *buf)
{
	(void)inst, (void)buf;
	return 0;
}

static void jz_destroy(void *inst)
{
	struct jz *m = inst;
	struct jz_tree *t;

	if (m == NULL)
		return;
	while ((t = m->trees) != NULL) {
		m->trees = t->next;
		jz_tree_free(t);
	}
	if (m->key_ok)
		pthread_key_delete(m->key);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static int jz_create(const struct xtcpd_host *host, struct xtcpd_ctx *ctx,
                     const struct xtcpd_config *cfg, void **inst)
{
	struct jz *m;
	int rc;

	(void)cfg;
	*inst = NULL;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	*inst = m;
	m->host = host;
	m->ctx = ctx;
	/* No destructor: trees live until destroy (reader threads outlive the instance
	 * in the daemon; a short-lived thread leaves its tree on the list, not leaked). */
	rc = pthread_key_create(&m->key, NULL);
	if (rc != 0) {
		host->log(ctx, XTCPD_LOG_ERR, "pthread_key_create: %s", strerror(rc));
		return -rc;
	}
	m->key_ok = 1;
	return mstr_counters_init(&m->cnt, host, ctx);
}

static const struct xtcpd_key jz_keys[] = {
	XTCPD_KEYS_END,
};

static const struct xtcpd_marshaller_ops jz_ops = {
	.common = {
		.struct_size = sizeof(struct xtcpd_marshaller_ops),
		.create = jz_create,
		.destroy = jz_destroy,
	},
	.begin = jz_begin,
	.append = jz_append,
	.finish = jz_finish,
};

XTCPD_PLUGIN(XTCPD_KIND_MARSHALLER, "json", PACKAGE_VERSION,
             "one JSON object per socket per line, for people (json-c)",
             jz_keys, &jz_ops);
