/*
 * enc.c - the encoder core: call order, limits, counts, CRCs and the sticky
 * error, around whichever format table the encoder was made with.
 *
 * Formats only frame; everything they emit passes through tape_enc_emit()
 * here, so image_bytes and image_crc are exactly the bytes the sink saw.
 * This file must never copy payload or do I/O: the sink does the I/O.
 */
#include "format_ops.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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

	for (int i = 0; i < n; i++) {
		if (v[i].base == e->cur_data && v[i].len == e->cur_len && e->cur_len)
			crc = tape_crc32_combine(crc, e->cur_crc, v[i].len);
		else
			crc = tape_crc32(crc, v[i].base, v[i].len);
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

int tape_enc_record(struct tape_enc *e, const void *data, size_t len)
{
	int rc = check_open(e);

	if (rc)
		return rc;
	if (len == 0 || len > e->fmt->max_record) {
		tape_enc_set_error(e, "a %zu-byte record cannot be written: %s records hold 1 to %zu bytes",
				   len, e->fmt->name, e->fmt->max_record);
		return -EINVAL;
	}
	e->cur_data = data;
	e->cur_len = len;
	e->cur_crc = tape_crc32(0, data, len);
	rc = e->fmt->record(e->st, e, data, len);
	e->cur_data = NULL;
	e->cur_len = 0;
	if (rc < 0) {
		if (!e->fatal) {
			e->fatal = rc;
			if (!e->err[0])
				tape_enc_set_error(e, "framing a %zu-byte record failed (error %d)", len, -rc);
		}
		return rc;
	}
	e->counts.records++;
	e->counts.payload_bytes += len;
	e->counts.payload_crc = tape_crc32_combine(e->counts.payload_crc, e->cur_crc, len);
	tape_fc_record(&e->fc, &e->counts);
	e->trailing_marks = 0;
	return 0;
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
	return 0;
}

int tape_enc_mark(struct tape_enc *e)
{
	int rc = check_open(e);

	return rc ? rc : write_mark(e);
}

int tape_enc_finish(struct tape_enc *e)
{
	if (e->finished)
		return e->fatal;
	int rc = check_open(e);
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

void tape_enc_counts(const struct tape_enc *e, struct tape_counts *out)
{
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
	e->fmt->free(e->st);
	free(e);
}
