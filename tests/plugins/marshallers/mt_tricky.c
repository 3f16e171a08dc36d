/* tests/plugins/marshallers/mt_tricky.c — records whose values are hard to render as text:
 * strings needing CSV quotes or protobuf escapes (delimiters, quotes, CR/LF, a leading
 * space or NBSP, invalid UTF-8, multi-byte text, PostgreSQL's "\.", one too long),
 * addresses of every shape Go prints differently (IPv4-mapped, IPv4-compatible, two
 * equal zero runs, no run), unknown states and algorithms, and timestamps with and
 * without a fraction. mt_tricky_json() prints the raw inputs for the Python checker,
 * which renders them on its own. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "tests/plugins/marshallers/mt.h"

static const char *const mt_tricky_str[] = {
	"a,b", "quote \"inside\"", " leading space", "line\nbreak", "cr\rhere", "tab\there",
	"\\.", "\xc2\xa0nbsp first", "bad\xff\xfeutf8", "", "unicode \xc3\xa9 \xe6\x97\xa5",
	"single'quote back\\slash", NULL /* long: filled below */, "\t", "plain",
};
#define MT_NSTR (sizeof(mt_tricky_str) / sizeof(mt_tricky_str[0]))

struct mt_addr {
	uint8_t family;
	uint8_t src[16], dst[16];
};

static const struct mt_addr mt_tricky_addr[] = {
	{ AF_INET, { 10, 1, 2, 3 }, { 0 } },
	{ AF_INET6, { [15] = 1 }, { 0 } },
	{ AF_INET6, { [10] = 0xff, 0xff, 192, 0, 2, 1 }, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
	{ AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1 },
	  { 0xfe, 0x80, [9] = 1, 0, 2, 0, 3, 0, 4 } },
	{ AF_INET6, { [12] = 1, 2, 3, 4 }, { 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0 } },
	{ 0, { 0xab, 0xcd, [15] = 0xef }, { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 } },
	{ AF_INET, { 255, 255, 255, 255, 9, 9 }, { 127, 0, 0, 1 } },
};
#define MT_NADDR (sizeof(mt_tricky_addr) / sizeof(mt_tricky_addr[0]))

static const int64_t mt_tricky_ts[] = {
	0, 1, 1700000000123456789LL, 1700000000000000000LL, 1700000000120000000LL, -5,
	951782400000000000LL /* 2000-02-29 */, 4102444799999999999LL, 86399000000001LL,
};
#define MT_NTS (sizeof(mt_tricky_ts) / sizeof(mt_tricky_ts[0]))

static char mt_long[1100];

unsigned mt_tricky_count(void)
{
	return 16;
}

static const char *mt_tricky_s(unsigned i)
{
	if (mt_long[0] == 0) {
		/* 1100 bytes of 2-byte characters: cut at 1024, on a character boundary */
		for (size_t k = 0; k + 2 <= sizeof(mt_long) - 1; k += 2)
			mt_long[k] = (char)0xc3, mt_long[k + 1] = (char)0xa9;
	}
	i %= MT_NSTR;
	return mt_tricky_str[i] ? mt_tricky_str[i] : mt_long;
}

void mt_fill_tricky(struct mt_rec *m, unsigned i)
{
	struct xtcpd_record *r = &m->r;
	const struct mt_addr *a = &mt_tricky_addr[i % MT_NADDR];

	mt_fill(m, MT_FEW, i + 1);
	r->hostname = mt_tricky_s(i);
	r->netns = mt_tricky_s(i + 5);
	r->label = i % 3 ? mt_tricky_s(i + 9) : NULL;
	r->family = a->family;
	memcpy(r->src, a->src, 16);
	memcpy(r->dst, a->dst, 16);
	r->state = (uint8_t)(i % 14);                   /* 0 and 13: not a state */
	r->timestamp_ns = mt_tricky_ts[i % MT_NTS];
	if (i % 2) {
		r->present |= XTCPD_HAS_INFO | XTCPD_HAS_CONG;
		r->tcpi_len = sizeof(r->tcpi);
		r->tcpi.state = (uint8_t)((i + 3) % 14);
		r->cong_enum = i % 10;                  /* 8, 9: unknown to the enum */
		snprintf(r->cong_name, sizeof(r->cong_name), "%s", i % 4 == 1 ? "cubic" : "bbr");
	}
}

static void mt_hex(const uint8_t *b, size_t n)
{
	putchar('"');
	for (size_t k = 0; k < n; k++)
		printf("%02x", b[k]);
	putchar('"');
}

static void mt_hexstr(const char *s)
{
	if (s == NULL)
		printf("null");
	else
		mt_hex((const uint8_t *)s, strlen(s));
}

/* The raw inputs of record i, as one JSON object. */
static void mt_tricky_one(unsigned i)
{
	static struct mt_rec m;
	const struct xtcpd_record *r = &m.r;

	memset(&m, 0, sizeof(m));
	mt_fill_tricky(&m, i);
	printf("{\"hostname\":");
	mt_hexstr(r->hostname);
	printf(",\"netns\":");
	mt_hexstr(r->netns);
	printf(",\"label\":");
	mt_hexstr(r->label);
	printf(",\"family\":%u,\"src\":", r->family);
	mt_hex(r->src, 16);
	printf(",\"dst\":");
	mt_hex(r->dst, 16);
	printf(",\"state\":%u,\"timestamp_ns\":%lld,\"info\":%d,\"tcpi_state\":%u,"
	       "\"cong_enum\":%u,\"cong_name\":\"%s\"}", r->state, (long long)r->timestamp_ns,
	       (r->present & XTCPD_HAS_INFO) != 0, r->tcpi.state, r->cong_enum,
	       (r->present & XTCPD_HAS_CONG) ? r->cong_name : "");
}

void mt_tricky_json(void)
{
	printf("[");
	for (unsigned i = 0; i < mt_tricky_count(); i++) {
		printf("%s", i ? ",\n" : "");
		mt_tricky_one(i);
	}
	printf("]\n");
}
