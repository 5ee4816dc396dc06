/*
 * format_ops.h - private to encoder/: the operations table behind each tape
 * format, and the few helpers the format files share with the core.
 *
 * Nothing outside encoder/ may include this file; the public contract is
 * tape.h. A format file only frames bytes: call order, counts, CRCs and the
 * sticky error belong to enc.c, so no format repeats them.
 */
#ifndef REELFS_FORMAT_OPS_H
#define REELFS_FORMAT_OPS_H

#include "tape.h"

/* Formats that share framing share a decoder too. */
enum tape_family {
	TAPE_FAM_SIMH,		/* 4-byte length, data, same length (mtd, simh, e11) */
	TAPE_FAM_AWS,		/* 6-byte chunk headers (aws, het) */
};

struct tape_format {
	const char *name;
	const char *ext;		/* file extension, with the dot */
	size_t max_record;
	enum tape_family family;
	bool pad_odd;			/* SIMH family: odd records get a zero pad byte */
	bool compress;			/* HET: blocks may be zlib-compressed */
	uint64_t mark_cost;		/* image bytes of one tape mark */

	/* *st receives private state; 0 or -errno. */
	int (*open)(void **st, const struct tape_enc_options *opt);
	/* Emits one record (len already checked: 1..max_record) through
	 * tape_enc_emit(). */
	int (*record)(void *st, struct tape_enc *e, const void *data, size_t len);
	int (*mark)(void *st, struct tape_enc *e);
	/* Called once by tape_enc_finish() after the end-of-data marks; may be
	 * NULL when the format has no trailer. */
	int (*finish)(void *st, struct tape_enc *e);
	void (*free)(void *st);
	/* Image bytes a record of len bytes adds (an upper bound for HET). */
	uint64_t (*record_cost)(const void *st, size_t len);
	/* compress only: emits a record compressed elsewhere (the pool):
	 * z/zlen its compressed form, zlen 0 to store data as it is. */
	int (*block)(void *st, struct tape_enc *e, const void *data, size_t len,
		     const void *z, size_t zlen);
	/* Frame in place (tape_enc_landing): the header bytes before the
	 * payload when `record` emits a record of len bytes as one header
	 * slice, the payload slice and at most a trailer, so that a payload
	 * already at its place in the output needs no copy; 0 when it does
	 * not (NULL: never). */
	size_t (*landing)(const void *st, size_t len);
};

/* simh_frame.c: the landing op of the SIMH family (a 4-byte header). */
size_t tape_simh_landing(const void *st, size_t len);

/* fmt_het.c: the zlib level an encoder with these options uses. */
int tape_het_level(const struct tape_enc_options *opt);

extern const struct tape_format tape_fmt_mtd, tape_fmt_simh, tape_fmt_e11,
	tape_fmt_aws, tape_fmt_het;

/* enc.c: hands image bytes to the sink, counting them into image_bytes and
 * image_crc. A slice that is exactly the payload of the record being written
 * is folded into the CRC from the payload CRC already computed, so payload
 * bytes are read only once. Sink errors become the sticky error. */
int tape_enc_emit(struct tape_enc *e, const struct tape_slice *v, int n);
/* enc.c: records a failure sentence on the encoder (printf-style). */
void tape_enc_set_error(struct tape_enc *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* crc.c: zlib-compatible CRC-32, using carry-less multiply where the CPU
 * has it (zlib's table CRC runs at about 3 GB/s here, far below the 10 GB/s
 * framing target). tape_crc32_combine() is zlib's crc32_combine with a
 * one-entry cache of the length operator, since record lengths repeat. */
uint32_t tape_crc32(uint32_t crc, const void *data, size_t len);
uint32_t tape_crc32_combine(uint32_t crc1, uint32_t crc2, uint64_t len2);

/* counts.c: the file-counting rule shared by encoder and decoder, so the
 * two always agree. A tape mark ends a file when a record came right before
 * it or when any record follows it later; the extra marks at the end of the
 * data (end-of-data) therefore never count, and an empty tape has 0 files. */
struct tape_file_counter {
	uint64_t run;		/* marks since the last record */
	bool first_counted;	/* first mark of the run followed a record */
	bool any_record;	/* last element before the run was a record */
};
void tape_fc_record(struct tape_file_counter *fc, struct tape_counts *c);
void tape_fc_mark(struct tape_file_counter *fc, struct tape_counts *c);

/* Little-endian helpers. */
static inline uint32_t tape_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint16_t tape_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline void tape_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void tape_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* AWS/HET chunk header flags (flags1). */
#define TAPE_AWS_BEGIN	0x80	/* first chunk of a record */
#define TAPE_AWS_MARK	0x40	/* tape mark, length 0 */
#define TAPE_AWS_END	0x20	/* last chunk of a record */
#define TAPE_AWS_ZLIB	0x01	/* HET: block is zlib-compressed */
#define TAPE_AWS_BZIP2	0x02	/* HET: block is bzip2-compressed (not supported) */
#define TAPE_AWS_HDR	6

/* SIMH family markers. */
#define TAPE_SIMH_MARK		0x00000000u
#define TAPE_SIMH_EOM		0xFFFFFFFFu
#define TAPE_SIMH_GAP		0xFFFFFFFEu
#define TAPE_SIMH_RESERVED	0xFF000000u	/* ..0xFFFFFFFD */
#define TAPE_SIMH_ERRFLAG	0x80000000u
#define TAPE_SIMH_MAX		0x00FFFFFFu
#define TAPE_AWS_MAX		(2u * 1024 * 1024)

/* sniff.c: the guess, and whether more bytes could change it. */
const struct tape_format *tape_sniff_detail(const void *data, size_t len,
					    bool at_end, bool *certain,
					    bool *hopeless);

#endif
