/*
 * fuzz_listing.c - libFuzzer target for the directory listing parser
 * (ftp/listparse.c): an MLSD or LIST body as a server sends it, which
 * `reel ls`, the SIZE fallbacks and the read side all trust.
 *
 * Input: the body, as is. Each input is parsed as MLSD and as LIST (the
 * client falls back from one to the other on the same server), checked
 * for MLSD plausibility, and each line is also given to the LIST line
 * parser with fixed clocks (year-less dates depend on "now"). Checks:
 * entries come sorted by name, each with a name that is not empty, ".",
 * "..", and holds no line break; a size is unknown or fits in 63 bits.
 */
#include "xfer_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_fail(const char *what, const char *name)
{
	fprintf(stderr, "fuzz_listing: %s: \"%s\"\n", what, name ? name : "(null)");
	abort();
}

static void check_entry(const struct xfer_entry *e)
{
	if (!e->name || !e->name[0])
		fz_fail("an entry without a name", e->name);
	if (!strcmp(e->name, ".") || !strcmp(e->name, ".."))
		fz_fail("a . or .. entry", e->name);
	if (strchr(e->name, '\n'))
		fz_fail("a name with a line break", e->name);
	if (e->size != XFER_SIZE_UNKNOWN && e->size > (uint64_t)INT64_MAX)
		fz_fail("a size beyond 63 bits", e->name);
}

static void check_list(const char *buf, size_t len, bool mlsd)
{
	struct xfer_entry *v = NULL;
	size_t n = 0;
	int rc = xlist_parse(buf, len, mlsd, &v, &n);

	if (rc == -ENOMEM)
		return;
	if (rc != 0)
		fz_fail("xlist_parse failed with neither 0 nor -ENOMEM", NULL);
	for (size_t i = 0; i < n; i++) {
		check_entry(&v[i]);
		if (i && strcmp(v[i - 1].name, v[i].name) > 0)
			fz_fail("entries out of order at", v[i].name);
	}
	xfer_entries_free(v, n);
}

/* Every line alone, as xlist_parse splits them, with clocks that put
 * year-less dates on both sides of a year's turn. */
static void check_lines(const char *buf, size_t len)
{
	static const time_t clocks[] = { 0, 86400 * 365 / 2, 1798761599, 1798761600 };
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = (size_t)((nl ? nl : end) - p);
		char *line = strndup(p, l);

		p = nl ? nl + 1 : end;
		if (!line)
			return;
		for (size_t c = 0; c < sizeof(clocks) / sizeof(clocks[0]); c++) {
			struct xfer_entry e;
			int rc = xlist_parse_list(line, clocks[c], &e);
			if (rc > 1 || (rc < 0 && rc != -EINVAL && rc != -ENOMEM))
				fz_fail("xlist_parse_list: an unexpected result on", line);
			if (rc > 0) {
				check_entry(&e);
				free(e.name);
			}
		}
		struct xfer_entry e;
		int rc = xlist_parse_mlsd(line, &e);
		if (rc > 1 || (rc < 0 && rc != -EINVAL && rc != -ENOMEM))
			fz_fail("xlist_parse_mlsd: an unexpected result on", line);
		if (rc > 0) {
			check_entry(&e);
			free(e.name);
		}
		free(line);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);	/* exactly size bytes, no NUL */

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	check_list(buf, size, true);
	check_list(buf, size, false);
	(void)xlist_mlsd_plausible(buf, size);
	check_lines(buf, size);
	free(buf);
	return 0;
}
