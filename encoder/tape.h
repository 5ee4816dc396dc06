/*
 * tape.h - the public face of the tape-image encoder and decoder.
 *
 * This library turns records and tape marks into the bytes of a tape
 * container (MTD, SIMH, E11, AWSTAPE, HET) and back. It never does I/O of
 * its own: output goes to a caller's sink as slices, input is pushed in by
 * the caller in pieces of any size. Functions return 0 or a negative errno;
 * each handle keeps a short sentence naming the last failure.
 */
#ifndef REELFS_TAPE_H
#define REELFS_TAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A piece of image bytes handed to a sink. The pointers stay valid only for
 * the duration of the sink call: a sink that keeps data must copy it. */
struct tape_slice {
	const void *base;
	size_t len;
};

/* Receives consecutive image bytes. Returns 0, or a negative errno that the
 * encoder passes back to its caller and keeps as a sticky error. */
typedef int (*tape_sink_fn)(void *ctx, const struct tape_slice *v, int n);

/* ---- formats ---------------------------------------------------------- */

struct tape_format;	/* const operations table, one per container */

/* "mtd", "simh", "e11", "aws", "het"; NULL for an unknown name. */
const struct tape_format *tape_format_by_name(const char *name);
/* By file extension: .mtd .tap(simh) .e11 .aws .het, ignoring a trailing
 * ".part"; NULL when the name says nothing. */
const struct tape_format *tape_format_from_path(const char *path);
const struct tape_format *tape_format_default(void);	/* mtd */
const char *tape_format_name(const struct tape_format *f);
/* Largest record the format can hold: 0x00FFFFFF for mtd/simh/e11,
 * 2 MiB for aws/het. */
size_t tape_format_max_record(const struct tape_format *f);
/* Comma-separated list of names, for --help text. */
const char *tape_format_names(void);

/* ---- encoder ---------------------------------------------------------- */

struct tape_enc_options {
	int het_level;		/* zlib level 1..9 for HET; 0 means default (4) */
	size_t chunk_size;	/* AWS/HET chunk payload, 1..65535; 0 = 65535 */
	/* HET: compress blocks on this many worker threads, ahead of the
	 * writer and emitted in order (the image is byte for byte the same).
	 * 0 or 1: in the caller, as each record is written. With a pool, a
	 * record's image bytes reach the sink later than tape_enc_record
	 * returns: see tape_enc_pending_cost and tape_enc_settle. */
	int threads;
};

/* Counts kept by the encoder (and, for the same fields, the decoder).
 * files: tape files ended by a tape mark; the end-of-data mark that
 * finish() adds does not count as a file, so an untouched tape has 0. */
struct tape_counts {
	uint64_t files;
	uint64_t records;
	uint64_t marks;		/* every tape mark in the image */
	uint64_t payload_bytes;
	uint64_t image_bytes;
	uint32_t payload_crc;	/* zlib crc32 of all record payload, in order */
	uint32_t image_crc;	/* zlib crc32 of every image byte emitted */
};

struct tape_enc;

/* One record's payload handed to a callback. */
typedef int (*tape_emit_fn)(void *ctx, const void *rec, size_t len);

/* NULL options means defaults. Returns NULL only when out of memory. */
struct tape_enc *tape_enc_new(const struct tape_format *f,
			      const struct tape_enc_options *opt,
			      tape_sink_fn sink, void *sink_ctx);
/* One record. -EINVAL for a zero length or one above the format maximum
 * (nothing is emitted, the encoder stays usable); any sink error is sticky. */
int tape_enc_record(struct tape_enc *e, const void *data, size_t len);
/* The same, but the record's CRCs are owed (issue 12.2: the reply to a
 * write must not wait for them): it is framed and emitted now, and its
 * payload CRC, its share of the image CRC and its counts settle at
 * tape_enc_complete, which every other call here does first. data must
 * stay unchanged until then. Only a record tape_enc_landing would frame
 * as one slice is owed; any other goes as tape_enc_record. */
int tape_enc_record_later(struct tape_enc *e, const void *data, size_t len);
void tape_enc_complete(struct tape_enc *e);
/* Frame in place (issue 12.1): how many header bytes tape_enc_record
 * emits right before the payload of a len-byte record, when it emits that
 * record as exactly one header slice, the payload slice (the caller's
 * pointer, untouched) and at most a trailer, with nothing before: then a
 * payload read straight into the output at that distance from its end
 * needs no copy. 0 when not (HET, a multi-chunk AWS record, an encoder
 * that failed or finished, a bad length, a record's CRC still owed). */
size_t tape_enc_landing(const struct tape_enc *e, size_t len);
/* One tape mark: ends the current tape file. */
int tape_enc_mark(struct tape_enc *e);
/* Ends the data: adds tape marks until the image ends with two in a row.
 * After finish every write fails with -EPIPE. Idempotent. */
int tape_enc_finish(struct tape_enc *e);
bool tape_enc_finished(const struct tape_enc *e);
void tape_enc_counts(struct tape_enc *e, struct tape_counts *out);
/* Image bytes the next record of len bytes would add (framing included);
 * lets a drive refuse a record that would cross its capacity. */
uint64_t tape_enc_record_cost(const struct tape_enc *e, size_t len);
/* Image bytes finish() would still add. */
uint64_t tape_enc_finish_cost(const struct tape_enc *e);
/* Image bytes one tape mark adds. */
uint64_t tape_enc_mark_cost(const struct tape_enc *e);
const char *tape_enc_error(const struct tape_enc *e);
void tape_enc_free(struct tape_enc *e);

/* With a HET pool (options.threads >= 2), tape_enc_counts covers the
 * records and marks whose image bytes reached the sink ("settled"); the
 * records accepted after them are still being compressed. Without a pool
 * nothing is ever pending and these are no-ops. */
/* An upper bound of the image bytes the pending records will add (each
 * at most its tape_enc_record_cost): counts.image_bytes + this is never
 * below what the image will hold once they are settled. After a sink
 * failure it covers the records that were accepted and never emitted. */
uint64_t tape_enc_pending_cost(const struct tape_enc *e);
/* Records accepted and not yet settled (after a sink failure: never sent). */
unsigned tape_enc_pending(const struct tape_enc *e);
/* Waits for the pending records and emits them: afterwards counts are
 * exact. 0, or the sticky sink error. tape_enc_mark and tape_enc_finish
 * settle first by themselves. */
int tape_enc_settle(struct tape_enc *e);
/* Called, in the thread calling the encoder, each time a record or mark
 * has settled, with the counts just after it (a salvage point). */
typedef void (*tape_settle_fn)(void *ctx, const struct tape_counts *after);
void tape_enc_on_settle(struct tape_enc *e, tape_settle_fn fn, void *ctx);
/* After a sink failure: hands the payload of each record that was
 * accepted but never emitted whole to emit, oldest first. 0 or emit's
 * error. */
int tape_enc_unsent(struct tape_enc *e, tape_emit_fn emit, void *ctx);
/* Online cores: the default size of a HET pool. */
int tape_enc_default_threads(void);

/* ---- fixed-block reblocker -------------------------------------------- */

/* A byte stream in, records of exactly block_size bytes out. Full records
 * are emitted straight from the caller's buffer when possible (no copy).
 * (tape_emit_fn is declared with the encoder above.) */

struct tape_reblock;

struct tape_reblock *tape_reblock_new(size_t block_size, bool pad_last,
				      tape_emit_fn emit, void *ctx);
int tape_reblock_write(struct tape_reblock *r, const void *data, size_t len);
/* Emits what is held as a last record: short, or zero-padded to the block
 * size when pad_last. Nothing is emitted when nothing is held. */
int tape_reblock_flush(struct tape_reblock *r);
size_t tape_reblock_pending(const struct tape_reblock *r);
size_t tape_reblock_size(const struct tape_reblock *r);
void tape_reblock_free(struct tape_reblock *r);

/* ---- streaming decoder ------------------------------------------------ */

enum tape_event_kind {
	TAPE_EV_RECORD,		/* data/len hold one whole record */
	TAPE_EV_MARK,		/* a tape mark */
	TAPE_EV_EOM,		/* an end-of-medium marker (SIMH 0xFFFFFFFF) */
	TAPE_EV_ERROR,		/* err/msg say what; decoding stops */
};

enum tape_error_kind {
	TAPE_ERR_NONE,
	TAPE_ERR_MISMATCH,	/* trailer length differs from header length */
	TAPE_ERR_TRUNCATED,	/* input ended inside a header, record or trailer */
	TAPE_ERR_RESERVED,	/* a reserved marker value */
	TAPE_ERR_BAD_FLAG,	/* SIMH error flag, or AWS flags that make no sense */
	TAPE_ERR_CHAIN,		/* AWS/HET previous-length or begin/end chain broken */
	TAPE_ERR_INFLATE,	/* HET block failed to decompress */
	TAPE_ERR_TOO_BIG,	/* record longer than the format allows */
	TAPE_ERR_UNKNOWN,	/* auto: the bytes match no format */
};

struct tape_event {
	enum tape_event_kind kind;
	uint64_t offset;	/* image offset where this record/mark/error starts;
				 * for an error, the offset of the offending bytes */
	const void *data;	/* RECORD: the payload, valid during the callback */
	size_t len;
	enum tape_error_kind err;
	const char *msg;	/* ERROR: a sentence, includes the offset */
};

/* Return 0 to go on, or a negative errno to stop decoding (tape_dec_push
 * then returns that value). */
typedef int (*tape_event_fn)(void *ctx, const struct tape_event *ev);

struct tape_dec;

/* f == NULL sniffs the format from the first bytes ("auto"). */
struct tape_dec *tape_dec_new(const struct tape_format *f,
			      tape_event_fn cb, void *ctx);
/* Decoding starts at image offset `offset` of an image in a known format
 * (a positioned read that begins at an element boundary): event offsets
 * count from there, and for AWS/HET the first header's previous-length
 * field is taken as it stands. Call before the first push; the counts
 * cover what is pushed from there on. -EINVAL in auto mode. */
int tape_dec_start_at(struct tape_dec *d, uint64_t offset);
/* Bytes in, split anywhere. Returns 0, -EILSEQ after an ERROR event (sticky),
 * or the callback's negative value. */
int tape_dec_push(struct tape_dec *d, const void *data, size_t len);
/* End of input. Reports TRUNCATED if it stops inside an element. */
int tape_dec_end(struct tape_dec *d);
/* The format in use; after sniffing, the one found; NULL if not yet known. */
const struct tape_format *tape_dec_format(const struct tape_dec *d);
/* Counts so far (image_crc covers bytes consumed). */
void tape_dec_counts(const struct tape_dec *d, struct tape_counts *out);
/* Whether the last two elements seen were tape marks (end of data). */
bool tape_dec_at_eod(const struct tape_dec *d);
const char *tape_dec_error(const struct tape_dec *d);
void tape_dec_free(struct tape_dec *d);

/* Best guess from the first bytes of an image; NULL when the bytes match
 * no format or are too few. Used by `reel ls` on a ranged download. */
const struct tape_format *tape_sniff(const void *data, size_t len);

const char *tape_error_kind_name(enum tape_error_kind k);

#endif
