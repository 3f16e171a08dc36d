/* netns/docker — names and images of Docker containers from the Docker Engine API on its
 * unix socket (libcurl), asked on a thread of its own so that a slow or dead daemon never
 * holds a scan, let alone a poll. Answers are cached by container id. */
#ifndef XTCPD_NETNS_DOCKER_H
#define XTCPD_NETNS_DOCKER_H

#include <stdint.h>

struct docker;
struct netns_ident;

/* socket: the Engine API's unix socket; timeout_ms bounds one request. 0 or -errno
 * (-ENOTSUP when built without libcurl and json-c). */
int docker_create(const char *socket, int64_t timeout_ms, struct docker **out);
void docker_destroy(struct docker *d);   /* NULL is fine; joins the thread */
/* id->s_id's name and image into id->s_name / s_image when known (0); otherwise the
 * lookup is queued (-EAGAIN) or failed for good (-ENOENT: no such container). Never
 * blocks on the daemon. */
int docker_lookup(struct docker *d, struct netns_ident *id);
/* Grows each time an answer (or a failure) arrives: the caller looks again. */
unsigned docker_generation(struct docker *d);

#endif
