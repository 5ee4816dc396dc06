/*
 * testutil.h - helpers for the encoder unit tests: a growing memory sink, an
 * event recorder for the decoder, deterministic data and a CHECK macro that
 * says where and why a test failed. Test-only; nothing here is in the
 * library.
 */
#ifndef REELFS_TESTUTIL_H
#define REELFS_TESTUTIL_H

#include "tape.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int tu_failures;

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__,  \
				__LINE__, #cond);                           \
			fprintf(stderr, __VA_ARGS__);                       \
			fputc('\n', stderr);                                \
			if (++tu_failures > 20)                             \
				exit(1);                                    \
		}                                                           \
	} while (0)

static inline int tu_result(const char *name)
{
	if (tu_failures) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, tu_failures);
		return 1;
	}
	printf("%s: all checks passed\n", name);
	return 0;
}

static inline void *tu_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	return p;
}

/* ---- memory sink ---- */
struct membuf {
	uint8_t *p;
	size_t len, cap;
	unsigned calls;
	unsigned max_slices;
	long fail_at_call;	/* >= 0: that call fails with -ENOSPC */
};

static inline void mb_init(struct membuf *m)
{
	memset(m, 0, sizeof(*m));
	m->fail_at_call = -1;
}

static inline void mb_append(struct membuf *m, const void *p, size_t n)
{
	if (m->len + n > m->cap) {
		size_t cap = m->cap ? m->cap : 4096;
		while (cap < m->len + n)
			cap *= 2;
		m->p = realloc(m->p, cap);
		if (!m->p)
			exit(2);
		m->cap = cap;
	}
	if (n)
		memcpy(m->p + m->len, p, n);
	m->len += n;
}

static inline int mb_sink(void *ctx, const struct tape_slice *v, int n)
{
	struct membuf *m = ctx;

	if ((long)m->calls++ == m->fail_at_call)
		return -ENOSPC;
	if ((unsigned)n > m->max_slices)
		m->max_slices = (unsigned)n;
	for (int i = 0; i < n; i++)
		mb_append(m, v[i].base, v[i].len);
	return 0;
}

static inline void mb_free(struct membuf *m)
{
	free(m->p);
	mb_init(m);
}

/* ---- decoder event recorder ---- */
struct ev_rec {
	enum tape_event_kind kind;
	uint64_t offset;
	size_t len;
	uint32_t crc;
	enum tape_error_kind err;
};

struct evlog {
	struct ev_rec *ev;
	size_t n, cap;
	struct membuf payload;	/* all record bytes, in order (when keep) */
	int keep;
	int stop_after;		/* > 0: callback returns -ECANCELED after that many */
};

static inline void el_init(struct evlog *l, int keep)
{
	memset(l, 0, sizeof(*l));
	mb_init(&l->payload);
	l->keep = keep;
}

static inline int el_cb(void *ctx, const struct tape_event *e)
{
	struct evlog *l = ctx;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->ev = realloc(l->ev, l->cap * sizeof(*l->ev));
		if (!l->ev)
			exit(2);
	}
	struct ev_rec *r = &l->ev[l->n++];
	r->kind = e->kind;
	r->offset = e->offset;
	r->len = e->len;
	r->err = e->err;
	r->crc = e->kind == TAPE_EV_RECORD ? (uint32_t)crc32(0, e->data, (uInt)e->len) : 0;
	if (e->kind == TAPE_EV_RECORD && l->keep)
		mb_append(&l->payload, e->data, e->len);
	if (l->stop_after > 0 && (int)l->n >= l->stop_after)
		return -ECANCELED;
	return 0;
}

static inline void el_free(struct evlog *l)
{
	free(l->ev);
	mb_free(&l->payload);
	memset(l, 0, sizeof(*l));
}

/* Two logs hold the same events. */
static inline int el_equal(const struct evlog *a, const struct evlog *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct ev_rec *x = &a->ev[i], *y = &b->ev[i];
		if (x->kind != y->kind || x->offset != y->offset || x->len != y->len ||
		    x->crc != y->crc || x->err != y->err)
			return 0;
	}
	return 1;
}

static inline size_t el_count(const struct evlog *l, enum tape_event_kind k)
{
	size_t c = 0;
	for (size_t i = 0; i < l->n; i++)
		c += l->ev[i].kind == k;
	return c;
}

static inline const struct ev_rec *el_error(const struct evlog *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->ev[i].kind == TAPE_EV_ERROR)
			return &l->ev[i];
	return NULL;
}

/* Decodes img in pieces of at most step bytes (0: one push). Returns the
 * last push/end result; fills log and counts. */
static inline int decode_image(const struct tape_format *f, const void *img,
			       size_t len, size_t step, struct evlog *log,
			       struct tape_counts *counts,
			       const struct tape_format **found, int *eod)
{
	struct tape_dec *d = tape_dec_new(f, el_cb, log);
	const uint8_t *p = img;
	int rc = 0;

	if (!d)
		exit(2);
	if (step == 0)
		step = len ? len : 1;
	for (size_t off = 0; off < len && rc == 0; off += step)
		rc = tape_dec_push(d, p + off, len - off < step ? len - off : step);
	if (rc == 0)
		rc = tape_dec_end(d);
	if (counts)
		tape_dec_counts(d, counts);
	if (found)
		*found = tape_dec_format(d);
	if (eod)
		*eod = tape_dec_at_eod(d);
	tape_dec_free(d);
	return rc;
}

/* Deterministic bytes: seed picks the stream; text makes them compressible. */
static inline void fill_data(uint8_t *p, size_t n, uint32_t seed, int text)
{
	uint32_t x = seed * 2654435761u + 1;
	static const char words[] = "tape reel record block mark file ";

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = text ? (uint8_t)words[(x >> 8) % (sizeof(words) - 1)] : (uint8_t)x;
	}
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static const char *const all_format_names[] = { "mtd", "simh", "e11", "aws", "het" };
#define N_ALL_FORMATS 5

#endif
