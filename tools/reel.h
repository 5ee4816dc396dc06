/*
 * reel.h - what the `reel` subcommands share: option parsing that forwards
 * transfer options to xfer_opts_set, an input source (path, '-', URL),
 * a decoding scan with per-file statistics, manifest loading and stdout
 * output. The subcommands themselves live in cmd_*.c, one file each.
 *
 * Nothing here spools to disk: remote data is streamed in bounded chunks.
 */
#ifndef REEL_H
#define REEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "labels.h"
#include "manifest.h"
#include "safetext.h"
#include "tape.h"
#include "xfer.h"

#define REEL_CHUNK (1u << 20)		/* bytes read per step from a source */
#define REEL_SNIFF_BYTES (64u * 1024)	/* ranged download used to sniff */
#define REEL_MANIFEST_MAX (TAPE_MANIFEST_MAX_TEXT + 1)	/* file index included */
#define REEL_AFTER_EOD_MAX (1u << 20)	/* read past end of data when the
					 * size is not known */

/* Exit statuses: 0 fine, 1 the tape or transfer failed, 2 bad usage. */
enum { REEL_EXIT_OK = 0, REEL_EXIT_FAIL = 1, REEL_EXIT_USAGE = 2 };

/* ---- subcommands ------------------------------------------------------- */

int cmd_map(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_manifest(int argc, char **argv);
int cmd_cp(int argc, char **argv);

/* ---- options (cli.c) --------------------------------------------------- */

struct reel_opt {
	const char *name;	/* long name without dashes */
	char short_name;	/* 0 when none */
	bool takes_value;
	int id;
};

/* Called for each subcommand option found; returns 0, or a positive exit
 * status after printing why. */
typedef int (*reel_opt_fn)(void *ctx, int id, const char *value);

struct reel_cli {
	const char *cmd;		/* "map", for messages */
	const char *usage;		/* --help text, transfer options appended */
	bool transfer;			/* whether transfer options are accepted */
	const struct reel_opt *opts;	/* ends with a NULL name */
	reel_opt_fn fn;
	void *ctx;
	struct xfer_opts *xo;
	char **pos;			/* positional arguments (point into argv);
					 * allocated by reel_cli_parse, caller frees */
	int npos;
};

/* Parses argv (argv[0] is the subcommand). Returns -1 to go on, or an exit
 * status: 0 after --help, 2 after a usage error (message printed). */
int reel_cli_parse(struct reel_cli *c, int argc, char **argv);
/* "reel CMD: message" on stderr, then returns REEL_EXIT_USAGE. */
int reel_usage_error(const struct reel_cli *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A size option: "64M", "10240"... into *out, or a usage error. */
int reel_cli_size(const struct reel_cli *c, const char *opt, const char *v,
		  uint64_t *out);
/* A whole number option in [min, max] into *out, or a usage error that
 * says what is wrong (not a number, too large, too small). */
int reel_cli_number(const struct reel_cli *c, const char *opt, const char *v,
		    uint64_t min, uint64_t max, uint64_t *out);
/* After reel_cli_parse, for subcommands that take exactly one argument:
 * -1 when there is one, else a usage error ("give one NOUN, not 3", or the
 * sentence missing when there is none). */
int reel_cli_one(const struct reel_cli *c, const char *noun, const char *missing);
/* --format's value: a format name, or "auto" (*out = NULL: sniff) when
 * allow_auto; 0, or a usage error naming the known formats. */
int reel_cli_format(const struct reel_cli *c, const char *v, bool allow_auto,
		    const struct tape_format **out);
/* --label NAME[,VOLID] (label true) or --volume VOLID: *name (malloc'd;
 * NULL when NAME is empty) and volid filled, *on set; 0 or a usage error
 * (a name longer than labels hold, a volume id of more than 6). */
int reel_cli_label(const struct reel_cli *c, bool label, const char *v,
		   char **name, char *volid, size_t volid_len, bool *on);
/* One clear sentence on stderr: "reel: ...". */
void reel_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void reel_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- names and URLs (source.c) ------------------------------------------ */

/* Whether name is read through the transfer library (ftp://, ftps://,
 * sftp://...), as opposed to a local path, file:// URL or '-'. */
bool reel_is_remote(const char *name);
/* The local path of a plain path or file:// URL (malloc'd), or NULL. */
char *reel_local_path(const char *name);
/* The name of a sibling file beside name (local or remote), malloc'd. */
char *reel_sibling(const char *name, const char *sibling);
/* The last component of name, malloc'd. */
char *reel_basename(const char *name);
/* The name as shown in messages (password stripped, control bytes shown
 * as '?'), malloc'd. */
char *reel_display(const char *name);

/* ---- input source (source.c) ------------------------------------------- */

struct reel_src;

/* A local path, '-' (stdin), file:///path or a remote URL. Fails with a
 * sentence for a missing file, a directory, a refused login... */
struct reel_src *reel_src_open(const char *name, const struct xfer_opts *o,
			       char *err, size_t errlen);
/* Up to len bytes; 0 at the end; a negative errno with reel_src_error. */
ssize_t reel_src_read(struct reel_src *s, void *buf, size_t len);
/* Reads until want bytes or the end: the count (short only at the end),
 * or a negative errno. For a first sample to sniff the format from. */
ssize_t reel_src_fill(struct reel_src *s, void *buf, size_t want);
const char *reel_src_error(struct reel_src *s);
/* Whether reading stops by itself: a local file, or a download whose size
 * the server declared. A scan of an unbounded source stops soon after
 * the image's end of data instead of reading whatever else comes. */
bool reel_src_bounded(struct reel_src *s);
void reel_src_close(struct reel_src *s);

/* name, a plain file name, in the directory dirfd: opened without following
 * a symbolic link, and only when it is a regular file; url is the name
 * shown in messages. NULL with err filled. */
struct reel_src *reel_src_open_at(int dirfd, const char *name, const char *url,
				  char *err, size_t errlen);

/* 0 when name exists (a file), else a negative errno with err filled. */
int reel_exists(const char *name, const struct xfer_opts *o, char *err,
		size_t errlen);

/* The whole of a small file (a manifest), at most max bytes; malloc'd in
 * *out. -ENOENT when it does not exist, -EFBIG when larger than max. */
int reel_read_small(const char *name, const struct xfer_opts *o, size_t max,
		    char **out, size_t *len, char *err, size_t errlen);

/* Where the manifest of image lives: NAME.manifest.json beside it;
 * malloc'd, NULL when out of memory. */
char *reel_manifest_url(const char *image);
/* The manifest beside image name: 0, -ENOENT when there is none, or
 * -EINVAL / another errno with err filled. */
int reel_manifest_load(const char *image, const struct xfer_opts *o,
		       struct tape_manifest *m, char *err, size_t errlen);

/* The same for the image name in the directory dirfd (url is its name for
 * messages): the manifest is opened as reel_src_open_at opens an image. */
int reel_manifest_load_at(int dirfd, const char *name, const char *url,
			  struct tape_manifest *m, char *err, size_t errlen);

/* ---- where a storeset's links may lead (links.c) -------------------------- */

/* The place of the reel named on the command line: its directory, held
 * open (local), or its scheme, user, host, port and directory (remote). A
 * link in a manifest is followed only into this place. */
struct reel_home {
	bool remote;
	int dirfd;			/* local: the directory, O_PATH */
	dev_t dev;			/* local: its identity */
	ino_t ino;
	char *scheme, *user, *host, *dir;	/* remote; user NULL when none */
	unsigned long port;
	bool user_fixed;		/* --user names the login for every reel */
};

/* Sets up h from the reel named; 0, or -errno with err filled. */
int reel_home_open(struct reel_home *h, const char *named,
		   const struct xfer_opts *o, char *err, size_t errlen);
void reel_home_close(struct reel_home *h);
/* Whether link (resolved against the reel that names it) leads to a file
 * in h's directory: 0 with *name its file name (malloc'd: no '/', not "."
 * or ".."; a local one is no symbolic link), or -EPERM with why filled: a
 * phrase saying where it leads instead. */
int reel_home_check(const struct reel_home *h, const char *link, char **name,
		    char *why, size_t whylen);

/* ---- choosing a format --------------------------------------------------- */

/* The format to decode with: sniffed from the first bytes, refined by the
 * name's extension within the same framing family (mtd/simh/e11 share
 * framing; aws/het share headers). NULL when the bytes match no format. */
const struct tape_format *reel_pick_format(const char *name, const void *head,
					   size_t len);

/* ---- copying a tape (copy.c) --------------------------------------------- */

/* Reads an image through the decoder and hands on each record and tape
 * mark in order (off: its image offset); a callback returns 0, or a
 * negative errno after telling why, which stops the copy. */
struct reel_copy_in {
	const char *name;		/* for messages and the extension hint */
	const struct tape_format *format;	/* NULL: sniffed */
	int (*record)(void *ctx, const void *data, size_t len, uint64_t off);
	int (*mark)(void *ctx, uint64_t off);
	void *ctx;
	/* out */
	const struct tape_format *used;
	bool eom;			/* stopped at an end-of-medium marker */
	struct tape_counts counts;
};
/* 0 when the whole image was read and its framing is sound; else a
 * negative errno with a sentence told (damage, a failed read, not a tape
 * image) or the callback's value. */
int reel_copy_read(struct reel_copy_in *c, struct reel_src *src);

/* ---- the labels of a tape, for listings (lblview.c) ----------------------- */

#define REEL_LABEL_FILES_MAX 1024	/* labelled file sections kept per tape */

struct reel_lbl_file {
	struct tape_label_file_info info;
	bool counted;			/* block_count is known (EOF1/EOV1 read) */
	bool saveset;			/* its first block is a VMS BACKUP block */
	struct tape_saveset_info ss;
};

/* What the listings show of a labelled tape; all zero for an unlabelled
 * one. Bounded: at most REEL_LABEL_FILES_MAX file sections are kept. */
struct reel_labels {
	bool labelled;			/* the tape starts with VOL1 */
	struct tape_label_vol vol;
	struct reel_lbl_file *f;	/* n kept (cap allocated) of total seen */
	size_t n, cap;
	uint64_t total;
	bool first_only;		/* only the head of the image was read */
	char problem[256];		/* the first label problem, or "" */
	const char *from;		/* "image", "head" or "manifest": where
					 * the picture was read */
};

/* Copies a finished (or stopped) scan's picture into l. */
int reel_labels_from_scan(struct reel_labels *l, const struct tape_label_scan *s);
/* The labels a manifest recorded (m->labels_recorded) into l. */
int reel_labels_from_manifest(struct reel_labels *l, const struct tape_manifest *m);
/* One more file section: counted in total; NULL when not kept (the
 * bound, or out of memory). */
struct reel_lbl_file *reel_labels_add(struct reel_labels *l);
/* Keeps the first problem only. */
void reel_labels_problem(struct reel_labels *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The volume line and a table of the files, each line starting with
 * indent; nothing for an unlabelled tape is the caller's business. */
void reel_labels_text(const struct reel_labels *l, const char *indent);
/* The JSON object (fields in reel(1)), or null when unlabelled and no
 * problem was found. */
void reel_labels_json(const struct reel_labels *l);
void reel_labels_free(struct reel_labels *l);

/* `reel ls -l` (ls_labels.c): the labels of the image name over the
 * session, from whole (its bytes when the caller already read all size of
 * them) or a read of at most REEL_LABEL_HEAD bytes of its head. 0 with out
 * filled (first_only when the head alone was read), or -errno with err. */
#define REEL_LABEL_HEAD (72u * 1024)	/* labels and a 64 KiB first block */
int reel_ls_labels(struct xfer_session *ses, const char *name,
		   const struct tape_format *f, uint64_t size, const void *whole,
		   struct reel_labels *out, char *err, size_t errlen);

/* ---- labelled output (label.c) ------------------------------------------- */

/* An unlabelled stream of records and marks written as ANSI labelled files
 * (encoder/labels.h) to record/mark: each tape file one labelled file. */
struct reel_lab {
	/* in: set before reel_lab_open */
	const char *name;		/* first file's name; NULL: saveset name
					 * or FILEnnnn */
	uint32_t block_len;		/* HDR2 block length of the files begun
					 * by a record; 0: that record's length */
	int (*record)(void *ctx, const void *data, size_t len);
	int (*mark)(void *ctx);
	void *ctx;
	/* private */
	struct tape_lbl *l;
	unsigned files, pending;
	bool in_file, drop_vol1, sink_failed;
	uint32_t seq_base;
	char err[256];
};
/* seq_base: 0 for a new tape; for an append, the files already on it
 * (the writer's VOL1 is then dropped). 0, or -EINVAL (a bad volume id)
 * with reel_lab_error saying why. */
int reel_lab_open(struct reel_lab *b, const char *volid, uint32_t seq_base);
/* Starts a file now (its labels wait for the first record when block_len
 * is 0); name NULL: named from first (a saveset block) or FILEnnnn. */
int reel_lab_begin(struct reel_lab *b, const char *name, uint32_t block_len,
		   const void *first, size_t first_len);
/* A record (starting a file when none is open), a mark (ending it). */
int reel_lab_record(struct reel_lab *b, const void *data, size_t len);
int reel_lab_mark(struct reel_lab *b);
/* Ends the file in progress and the volume. Failures: reel_lab_error
 * says why when the writer failed (empty when record/mark failed: they
 * told their own). */
int reel_lab_finish(struct reel_lab *b);
const char *reel_lab_error(struct reel_lab *b);
/* A storeset: the reel is full; ends it (EOV labels inside a file) and
 * fills cont; then reel_lab_continue goes on on the next reel (its VOL1
 * volid, the continued file's HDR labels with the next section number). */
int reel_lab_end_reel(struct reel_lab *b, struct tape_lbl_cont *cont);
int reel_lab_continue(struct reel_lab *b, const char *volid,
		      const struct tape_lbl_cont *cont);
/* Image bytes the labels still need to end the reel properly (an upper
 * bound for every format), as the writer reserves it during a call. */
uint64_t reel_lab_reserve_bytes(const struct reel_lab *b);
void reel_lab_free(struct reel_lab *b);
/* A volume id from a target's name: its letters and digits before the
 * first '.', upper case, at most 6; "REEL01" when none. */
void reel_lab_default_volid(const char *target, char *out, size_t len);

/* ---- appending to a tape (append.c) ---------------------------------------- */

/* Copies the tape at url, when it exists, to record/mark, less its end of
 * data (its last file keeps its own mark). */
struct reel_append {
	const char *url;
	const struct xfer_opts *xo;
	int (*record)(void *ctx, const void *data, size_t len);
	int (*mark)(void *ctx);
	void *ctx;
	/* out */
	bool existed;			/* false: no tape there, nothing copied */
	bool labelled;			/* it starts with VOL1 */
	char volid[TAPE_LABEL_VOLID + 1];
	uint32_t files;			/* labelled: highest HDR1 sequence number */
	uint64_t records, marks;
	unsigned pending;
	bool probe;
};
/* 0, or a negative errno after a sentence (damaged, unreadable). With
 * probe, only the first record is read (to fill labelled and volid; no
 * record or mark is handed on). */
int reel_append_copy(struct reel_append *a, bool probe);

/* ---- decoding scan (scan.c) --------------------------------------------- */

#define REEL_HIST_MAX 24

struct reel_hist_bin {
	size_t size;
	uint64_t count;
};

/* Record sizes of one tape file: exact counts for the first REEL_HIST_MAX
 * distinct sizes, then one "other" bin, so memory stays bounded. */
struct reel_hist {
	size_t n;
	struct reel_hist_bin bin[REEL_HIST_MAX];
	uint64_t other;
	size_t other_min, other_max;
};

struct reel_file {
	uint64_t number;	/* from 1 */
	uint64_t offset;	/* image offset of its first element */
	uint64_t records, bytes;
	bool ended;		/* by a tape mark (else by the end of input) */
	struct reel_hist hist;
	/* With reel_scan.labels, on a labelled tape: the labels this tape
	 * file holds ("VOL1 HDR1 HDR2 HDR3"), or, for the data between a
	 * header group and its trailer, which labelled file it is (from 1,
	 * 0 when none) and that file's name. */
	char labels[64];
	uint64_t data_of;
	char data_name[TAPE_LABEL_NAME_MAX + 1];
};

struct reel_scan {
	/* in */
	const char *name;		/* for messages and the extension hint */
	const struct tape_format *format;	/* NULL: sniff (auto) */
	void (*on_file)(void *ctx, const struct reel_file *f);
	void *ctx;
	bool drain;			/* after damage, read on to count the bytes */
	/* A reel cut by a full server (its manifest's truncated_at): only the
	 * first `limit` bytes are decoded; the rest is read and counted in
	 * bytes_read and counts.image_crc, not decoded. */
	bool limited;
	uint64_t limit;
	bool stop;			/* on_file may set it to stop reading early */
	bool labels;			/* read ANSI labels too: lbl, and the label
					 * fields of each reel_file */
	/* Called once the first bytes have arrived (so a source that fails at
	 * once prints only its error); may be NULL. */
	void (*on_start)(void *ctx, const struct tape_format *f);
	/* out */
	const struct tape_format *used;
	struct tape_counts counts;
	uint64_t files;			/* tape files reported through on_file,
					 * the unterminated last one included */
	bool unterminated;		/* records follow the last tape mark */
	/* End of data means the image ENDS with two tape marks in a row (the
	 * decoder's tape_dec_at_eod()): a pair of marks with records after it
	 * is an empty tape file, not the end, so a reel cut short after such
	 * a pair must not pass for complete. */
	bool eod;			/* the image ends with end of data */
	uint64_t eod_offset;		/* offset of the first of those two */
	bool data_after_eod;		/* an earlier pair had records after it */
	bool eom;
	uint64_t eom_offset;
	bool damaged;			/* the decoder reported an error */
	enum tape_error_kind err_kind;
	uint64_t err_offset;
	char err_msg[512];
	bool stopped;			/* ended early because of stop; the rest
					 * of the out fields are partial */
	bool io_failed;			/* reading the source failed */
	char io_msg[XFER_ERRLEN];
	uint64_t bytes_read;		/* image bytes read (all of them with drain) */
	struct reel_labels lbl;		/* with labels: what they say (the caller
					 * frees it with reel_labels_free) */
	/* private */
	struct reel_file cur;
	bool prev_mark;
	uint64_t prev_mark_offset;
	bool pair_open;			/* two marks in a row, no record since */
	struct tape_label_scan *ls;
	bool ls_after_hdr;		/* the tape file before was a header group */
	uint64_t ls_index;		/* ...of labelled file ls_index (from 1) */
	char ls_name[TAPE_LABEL_NAME_MAX + 1];
};

/* Reads src to its end through the decoder. Returns 0 when the framing is
 * sound to the end, 1 when the image is damaged (err_* set), -errno when
 * the source failed (io_msg set). */
int reel_scan_run(struct reel_scan *s, struct reel_src *src);
/* One-line description of a histogram: "10240 x 12, 512 x 1". */
void reel_hist_text(const struct reel_hist *h, char *buf, size_t len);

/* ---- locating damage (locate.c) ------------------------------------------ */

struct reel_flip {
	uint64_t offset;	/* byte offset in the text the CRC covers */
	unsigned bit;		/* 0..7: the byte's bit of value 1 << bit */
};

/* Every single-bit flip in a text of len bytes that turns CRC-32 want into
 * got; the first max go to out. Returns how many there are (0 when none:
 * more than one bit differs). Reads no data. */
size_t reel_crc_flips(uint32_t got, uint32_t want, uint64_t len,
		      struct reel_flip *out, size_t max);

/* After a verify whose framing and sizes agree but whose CRCs do not:
 * names, on stderr, the image offset of a single flipped bit when both
 * CRCs confirm it (SIMH-framed formats), or the one candidate the image
 * CRC allows, or says that more than one bit differs. Reads the image a
 * second time only when there is a candidate to place. Images over 1 GiB
 * are not searched (minutes of CPU); it says so instead. */
void reel_locate_damage(const char *name, const struct xfer_opts *o,
			const struct tape_format *f, const struct tape_counts *got,
			const struct tape_counts *want);

/* ---- output (out.c) ------------------------------------------------------ */

/* Buffered stdout for streams of records. EPIPE (a reader like `head`
 * that stopped) is reported as -EPIPE so callers can end quietly. */
int reel_out_write(const void *p, size_t n);
int reel_out_flush(void);

/* Flushes stdio's stdout at the end of a subcommand: returns rc, or
 * REEL_EXIT_FAIL after a sentence when the output could not be written
 * (a full disk must not look like success). EPIPE, a reader that stopped
 * early (`| head`), is not a failure and stays quiet. */
int reel_stdout_finish(int rc);
/* Whether a stdio write to stdout has failed (its errno is kept for
 * reel_stdout_finish); lets a long listing stop early. */
bool reel_stdout_failed(void);
/* "2026-11-21T07:40:33Z" into buf (at least 21 bytes); "-" for 0. */
void reel_iso_time(time_t t, char *buf, size_t len);
/* Names from a server listing or a manifest are shown through
 * safetext(s, buf, len) (ftp/safetext.h): no escape sequence gets out. */
/* A JSON string literal of s on stdout (not UTF-8: U+FFFD; C0, DEL, C1
 * and bidi controls as \u escapes). */
void reel_json_str(const char *s);
/* A scan's error as JSON on stdout: {offset, kind, message}, or null. */
void reel_json_scan_error(const struct reel_scan *s);

#endif
