/*
 * enc.c - the encoder core: call order, limits, counts, CRCs and the sticky
 * error, around whichever format table the encoder was made with.
 *
 * Formats only frame; everything they emit passes through tape_enc_emit()
 * here, so image_bytes and image_crc are exactly the bytes the sink saw.
 * This file must never copy payload or do I/O: the sink does the I/O.
 */
#include "format_ops.h"
#include "enc_pool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct tape_enc {
	const struct tape_format *fmt;
	void *st;			/* the format's private state */
	tape_sink_fn sink;
	void *sink_ctx;
	struct tape_counts counts;
	struct tape_file_counter fc;
	unsigned trailing_marks;	/* marks since the last record, capped at 2 */
	bool finished;
	int fatal;			/* sticky: 0 or the first sink/format error */
	/* The record being written: lets emit() fold its payload into the
	 * image CRC without reading it a second time. */
	const void *cur_data;
	size_t cur_len;
	uint32_t cur_crc;
	/* A record framed by tape_enc_record_later whose CRC is still owed
	 * (cur_data and cur_len stay set): image_crc covers the bytes before
	 * its payload, and after_crc (from 0) the after_len bytes emitted
	 * after it, once emit has met the payload (split). */
	bool owed, split;
	uint32_t after_crc;
	uint64_t after_len;
	/* HET pool (enc_pool.c): started at the first record when threads
	 * >= 2; pool_failed: it could not start, compress in place. */
	int threads, level;
	struct enc_pool *pool;
	bool pool_failed;
	tape_settle_fn settle_fn;
	void *settle_ctx;
	char err[192];
};

void tape_enc_set_error(struct tape_enc *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->err, sizeof(e->err), fmt, ap);
	va_end(ap);
}

struct tape_enc *tape_enc_new(const struct tape_format *f,
			      const struct tape_enc_options *opt,
			      tape_sink_fn sink, void *sink_ctx)
{
	struct tape_enc *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->fmt = f ? f : tape_format_default();
	e->sink = sink;
	e->sink_ctx = sink_ctx;
	e->threads = opt ? opt->threads : 0;
	e->level = tape_het_level(opt);
	if (e->fmt->open(&e->st, opt) < 0) {
		free(e);
		return NULL;
	}
	return e;
}

int tape_enc_emit(struct tape_enc *e, const struct tape_slice *v, int n)
{
	uint32_t crc = e->counts.image_crc;
	uint64_t bytes = 0;

	uint32_t after = e->after_crc;
	uint64_t after_len = e->after_len;
	bool split = e->split;

	for (int i = 0; i < n; i++) {
		bool payload = v[i].base == e->cur_data && v[i].len == e->cur_len &&
			       e->cur_len;
		if (payload && e->owed) {
			split = true;	/* its CRC comes at completion */
		} else if (split) {
			after = tape_crc32(after, v[i].base, v[i].len);
			after_len += v[i].len;
		} else if (payload) {
			crc = tape_crc32_combine(crc, e->cur_crc, v[i].len);
		} else {
			crc = tape_crc32(crc, v[i].base, v[i].len);
		}
		bytes += v[i].len;
	}
	int rc = e->sink(e->sink_ctx, v, n);
	if (rc < 0) {
		e->fatal = rc;
		tape_enc_set_error(e, "the output refused image bytes at offset %llu (error %d)",
				   (unsigned long long)e->counts.image_bytes, -rc);
		return rc;
	}
	e->counts.image_crc = crc;
	e->after_crc = after;
	e->after_len = after_len;
	e->split = split;
	e->counts.image_bytes += bytes;
	return 0;
}

/* 0 when writing may go on; otherwise the error to return. */
static int check_open(struct tape_enc *e)
{
	if (e->fatal)
		return e->fatal;
	if (e->finished) {
		tape_enc_set_error(e, "the tape is finished; nothing can be written after the end of data");
		return -EPIPE;
	}
	return 0;
}

/* A record's bytes went to the sink: count it. */
static void settled_record(struct tape_enc *e, size_t len, uint32_t crc)
{
	e->counts.records++;
	e->counts.payload_bytes += len;
	e->counts.payload_crc = tape_crc32_combine(e->counts.payload_crc, crc, len);
	tape_fc_record(&e->fc, &e->counts);
	e->trailing_marks = 0;
	if (e->settle_fn)
		e->settle_fn(e->settle_ctx, &e->counts);
}

static int record_failed(struct tape_enc *e, int rc, size_t len)
{
	if (!e->fatal) {
		e->fatal = rc;
		if (!e->err[0])
			tape_enc_set_error(e, "framing a %zu-byte record failed (error %d)", len, -rc);
	}
	return rc;
}

/* Emits the oldest pooled record once compressed (waiting for it when
 * wait); 1 when one was emitted, 0 when none was ready, or the error. A
 * record whose emission fails stays in the pool: it is unsent. */
static int emit_oldest(struct tape_enc *e, bool wait)
{
	struct enc_slot *s = enc_pool_oldest(e->pool, wait);

	if (!s)
		return 0;
	e->cur_data = s->in;
	e->cur_len = s->len;
	e->cur_crc = s->crc;
	int rc = e->fmt->block(e->st, e, s->in, s->len, s->z, s->zlen);
	e->cur_data = NULL;
	e->cur_len = 0;
	if (rc < 0)
		return record_failed(e, rc, s->len);
	size_t len = s->len;
	uint32_t crc = s->crc;
	enc_pool_release(e->pool);
	settled_record(e, len, crc);
	return 1;
}

/* Emits what the workers finished, in order; with all, waits for every
 * pending record. */
static int reap(struct tape_enc *e, bool all)
{
	int rc;

	if (!e->pool)
		return 0;
	while ((rc = emit_oldest(e, all)) == 1)
		;
	return rc;
}

static bool use_pool(struct tape_enc *e)
{
	if (e->pool)
		return true;
	if (e->threads < 2 || !e->fmt->compress || !e->fmt->block || e->pool_failed)
		return false;
	e->pool = enc_pool_new(e->threads, e->level);
	e->pool_failed = !e->pool;
	return e->pool != NULL;
}

int tape_enc_record(struct tape_enc *e, const void *data, size_t len)
{
	tape_enc_complete(e);
	int rc = check_open(e);

	if (rc)
		return rc;
	if (len == 0 || len > e->fmt->max_record) {
		tape_enc_set_error(e, "a %zu-byte record cannot be written: %s records hold 1 to %zu bytes",
				   len, e->fmt->name, e->fmt->max_record);
		return -EINVAL;
	}
	if (use_pool(e)) {
		/* Emit what is ready; then make room by waiting for the
		 * oldest. A failure here is about records accepted before:
		 * this one is refused, they stay unsent. */
		if ((rc = reap(e, false)) < 0)
			return rc;
		while (enc_pool_full(e->pool))
			if ((rc = emit_oldest(e, true)) < 0)
				return rc;
		rc = enc_pool_submit(e->pool, data, len, e->fmt->record_cost(e->st, len));
		if (rc < 0) {
			tape_enc_set_error(e, "out of memory for a %zu-byte HET block", len);
			return rc;	/* not sticky: nothing was accepted */
		}
		return 0;
	}
	e->cur_data = data;
	e->cur_len = len;
	e->cur_crc = tape_crc32(0, data, len);
	rc = e->fmt->record(e->st, e, data, len);
	e->cur_data = NULL;
	e->cur_len = 0;
	if (rc < 0)
		return record_failed(e, rc, len);
	settled_record(e, len, e->cur_crc);
	return 0;
}

/* No record is being framed, and no CRC is owed. */
static void owe_nothing(struct tape_enc *e)
{
	e->owed = e->split = false;
	e->after_crc = 0;
	e->after_len = 0;
	e->cur_data = NULL;
	e->cur_len = 0;
}

int tape_enc_record_later(struct tape_enc *e, const void *data, size_t len)
{
	tape_enc_complete(e);
	/* landing is 0 for a failed or finished encoder too: record() then
	 * gives the error. */
	if (tape_enc_landing(e, len) == 0)
		return tape_enc_record(e, data, len);
	e->cur_data = data;
	e->cur_len = len;
	e->owed = true;
	int rc = e->fmt->record(e->st, e, data, len);
	if (rc < 0) {
		owe_nothing(e);
		return record_failed(e, rc, len);
	}
	return 0;
}

void tape_enc_complete(struct tape_enc *e)
{
	if (!e->owed)
		return;
	size_t len = e->cur_len;
	uint32_t crc = tape_crc32(0, e->cur_data, len);
	/* Without a split, emit met the payload in pieces and folded them
	 * into image_crc itself. */
	if (e->split)
		e->counts.image_crc = tape_crc32_combine(
			tape_crc32_combine(e->counts.image_crc, crc, len),
			e->after_crc, e->after_len);
	owe_nothing(e);
	settled_record(e, len, crc);
}

size_t tape_enc_landing(const struct tape_enc *e, size_t len)
{
	if (e->owed || e->fatal || e->finished || e->pool || e->fmt->compress || !e->fmt->landing ||
	    len == 0 || len > e->fmt->max_record)
		return 0;
	return e->fmt->landing(e->st, len);
}

int tape_enc_settle(struct tape_enc *e)
{
	tape_enc_complete(e);
	if (e->fatal)
		return e->fatal;
	int rc = reap(e, true);
	return rc < 0 ? rc : 0;
}

uint64_t tape_enc_pending_cost(const struct tape_enc *e)
{
	return e->pool ? enc_pool_cost(e->pool) : 0;
}

unsigned tape_enc_pending(const struct tape_enc *e)
{
	return e->pool ? enc_pool_count(e->pool) : 0;
}

void tape_enc_on_settle(struct tape_enc *e, tape_settle_fn fn, void *ctx)
{
	e->settle_fn = fn;
	e->settle_ctx = ctx;
}

int tape_enc_unsent(struct tape_enc *e, tape_emit_fn emit, void *ctx)
{
	tape_enc_complete(e);
	unsigned n = tape_enc_pending(e);

	for (unsigned i = 0; i < n; i++) {
		const struct enc_slot *s = enc_pool_peek(e->pool, i);
		int rc = emit(ctx, s->in, s->len);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int tape_enc_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

static int write_mark(struct tape_enc *e)
{
	int rc = e->fmt->mark(e->st, e);

	if (rc < 0) {
		if (!e->fatal)
			e->fatal = rc;
		return rc;
	}
	tape_fc_mark(&e->fc, &e->counts);
	if (e->trailing_marks < 2)
		e->trailing_marks++;
	if (e->settle_fn)
		e->settle_fn(e->settle_ctx, &e->counts);
	return 0;
}

int tape_enc_mark(struct tape_enc *e)
{
	tape_enc_complete(e);
	int rc = check_open(e);

	if (!rc)
		rc = tape_enc_settle(e);
	return rc ? rc : write_mark(e);
}

int tape_enc_finish(struct tape_enc *e)
{
	tape_enc_complete(e);
	if (e->finished)
		return e->fatal;
	int rc = check_open(e);
	if (!rc)
		rc = tape_enc_settle(e);
	if (rc)
		return rc;
	while (e->trailing_marks < 2) {
		rc = write_mark(e);
		if (rc < 0)
			return rc;
	}
	if (e->fmt->finish) {
		rc = e->fmt->finish(e->st, e);
		if (rc < 0) {
			if (!e->fatal)
				e->fatal = rc;
			return rc;
		}
	}
	e->finished = true;
	return 0;
}

bool tape_enc_finished(const struct tape_enc *e)
{
	return e->finished;
}

void tape_enc_counts(struct tape_enc *e, struct tape_counts *out)
{
	tape_enc_complete(e);
	*out = e->counts;
}

uint64_t tape_enc_record_cost(const struct tape_enc *e, size_t len)
{
	return e->fmt->record_cost(e->st, len);
}

uint64_t tape_enc_finish_cost(const struct tape_enc *e)
{
	if (e->finished)
		return 0;
	/* Pending records end the run of marks once they settle. */
	if (tape_enc_pending(e) || e->owed)
		return 2 * e->fmt->mark_cost;
	return (2 - e->trailing_marks) * e->fmt->mark_cost;
}

uint64_t tape_enc_mark_cost(const struct tape_enc *e)
{
	return e->fmt->mark_cost;
}

const char *tape_enc_error(const struct tape_enc *e)
{
	return e->err[0] ? e->err : "no error";
}

void tape_enc_free(struct tape_enc *e)
{
	if (!e)
		return;
	enc_pool_free(e->pool);
	e->fmt->free(e->st);
	free(e);
}
