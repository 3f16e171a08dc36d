/* enrich_gen — the enrichment generation (host->enrich_generation, ABI 1.7), alone in its
 * file: the uplinks (ops/uplink.c) and the identities (netns_enrich.c) move it, and a
 * program that links one of them needs nothing else of the other. */
#include "config.h"
#include "netns/netns.h"

#include <stdatomic.h>

static _Atomic uint64_t enrich_gen = 1;

uint64_t enrich_generation(void)
{
	return atomic_load_explicit(&enrich_gen, memory_order_acquire);
}

/* Before a free: the record that later meets the freed address again (in new text) was
 * made after this, so its marshaller sees the new generation. */
void enrich_retire(void)
{
	atomic_fetch_add_explicit(&enrich_gen, 1, memory_order_acq_rel);
}
