/* pipeline/reload — check, build, swap. A new pipeline is built beside the running one
 * (pipeline_create with `old`), adopting every instance whose configuration did not
 * change: the same running object, queue and in-flight batches included. reload_swap()
 * then retires what the new pipeline does not use (sources stopped, sinks drained within
 * the shutdown timeout, marshallers kept until their last buffer comes back) and hands
 * the adopted instances over. Nothing here can fail: every allocation was made by the
 * build, which can still be abandoned (pipeline_destroy) leaving the old one untouched. */
#include "config.h"
#include "pipeline/reload.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/clock.h"
#include "ops/log.h"
#include "pipeline/batch.h"
#include "pipeline/host.h"
#include "pipeline/internal.h"
#include "pipeline/sink.h"

static int streq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static int same_values(const struct xtcpd_key *keys, const struct xtcpd_value *a,
		       const struct xtcpd_value *b)
{
	for (size_t i = 0; keys && keys[i].name; i++)
		if (a[i].set != b[i].set || a[i].num != b[i].num || !streq(a[i].str, b[i].str))
			return 0;
	return 1;
}

/* Same plugin and instance, same values for its keys, the core's per-kind keys (the
 * resolved marshaller included) and the prefix keys. Where a key was written does not
 * matter. */
int reload_same_section(const struct conf_section *a, const struct conf_section *b)
{
	const struct xtcpd_key *kind_keys = a->kind == CONF_SINK ? conf_sink_keys :
					    a->kind == CONF_MARSHALLER ? conf_marshaller_keys : NULL;

	if (a->kind != b->kind || !streq(a->plugin, b->plugin) || !streq(a->instance, b->instance) ||
	    a->keys != b->keys || a->n_values != b->n_values || a->n_extra != b->n_extra ||
	    !same_values(a->keys, a->values, b->values) ||
	    !same_values(kind_keys, a->kind_values, b->kind_values))
		return 0;
	for (size_t i = 0; i < a->n_extra; i++)
		if (!streq(a->extra[i].key, b->extra[i].key) || !streq(a->extra[i].value, b->extra[i].value))
			return 0;
	return 1;
}

static int adoptable(const struct xtcpd_ctx *ctx, const struct conf_section *s,
		     const struct plugin *pl)
{
	/* the same loaded object (a plugin_dir change loads others), not yet adopted */
	return ctx->created && !ctx->next_pl && ctx->plugin->desc == pl->desc &&
	       reload_same_section(ctx->sec, s);
}

static void adopt(struct xtcpd_ctx *ctx, struct pipeline *p, const struct plugin *pl)
{
	ctx->next_pl = p;
	ctx->next_plugin = pl;
}

struct sinkinst *reload_adopt_sink(struct pipeline *old, struct pipeline *p,
				   const struct conf_section *s, const struct plugin *pl)
{
	for (size_t i = 0; old && i < old->n_sinks; i++) {
		struct sinkinst *k = old->sinks[i];

		if (!k->stuck && adoptable(&k->ctx, s, pl)) {
			adopt(&k->ctx, p, pl);
			return k;
		}
	}
	return NULL;
}

struct srcinst *reload_adopt_src(struct pipeline *old, struct pipeline *p,
				 const struct conf_section *s, const struct plugin *pl)
{
	for (size_t i = 0; old && i < old->n_src; i++)
		if (adoptable(&old->src[i]->ctx, s, pl)) {
			adopt(&old->src[i]->ctx, p, pl);
			return old->src[i];
		}
	return NULL;
}

/* A marshaller is kept only with the same buffers: their size follows its sinks' limits
 * and their number its sinks' quotas and the readers. */
struct marsh *reload_adopt_marsh(struct pipeline *old, struct pipeline *p,
				 const struct conf_section *s, const struct plugin *pl,
				 size_t buf_cap, unsigned nbuf)
{
	for (size_t i = 0; old && i < old->n_marsh; i++) {
		struct marsh *m = old->marsh[i];
		struct pool_stats st;

		if (!adoptable(&m->ctx, s, pl) || m->buf_cap != buf_cap)
			continue;
		pool_stats(m->bufs, &st);
		if (st.capacity != nbuf)
			continue;
		adopt(&m->ctx, p, pl);
		return m;
	}
	return NULL;
}

static int in_list(void *const *list, size_t n, const void *obj)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == obj)
			return 1;
	return 0;
}

/* Freed once no sink holds one of its buffers any more; until then it only holds its
 * pool (the plugin instance is gone), renamed so the metrics keep one series per name. */
static void retire_marsh(struct pipeline *p, struct marsh *m)
{
	char name[48];

	if (m->ctx.started && m->ops->common.stop)
		m->ops->common.stop(m->ctx.inst);
	if (m->ctx.created || m->ctx.inst)
		m->ops->common.destroy(m->ctx.inst);
	m->ctx.inst = NULL;
	m->ctx.created = m->ctx.started = 0;
	free(m->sinks);
	m->sinks = NULL;
	m->n_sinks = 0;
	snprintf(name, sizeof(name), "%.30s (retired %u)", pool_name(m->bufs), ++p->retired_seq);
	pool_rename(m->bufs, name);
	m->grave_next = p->grave;
	p->grave = m;
	reload_reap(p, 0);
}

void reload_reap(struct pipeline *p, int all)
{
	struct marsh **mp = &p->grave;

	while (*mp) {
		struct marsh *m = *mp;
		struct pool_stats st;

		pool_stats(m->bufs, &st);
		if (st.in_use && !all) {
			mp = &m->grave_next;
			continue;
		}
		*mp = m->grave_next;
		if (st.in_use) {
			/* a stuck sink still holds some: leave the pool allocated */
			log_warn("%u batch buffers of a retired marshaller are still held: not freed", st.in_use);
			continue;
		}
		pool_destroy(m->bufs);
		free(m);
	}
}

/* Sources of the old pipeline: their lanes' (empty) batches go back to the old
 * marshallers' pools; the retiring ones release their namespaces and go. */
static void swap_sources(struct pipeline *old, struct pipeline *p, const struct reload_ns *ns)
{
	for (size_t i = 0; i < old->n_src; i++) {
		struct srcinst *src = old->src[i];
		int keep = in_list((void *const *)p->src, p->n_src, src);

		if (!keep && src->ctx.started && src->ops->common.stop)
			src->ops->common.stop(src->ctx.inst);
		src->ctx.started = keep && src->ctx.started;
		batch_flush_lanes(old, src);
		batch_drop_lanes(old, src);
		free(src->cur);
		src->cur = NULL;
		if (keep)
			continue;
		for (size_t j = 0; src->ops->ns_del && j < ns->n; j++)
			src->ops->ns_del(src->ctx.inst, ns->list[j]);
		if (src->ctx.created || src->ctx.inst)
			src->ops->common.destroy(src->ctx.inst);
		for (unsigned l = 0; src->lane_lock && l < src->lanes; l++)
			pthread_mutex_destroy(&src->lane_lock[l]);
		free(src->lane_lock);
		free(src->emitted);
		free(src);
	}
}

/* Retiring sinks deliver what they hold within the shutdown timeout, then go. */
static int swap_sinks(struct pipeline *old, struct pipeline *p, int timeout_ms, int *stuck)
{
	struct timespec dl = clock_deadline(CLOCK_REALTIME, timeout_ms);
	int undelivered = 0;

	for (size_t i = 0; i < old->n_sinks; i++)
		if (!in_list((void *const *)p->sinks, p->n_sinks, old->sinks[i]))
			sink_close(old->sinks[i]);
	for (size_t i = 0; i < old->n_sinks; i++) {
		struct sinkinst *k = old->sinks[i];

		if (in_list((void *const *)p->sinks, p->n_sinks, k))
			continue;
		undelivered += sink_finish(k, &dl);
		if (k->stuck)
			*stuck = 1;
		sink_destroy(k);
	}
	return undelivered;
}

static void hand_over(struct xtcpd_ctx *ctx, struct pipeline *old, struct pipeline *p)
{
	conf_take_section(p->conf, old->conf, ctx->sec);
	ctx->pl = p;
	ctx->plugin = ctx->next_plugin;
	ctx->next_pl = NULL;
	ctx->next_plugin = NULL;
}

/* The adopted objects take their new wiring, and their configuration sections move to
 * the new configuration (the plugin instances borrow them). */
static void commit(struct pipeline *old, struct pipeline *p)
{
	for (size_t i = 0; i < p->n_sinks; i++) {
		struct sinkinst *k = p->sinks[i];

		if (k->ctx.pl != p) {
			hand_over(&k->ctx, old, p);
			k->m = k->next_m;
			k->next_m = NULL;
			if (k->ops->reopen) {  /* SIGHUP still means "reopen your files" */
				int rc = k->ops->reopen(k->ctx.inst);
				if (rc)
					host_log(&k->ctx, XTCPD_LOG_ERR, "reopen failed: %s", log_errstr(rc));
			}
		}
	}
	for (size_t i = 0; i < p->n_marsh; i++) {
		struct marsh *m = p->marsh[i];

		if (m->ctx.pl != p) {
			hand_over(&m->ctx, old, p);
			free(m->sinks);
			m->sinks = m->next_sinks;
			m->n_sinks = m->next_n_sinks;
			m->next_sinks = NULL;
			m->next_n_sinks = 0;
		}
	}
	for (size_t i = 0; i < p->n_src; i++) {
		struct srcinst *src = p->src[i];

		if (src->ctx.pl != p) {
			hand_over(&src->ctx, old, p);
			src->cur = src->next_cur;
			src->next_cur = NULL;
		}
	}
	conf_relink(p->conf);
}

void reload_swap(struct pipeline *old, struct pipeline *p, int timeout_ms,
		 const struct reload_ns *ns, struct reload_stats *st)
{
	int undelivered, stuck = 0;

	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < p->n_src; i++)
		st->kept += p->src[i]->ctx.pl != p;
	for (size_t i = 0; i < p->n_marsh; i++)
		st->kept += p->marsh[i]->ctx.pl != p;
	for (size_t i = 0; i < p->n_sinks; i++)
		st->kept += p->sinks[i]->ctx.pl != p;
	st->created = p->n_src + p->n_marsh + p->n_sinks - st->kept;
	st->retired = old->n_src + old->n_marsh + old->n_sinks - st->kept;
	/* Kept continuous sources emit on: no emit from them until their lanes point at
	 * the new pipeline (their readers wait, the kernel buffers). */
	for (size_t i = 0; i < p->n_src; i++)
		if (p->src[i]->ctx.pl != p)
			batch_lanes_hold(p->src[i], 1);
	swap_sources(old, p, ns);
	undelivered = swap_sinks(old, p, timeout_ms, &stuck);
	commit(old, p);
	for (size_t i = 0; i < p->n_src; i++)
		if (p->src[i]->lanes_held)
			batch_lanes_hold(p->src[i], 0);
	for (size_t i = 0; i < old->n_marsh; i++)
		if (!in_list((void *const *)p->marsh, p->n_marsh, old->marsh[i]))
			retire_marsh(p, old->marsh[i]);
	for (size_t i = 0; i < p->n_src; i++) {
		struct srcinst *src = p->src[i];

		for (size_t j = 0; src->fresh && src->ops->ns_add && j < ns->n; j++) {
			int rc = src->ops->ns_add(src->ctx.inst, ns->list[j]);

			if (rc && ns->refused)
				ns->refused(ns->arg, ns->list[j], rc);
		}
		src->fresh = 0;
	}
	while (old->grave) {  /* the graveyard moves to the new pipeline */
		struct marsh *m = old->grave;

		old->grave = m->grave_next;
		m->grave_next = p->grave;
		p->grave = m;
	}
	p->retired_seq = old->retired_seq;
	atomic_store(&p->record_counter, atomic_load(&old->record_counter));
	st->undelivered = undelivered;
	st->stuck = stuck;
	if (!stuck) {  /* a stuck sink may still reach its pipeline: leave that allocated */
		free(old->src);
		free(old->marsh);
		free(old->sinks);
		free(old);
	}
}
