/*
 * labels.h - ANSI tape labels (ECMA-13 / ANSI X3.27 level 3, as DEC VMS
 * writes them) as a layer over any record-and-mark sink, and the parsing
 * of such labels and of VMS BACKUP saveset block headers.
 *
 * The writer never does I/O and knows nothing of container formats: it
 * hands 80-byte label records, data records and tape marks to the
 * caller's functions (a volume, an encoder, a test's array), so every
 * format carries labels the same way. Layout of a labelled reel:
 *
 *   VOL1
 *   HDR1 HDR2 HDR3 [HDR4] TM  data...  TM  EOF1 EOF2 EOF3 [EOF4] TM   (per file)
 *   TM                                              (after the last file)
 *
 * and a file that goes on onto the next reel ends this one with
 *   ... data  TM  EOV1 EOV2 EOV3 [EOV4] TM TM
 * the next reel beginning with VOL1 and HDR1.. whose section number is
 * one higher (same file set id, sequence number and name).
 *
 * Functions return 0 or a negative errno; tape_lbl_error says why.
 */
#ifndef REELFS_LABELS_H
#define REELFS_LABELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TAPE_LABEL_LEN 80
#define TAPE_LABEL_VOLID 6		/* VOL1 volume id, HDR1 file set id */
#define TAPE_LABEL_NAME_HDR1 17		/* characters of the name in HDR1 */
#define TAPE_LABEL_NAME_MAX 76		/* 17 in HDR1 + the rest in HDR4 */

/* ---- writer ------------------------------------------------------------ */

/* Where the labelled stream goes: a record (label or data) or a tape mark.
 * Return 0 or a negative errno; -ENOSPC from record() inside a file is
 * what a host with a capacity returns, and is passed back unchanged. */
struct tape_lbl_sink {
	int (*record)(void *ctx, const void *data, size_t len);
	int (*mark)(void *ctx);
	void *ctx;
};

struct tape_lbl_file {
	const char *name;	/* as given; converted to the ANSI 'a' set
				 * (tape_label_name_convert) when written */
	char record_format;	/* 'F' (default when 0), 'D' or 'S' */
	uint32_t block_len;	/* HDR2 block length; 0: the length of the
				 * file's first record (labels wait for it) */
	uint32_t record_len;	/* 0: same as block_len */
	time_t created;		/* 0: now */
};

/* Everything a later reel (possibly another process: a --next drive) needs
 * to continue a labelled file: plain data, safe to copy through an ioctl. */
struct tape_lbl_cont {
	uint32_t magic;		/* TAPE_LBL_CONT_MAGIC when valid */
	char set_id[TAPE_LABEL_VOLID + 1];	/* file set id (first reel's volid) */
	char name[TAPE_LABEL_NAME_MAX + 1];	/* converted name */
	uint32_t section;	/* section number the NEXT reel starts with */
	uint32_t sequence;	/* file sequence number within the set */
	uint32_t block_len, record_len;
	char record_format;
	int64_t created;	/* time_t of the file's creation */
	bool in_file;		/* false: the reel ended between files */
};
#define TAPE_LBL_CONT_MAGIC 0x4c424c31u	/* "LBL1" */

struct tape_lbl;

/* volid: 1..6 characters of the 'a' set (converted; -EINVAL if empty or
 * unusable). owner: NULL or up to 14 characters. The VOL1 label is written
 * before the first file's labels (or at tape_lbl_end_volume for a volume
 * with no file). cont: NULL for a first reel; otherwise the state saved by
 * tape_lbl_end_reel on the reel before, and this reel starts with VOL1 and
 * the continued file's header labels (section + 1) before any record. */
struct tape_lbl *tape_lbl_new(const char *volid, const char *owner,
			      const struct tape_lbl_sink *sink,
			      const struct tape_lbl_cont *cont,
			      char *err, size_t errlen);
/* Starts the next labelled file (sequence number + 1). -EBUSY inside a
 * file. Header labels are written now, or with the first record when
 * block_len is 0. */
int tape_lbl_begin_file(struct tape_lbl *l, const struct tape_lbl_file *f);
/* One data record of the current file. */
int tape_lbl_record(struct tape_lbl *l, const void *data, size_t len);
/* Ends the current file: TM, EOF1 (block count) EOF2 EOF3 [EOF4], TM.
 * An empty file still gets its header labels. */
int tape_lbl_end_file(struct tape_lbl *l);
/* Ends the volume: the file in progress, if any, is ended as by
 * tape_lbl_end_file, then the last TM. Idempotent. */
int tape_lbl_end_volume(struct tape_lbl *l);
/* The reel is full: ends the file in progress with EOV labels and two TMs
 * (or, between files, writes the volume's end as EOV is not needed: the
 * TMs that make a double TM, after a VOL1 if nothing was written) and
 * fills *cont for the next reel. A file begun whose header labels did not
 * reach this reel continues with the same section number. After it only
 * tape_lbl_free. */
int tape_lbl_end_reel(struct tape_lbl *l, struct tape_lbl_cont *cont);
/* The most a host must keep free on a reel to end it properly at any
 * moment: label records (80 bytes each) and tape marks that
 * tape_lbl_end_reel may still write. Called from inside the host's sink,
 * it tells what must still follow the element being written; a host that
 * refuses (-ENOSPC) an element for which used + element + reserve passes
 * its capacity only ever refuses the first element of a label group (or a
 * data record): nothing is written, the call returns -ENOSPC, and
 * tape_lbl_end_reel then fits. At most 7 labels and 4 marks
 * (docs/labels.md, "Room to end a reel"). */
void tape_lbl_reserve(const struct tape_lbl *l, unsigned *labels,
		      unsigned *marks);
/* The same in image bytes of encoder e (labels * record cost of 80 bytes
 * + marks * mark cost; an upper bound for HET): what a host keeps free. */
struct tape_enc;
uint64_t tape_lbl_reserve_cost(const struct tape_lbl *l, const struct tape_enc *e);
bool tape_lbl_in_file(const struct tape_lbl *l);
/* Data records of the current file on this reel so far. */
uint64_t tape_lbl_blocks(const struct tape_lbl *l);
const char *tape_lbl_error(const struct tape_lbl *l);
void tape_lbl_free(struct tape_lbl *l);

/* Converts a name to what a label holds, as VMS does: upper case, the
 * characters of the ANSI 'a' set kept, any other byte replaced by '_',
 * cut to TAPE_LABEL_NAME_MAX. Returns the length written to out (which
 * has room for TAPE_LABEL_NAME_MAX + 1). */
size_t tape_label_name_convert(const char *in, char *out);

/* ---- reader ------------------------------------------------------------ */

enum tape_label_kind {
	TAPE_LABEL_NONE,	/* not a label */
	TAPE_LABEL_VOL1,
	TAPE_LABEL_HDR1, TAPE_LABEL_HDR2, TAPE_LABEL_HDR3, TAPE_LABEL_HDR4,
	TAPE_LABEL_EOF1, TAPE_LABEL_EOF2, TAPE_LABEL_EOF3, TAPE_LABEL_EOF4,
	TAPE_LABEL_EOV1, TAPE_LABEL_EOV2, TAPE_LABEL_EOV3, TAPE_LABEL_EOV4,
	TAPE_LABEL_OTHER,	/* an 80-byte record starting HDRn/EOFn/UHLn... */
};

/* What of one 80-byte record is a label. NONE for any other length. */
enum tape_label_kind tape_label_kind(const void *rec, size_t len);

struct tape_label_vol {
	char volid[TAPE_LABEL_VOLID + 1];	/* trailing spaces removed */
	char owner[15];
	char access;		/* ' ' when open */
	char standard;		/* byte 79, '3' for VMS */
};
/* 0, or -EINVAL when rec is not a VOL1 label. */
int tape_label_parse_vol1(const void *rec, size_t len,
			  struct tape_label_vol *out);

/* A label date (year and day of year, as parsed) as "YYYY-MM-DD" in out
 * (11 bytes); "" and -EINVAL when the date is blank or impossible. */
int tape_label_date_iso(int year, int yday, char *out);

/* One labelled file section as the labels around it describe it. */
struct tape_label_file_info {
	char name[TAPE_LABEL_NAME_MAX + 1];	/* HDR1 + HDR4, trimmed */
	char set_id[TAPE_LABEL_VOLID + 1];
	uint32_t section, sequence, generation, generation_version;
	int created_year, created_yday;	/* 0 when blank or unreadable */
	int expires_year, expires_yday;
	uint64_t block_count;	/* from EOF1/EOV1; 0 in HDR1 */
	char system[14];	/* "DECFILE11A" for VMS */
	char record_format;	/* HDR2: 'F', 'D', 'S'; 0 if no HDR2 */
	uint32_t block_len, record_len;
	bool continued;		/* ended by EOV: goes on on the next reel */
	/* Additions (h1): the remaining fields VMS writes. */
	char accessibility;	/* HDR1 byte 53, ' ' when open */
	char carriage_control;	/* HDR2 byte 36: 'M' (in the records) */
	uint32_t buffer_offset;	/* HDR2 bytes 50-51 */
	bool has_rms;		/* HDR3 held RMS attributes (64 hex digits) */
	uint8_t rms_rtype;	/* RMS record type: 1 fixed, 2 variable */
	uint8_t rms_rattrib;	/* RMS record attributes */
	uint16_t rms_rsize, rms_maxrec;	/* RMS record size, maximum */
	/* Set by the scan: where the section's data is on this tape. */
	uint64_t data_file;	/* tape marks before its data (the tape file
				 * number of the data, counting from 0) */
	uint64_t data_record;	/* records (labels too) before its data */
};
/* Fills the fields a HDR1/EOF1/EOV1, HDR2/EOF2/EOV2, HDR3/EOF3/EOV3 or
 * HDR4/EOF4/EOV4 label holds into out (others untouched). 0, or -EINVAL when rec is not
 * one of those labels or a number field is not digits. */
int tape_label_parse_into(const void *rec, size_t len,
			  struct tape_label_file_info *out);

/* A streaming recogniser: feed it a tape's records and marks in order and
 * it builds the volume's label picture; an unlabelled tape is recognised
 * as such from its first record. Bounded: it keeps one entry per labelled
 * file section (and at most max_files of them; later ones are counted). */
struct tape_saveset_info;
struct tape_label_scan;
struct tape_label_scan *tape_label_scan_new(size_t max_files);
/* Returns 0; never fails on odd input: an ill-formed label sequence is
 * noted (tape_label_scan_problem) and the scan stops adding to it. */
int tape_label_scan_record(struct tape_label_scan *s, const void *rec,
			   size_t len);
int tape_label_scan_mark(struct tape_label_scan *s);
bool tape_label_scan_labelled(const struct tape_label_scan *s);
/* NULL when the tape has no VOL1 first. */
const struct tape_label_vol *tape_label_scan_volume(const struct tape_label_scan *s);
size_t tape_label_scan_count(const struct tape_label_scan *s);	/* kept */
uint64_t tape_label_scan_total(const struct tape_label_scan *s);	/* seen */
const struct tape_label_file_info *tape_label_scan_file(const struct tape_label_scan *s,
							 size_t i);
/* The first data record of file i when it is a VMS BACKUP saveset block
 * (tape_saveset_probe), else NULL. */
const struct tape_saveset_info *tape_label_scan_saveset(const struct tape_label_scan *s,
							 size_t i);
/* A sentence about the first label sequence problem, or NULL. */
const char *tape_label_scan_problem(const struct tape_label_scan *s);
void tape_label_scan_free(struct tape_label_scan *s);

/* ---- VMS BACKUP savesets ------------------------------------------------- */

struct tape_saveset_info {
	uint32_t block_size;	/* from the block header, offset 40 */
	uint32_t block_number;	/* offset 8 */
	char name[33];		/* the counted string at offset 48 */
};
/* Whether a block begins with a BACKUP block header: a little-endian
 * 16-bit 256 at offset 0 and a 32-bit block size at offset 40 within
 * BACKUP's /BLOCK_SIZE range, 2048..65535, and a counted name that fits.
 * len is what the caller has (at least 256 bytes are needed); the block
 * size is not required to equal len. 0 with *out filled, or -EINVAL. */
int tape_saveset_probe(const void *block, size_t len,
		       struct tape_saveset_info *out);

#endif
