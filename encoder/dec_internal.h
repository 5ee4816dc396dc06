/*
 * dec_internal.h - private to encoder/: the decoder state shared by the
 * decoder core (dec.c) and the two family parsers (dec_simh.c, dec_aws.c).
 * Parsers turn bytes into calls of the tape_dec_* helpers below; only the
 * core talks to the caller's callback, keeps counts and decides the format.
 */
#ifndef REELFS_DEC_INTERNAL_H
#define REELFS_DEC_INTERNAL_H

#include "format_ops.h"

#include <zlib.h>

struct tape_dec {
	const struct tape_format *fmt;	/* NULL until sniffed */
	bool auto_mode;
	bool allow_comp;		/* AWS family: accept compressed blocks */
	tape_event_fn cb;
	void *ctx;
	int stop;			/* sticky: -EILSEQ or the callback's value */
	bool done;			/* end of medium seen; the rest is ignored */
	uint64_t pos;			/* image offset of the next byte */
	struct tape_counts counts;
	struct tape_file_counter fc;
	unsigned trailing_marks;	/* capped at 2 */

	/* The element being parsed. */
	int st;
	uint64_t el_off;		/* where its header starts */
	uint8_t hdr[8];
	size_t hdr_have;
	uint8_t *buf;			/* record bytes gathered across pushes */
	size_t buf_cap, buf_have;
	size_t need;			/* SIMH: data (+pad) bytes expected */
	uint32_t rec_len;		/* SIMH: the header's length */
	bool pad_unsure;		/* SIMH auto: padding not known until the
					 * first odd record shows it */

	/* AWS family. */
	uint16_t last_cur;		/* length of the previous chunk */
	bool chain_free;		/* started mid-image: trust the first
					 * header's previous length */
	bool in_rec;
	uint64_t rec_off;		/* first chunk of the record in progress */
	uint8_t rec_comp;
	bool chunk_end;
	size_t chunk_left;
	z_stream z;
	bool z_init;
	uint8_t *zout;

	/* Auto mode: bytes held until the format is known. */
	uint8_t *sniff;
	size_t sniff_have, sniff_cap, sniff_next;

	char msg[256];
};

/* States shared by both parsers: 0 is always "expecting a header". */
#define TAPE_DST_HDR 0
#define TAPE_DST_DATA 1
#define TAPE_DST_TRL 2

/* dec.c helpers for the parsers. Each returns 0 to go on or the value
 * tape_dec_push() must return. */
int tape_dec_fail(struct tape_dec *d, enum tape_error_kind kind, uint64_t off,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* crc is the zlib CRC of data (the parser often has it already). */
int tape_dec_record(struct tape_dec *d, uint64_t off, const void *data,
		    size_t len, uint32_t crc);
int tape_dec_mark(struct tape_dec *d, uint64_t off);
int tape_dec_eom(struct tape_dec *d, uint64_t off);
/* Counts n image bytes as consumed. */
void tape_dec_consume(struct tape_dec *d, const void *p, size_t n);
/* Same, for payload whose CRC is known: folded in, not re-read. */
void tape_dec_consume_crc(struct tape_dec *d, uint32_t crc, size_t n);
/* Makes room for n gathered record bytes; 0 or -ENOMEM. */
int tape_dec_reserve(struct tape_dec *d, size_t n);

int tape_dec_simh_push(struct tape_dec *d, const uint8_t *p, size_t n);
int tape_dec_simh_end(struct tape_dec *d);
int tape_dec_aws_push(struct tape_dec *d, const uint8_t *p, size_t n);
int tape_dec_aws_end(struct tape_dec *d);

#endif
