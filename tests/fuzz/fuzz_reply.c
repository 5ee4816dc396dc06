/*
 * fuzz_reply.c - libFuzzer target for the capture of FTP control replies
 * (cs_capture in ftp/curl_control.c): the libcurl debug callback hands it
 * every line sent and received, and it pairs our own commands (SIZE, MDTM,
 * MLST, RNFR...) with the server's final reply and MLST's fact line, which
 * cs_stat then reads (the fact line with the MLSD fact parser).
 *
 * Input: byte 0 picks the commands sent (SIZE/MDTM, or MLST, or RNFR/RNTO
 * and a fourth); the rest is a transcript, one line per '\n': a line that
 * starts with '>' is one the client sent (the rest of it), any other is a
 * server's reply, passed as libcurl does (with its CR). Checks: each
 * captured reply is terminated within its slot, is empty or starts with a
 * three-digit code and a blank, and is safe to quote (safetext); each fact
 * line is terminated and parses without a crash.
 */
#include "curl_int.h"
#include "safetext.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_fail(const char *what, const char *s)
{
	fprintf(stderr, "fuzz_reply: %s: \"%s\"\n", what, s);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const sets[3][CS_CAP_MAX] = {
		{ "TYPE I", "SIZE vol1.mtd", "MDTM vol1.mtd" },
		{ "MLST vol1.mtd" },
		{ "RNFR vol1.mtd.part", "RNTO vol1.mtd", "SIZE vol1.mtd", "DELE x" },
	};
	static const int counts[3] = { 3, 1, 4 };
	struct cs *c;
	const char *p, *end;
	char *buf;
	int set;

	if (size < 1)
		return 0;
	c = calloc(1, sizeof(*c));
	buf = malloc(size);
	if (!c || !buf) {
		free(c);
		free(buf);
		return 0;
	}
	memcpy(buf, data, size);
	set = data[0] % 3;
	c->cap_cmds = sets[set];
	c->cap_n = counts[set];
	c->cap_at = -1;
	p = buf + 1;
	end = buf + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = (size_t)((nl ? nl : end) - p);

		/* Exactly the line's bytes, so ASan sees a read beyond it. */
		if (l && p[0] == '>')
			cs_capture(c, CURLINFO_HEADER_OUT, p + 1, l - 1);
		else
			cs_capture(c, CURLINFO_HEADER_IN, p, l);
		p = nl ? nl + 1 : end;
	}
	for (int i = 0; i < CS_CAP_MAX; i++) {
		const char *r = c->cap_reply[i];
		if (!memchr(r, '\0', sizeof(c->cap_reply[i])) ||
		    !memchr(c->cap_fact[i], '\0', sizeof(c->cap_fact[i])))
			fz_fail("a capture slot is not terminated", "");
		if (r[0] && (r[0] < '1' || r[0] > '5' || r[1] < '0' || r[1] > '9' ||
			     r[2] < '0' || r[2] > '9' || r[3] != ' '))
			fz_fail("a captured reply without a code", r);
		if (safetext_find(r, strlen(r)) != strlen(r))
			fz_fail("a captured reply (quoted in messages) is not rendered safe", r);
		if (i >= c->cap_n && (r[0] || c->cap_fact[i][0]))
			fz_fail("a reply captured for a command never sent", r);
		if (c->cap_fact[i][0]) {
			struct xfer_entry e;
			int rc = xlist_parse_mlsd(c->cap_fact[i], &e);
			if (rc > 1 || (rc < 0 && rc != -EINVAL && rc != -ENOMEM))
				fz_fail("the fact line gave an unexpected result", c->cap_fact[i]);
			if (rc > 0)
				free(e.name);
		}
	}
	free(buf);
	free(c);
	return 0;
}
