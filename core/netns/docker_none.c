/* netns/docker_none — the Docker client of a build without libcurl or json-c: none
 * (`enrich_docker` is refused by the configuration check before this is reached). */
#include "config.h"
#include "netns/docker.h"

#include <errno.h>
#include <stddef.h>

int docker_create(const char *socket, int64_t timeout_ms, struct docker **out)
{
	(void)socket;
	(void)timeout_ms;
	*out = NULL;
	return -ENOTSUP;
}

void docker_destroy(struct docker *d)
{
	(void)d;
}

int docker_lookup(struct docker *d, struct netns_ident *id)
{
	(void)d;
	(void)id;
	return -ENOTSUP;
}

unsigned docker_generation(struct docker *d)
{
	(void)d;
	return 0;
}
