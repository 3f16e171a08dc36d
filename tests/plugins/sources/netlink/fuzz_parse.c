/* fuzz_parse — libFuzzer target for the inet_diag parser: the input is one received
 * datagram, walked message by message exactly as the readers do (nlp_msg_ok bounds)
 * and every message parsed with all attributes decoded. Build and run with
 * tests/plugins/sources/netlink/fuzz.sh (clang, -fsanitize=fuzzer,address,undefined). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plugins/sources/netlink/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private copy of exactly `size` bytes: ASan sees any read past it. */
	uint8_t *buf = malloc(size ? size : 1);
	struct nlp_counts c = { 0 };
	struct xtcpd_record rec;
	size_t off = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	/* The same walk as nls_process(). */
	for (; off < size && nlp_msg_ok((const struct nlmsghdr *)(buf + off), size - off);
	     off += nlp_msg_step((const struct nlmsghdr *)(buf + off), size - off)) {
		const struct nlmsghdr *h = (const struct nlmsghdr *)(buf + off);

		if (nlp_parse(h, NLP_DECODE_ALL, &rec, &c) == 0 && rec.cong_name[sizeof(rec.cong_name) - 1])
			abort(); /* the name must always be NUL-terminated */
	}
	free(buf);
	return 0;
}
