/* kafka_conf — maps the sink's keys and the property.* pass-through onto a librdkafka
 * configuration, letting librdkafka validate every value with its own error text, and
 * works out the message key and the largest batch the sink accepts. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "plugins/sinks/kafka/kafka.h"

/* librdkafka refuses a message whose wire size (payload, key and record overhead) is
 * above message.max.bytes; keep this much slack for the record framing. */
#define KAFKA_RECORD_OVERHEAD 64

/* librdkafka properties that load code or run a command (its CONFIGURATION.md), refused
 * (but for the one harmless value, if any): configuration is not a way to run code as
 * the daemon. */
static const struct {
	const char *name, *harmless, *why;
} kafka_denied[] = {
	{ "plugin.library.paths", NULL, "loads shared libraries into the daemon" },
	{ "sasl.kerberos.kinit.cmd", NULL, "runs a shell command" },
	{ "sasl.kerberos.min.time.before.relogin", "0",
	  "anything but 0 runs sasl.kerberos.kinit.cmd, a shell command into which the "
	  "principal and keytab are pasted (keep the ticket cache fresh outside xtcpd)" },
	{ "ssl.engine.location", NULL, "loads an OpenSSL engine library" },
	{ "ssl.providers", NULL, "loads OpenSSL provider modules" },
};

int kafka_conf_denied(const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	static const char prefix[] = "property.";

	for (size_t i = 0; i < cfg->n_extra; i++) {
		const char *name = cfg->extra[i].key;

		if (!strncmp(name, prefix, sizeof(prefix) - 1))
			name += sizeof(prefix) - 1;
		for (size_t j = 0; j < sizeof(kafka_denied) / sizeof(kafka_denied[0]); j++)
			if (!strcasecmp(name, kafka_denied[j].name) &&
			    (!kafka_denied[j].harmless ||
			     strcmp(cfg->extra[i].value, kafka_denied[j].harmless))) {
				snprintf(res->msg, res->msg_size, "refused: %s", kafka_denied[j].why);
				res->key = cfg->extra[i].key;
				return -EPERM;
			}
	}
	return 0;
}

/* Set one property; a refusal names `key` (our key, or the property.* key as written)
 * with librdkafka's own reason. */
static int kafka_set(rd_kafka_conf_t *conf, const char *key, const char *name, const char *value,
		     struct xtcpd_check *res)
{
	char errstr[512];

	if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK)
		return 0;
	if (key && !strncmp(key, "property.", 9))
		return XTCPD_CHECK_FAIL(res, key, "%s", errstr);
	return XTCPD_CHECK_FAIL(res, key, "'%s' (librdkafka %s): %s", value, name, errstr);
}

/* hostname: this host's name; netns: the name plus the daemon's own network namespace.
 * A batch mixes records of many namespaces, so a per-record key is not available to a
 * sink; both keys keep one host's messages on one partition, in order. */
static int kafka_key_build(struct kafka_sink *ks, int which)
{
	char host[256] = "", ns[64] = "";
	ssize_t n;

	if (which == KEY_NONE)
		return 0;
	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "unknown");
	if (which == KEY_NETNS) {
		n = readlink("/proc/self/ns/net", ns, sizeof(ns) - 1);
		ns[n > 0 ? n : 0] = '\0';
		snprintf(ks->key, sizeof(ks->key), "%s/%s", host, ns);
	} else {
		snprintf(ks->key, sizeof(ks->key), "%s", host);
	}
	ks->key_len = strlen(ks->key);
	return 0;
}

int kafka_conf_fill(rd_kafka_conf_t *conf, const struct xtcpd_config *cfg, struct xtcpd_check *res)
{
	static const char *const codecs[] = { "none", "gzip", "snappy", "lz4", "zstd" };
	static const char *const acks[] = { "all", "-1", "0", "1" };
	static const struct { int key; const char *name, *prop; } nums[] = {
		{ K_LINGER_MS, "linger_ms", "linger.ms" },
		{ K_QUEUE_MAX_MESSAGES, "queue_max_messages", "queue.buffering.max.messages" },
		{ K_QUEUE_MAX_KBYTES, "queue_max_kbytes", "queue.buffering.max.kbytes" },
	};
	const struct xtcpd_value *v = cfg->values;
	const char *prefix = "property.";
	char num[32];

	if (kafka_set(conf, "brokers", "bootstrap.servers", v[K_BROKERS].str, res) ||
	    kafka_set(conf, NULL, "client.id", "xtcpd", res) ||
	    kafka_set(conf, "compression", "compression.codec", codecs[v[K_COMPRESSION].num], res) ||
	    kafka_set(conf, "acks", "acks", acks[v[K_ACKS].num], res))
		return -EINVAL;
	/* With acks=all, idempotence costs nothing and keeps retries after a broker
	 * outage from duplicating batches. property.enable.idempotence overrides it. */
	if (v[K_ACKS].num <= 1 && kafka_set(conf, NULL, "enable.idempotence", "true", res))
		return -EINVAL;
	/* No kinit, ever: its default command line pastes the Kerberos principal and keytab
	 * into a shell command (0 turns it off, at creation too). A build without GSSAPI may
	 * not know the property: nothing runs kinit there either. */
	rd_kafka_conf_set(conf, "sasl.kerberos.min.time.before.relogin", "0", NULL, 0);
	/* Statistics feed xtcpd_sink_kafka_request_retries_total; 0 turns them off. */
	if (kafka_set(conf, NULL, "statistics.interval.ms", "5000", res))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		snprintf(num, sizeof(num), "%lld", (long long)v[nums[i].key].num);
		if (kafka_set(conf, nums[i].name, nums[i].prop, num, res))
			return -EINVAL;
	}
	for (size_t i = 0; i < cfg->n_extra; i++) {
		const char *name = cfg->extra[i].key;

		if (strncmp(name, prefix, strlen(prefix)) == 0)
			name += strlen(prefix);
		if (kafka_set(conf, cfg->extra[i].key, name, cfg->extra[i].value, res))
			return -EINVAL;
	}
	return 0;
}

int kafka_conf_build(struct kafka_sink *ks, const struct xtcpd_config *cfg)
{
	char max[32], msg[600];
	size_t max_len = sizeof(max);
	struct xtcpd_check res = { .struct_size = sizeof(res), .msg = msg, .msg_size = sizeof(msg) };

	ks->conf = rd_kafka_conf_new();
	if (!ks->conf)
		return -ENOMEM;
	if (kafka_conf_fill(ks->conf, cfg, &res)) {
		ks->host->log(ks->ctx, XTCPD_LOG_ERR, "%s", msg);
		return -EINVAL;
	}
	ks->on_full_block = cfg->values[K_ON_FULL].num == 0;
	ks->block_timeout_ms = (int)cfg->values[K_BLOCK_TIMEOUT_MS].num;
	kafka_key_build(ks, (int)cfg->values[K_KEY].num);
	if (rd_kafka_conf_get(ks->conf, "message.max.bytes", max, &max_len) != RD_KAFKA_CONF_OK)
		return -EINVAL;
	ks->max_message = strtoull(max, NULL, 10);
	ks->max_message = ks->max_message > ks->key_len + KAFKA_RECORD_OVERHEAD
				  ? ks->max_message - ks->key_len - KAFKA_RECORD_OVERHEAD
				  : 1;
	return 0;
}
