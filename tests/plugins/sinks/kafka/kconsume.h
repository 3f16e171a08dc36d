/* kconsume — a small librdkafka consumer for tests: reads every partition of a topic
 * from the beginning to its end and hands each message to a callback. */
#ifndef XTCPD_TEST_KCONSUME_H
#define XTCPD_TEST_KCONSUME_H

#include <librdkafka/rdkafka.h>

typedef void (*kc_fn)(void *arg, const rd_kafka_message_t *msg);

/* Returns the number of messages read, or -1 (message printed) if the topic could not
 * be read to its end within timeout_ms. */
long kc_consume(const char *bootstrap, const char *topic, kc_fn fn, void *arg, int timeout_ms);

#endif
