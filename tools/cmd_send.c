/*
 * cmd_send.c - `reel send TARGET`: stdin, cut into fixed-size records by
 * the reblocker, framed as a tape image and written to '-' (stdout), a
 * path, file:// or a server. Every target but stdout goes through a volume
 * (fs/volume.h), so the image is published atomically with a manifest
 * beside it. With --capacity and --next URL... it writes a storeset: when
 * a reel is full the record that did not fit goes whole onto the next one.
 *
 * It must never leave a truncated image under the final name: any failure
 * aborts the volume, which leaves NAME.part, and says so.
 *
 * Labels (--label, --volume, --vms-saveset): the records go through the
 * label writer (label.c) before they reach the volume, each tape file a
 * labelled file. A VMS BACKUP saveset on stdin is recognised by its first
 * block header: its block size is the record size and its name the
 * default label name. --append copies the tape already at the target
 * into the new upload first (append.c) and publishes both over it.
 *
 * Storeset continuity: a reader (`reel cat`) joins reels by dropping the
 * two end-of-data marks that finish adds to each reel but the last. So a
 * reel must never end with a tape mark the user wrote: when the last thing
 * written to a full reel was such a mark, it is written again at the start
 * of the next reel, and the join keeps the file boundary.
 */
#include "reel.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "config.h"
#include "volume.h"

static const char send_usage[] =
"usage: reel send [--format F] [--block-size N] [--tapemark-every BYTES]\n"
"                 [--label NAME[,VOLID]] [--volume VOLID] [--append]\n"
"                 [--vms-saveset FILE]\n"
"                 [--capacity SIZE --next URL [--next URL ...]]\n"
"                 [--het-level N] [--chunk-size N] [--pad-last]\n"
"                 [transfer options] TARGET\n"
"\n"
"Reads stdin and writes it as a tape image to TARGET: '-' (stdout), a\n"
"path, file:///path, ftp://[user@]host[:port]/path or ftps://... Except\n"
"for stdout, the image is written as NAME.part, renamed to NAME when\n"
"complete, and NAME.manifest.json is written beside it.\n"
"\n"
"  --format F            container format; default from TARGET's extension\n"
"                        (.mtd .tap .e11 .aws .het), else mtd\n"
"  --block-size N        record size (default 10240, tar's record); the last\n"
"                        record may be short unless --pad-last\n"
"  --tapemark-every BYTES  a tape mark after each BYTES of input, so the\n"
"                        input becomes several tape files\n"
"  --capacity SIZE       image bytes per reel (e.g. 700M); with --next\n"
"  --next URL            the next reel of the storeset (repeat for more);\n"
"                        a full reel continues the same data on the next\n"
"  --het-level N         zlib level for het, 1..9 (default 4)\n"
"  --chunk-size N        aws/het chunk size, 1..65535 (default 65535)\n"
"  --pad-last            pad the last record to the block size with zeros\n"
"  --label NAME[,VOLID]  write an ANSI labelled tape (VOL1, HDR1-4, EOF1-4\n"
"                        as VMS writes them): stdin is the file NAME\n"
"  --volume VOLID        the volume id (default: from TARGET's name, at\n"
"                        most 6 letters and digits before its first '.')\n"
"  --append              keep the tape already at TARGET and add this file\n"
"                        after its files (the new image replaces the old\n"
"                        one when complete)\n"
"  --vms-saveset FILE    read the VMS BACKUP saveset FILE instead of stdin\n"
"                        and write it labelled: its block size, its name\n"
"\n"
"A VMS BACKUP saveset on stdin (each block begins with BACKUP's 256-byte\n"
"block header) is written in records of the block size its header names;\n"
"a --block-size that disagrees is refused; its name is the default label.\n"
"  --help                this text\n"
"\n"
"A one-line summary goes to stderr: files, records, bytes, CRC32s; for a\n"
"server also the bytes sent and the bytes the server holds.\n";

enum { O_FORMAT, O_BLOCK, O_MARK_EVERY, O_CAPACITY, O_NEXT, O_HET_LEVEL,
       O_CHUNK, O_PAD, O_LABEL, O_VOLUME, O_APPEND_TAPE, O_VMS };

static const struct reel_opt send_opts[] = {
	{ "format", 0, true, O_FORMAT },
	{ "block-size", 0, true, O_BLOCK },
	{ "tapemark-every", 0, true, O_MARK_EVERY },
	{ "capacity", 0, true, O_CAPACITY },
	{ "next", 0, true, O_NEXT },
	{ "het-level", 0, true, O_HET_LEVEL },
	{ "chunk-size", 0, true, O_CHUNK },
	{ "pad-last", 0, false, O_PAD },
	{ "label", 0, true, O_LABEL },
	{ "volume", 0, true, O_VOLUME },
	{ "append", 0, false, O_APPEND_TAPE },
	{ "vms-saveset", 0, true, O_VMS },
	{ NULL, 0, false, 0 },
};

struct send {
	struct reel_cli *cli;
	const struct xfer_opts *xo;
	/* options */
	const struct tape_format *format;
	uint64_t block, mark_every, capacity;
	char **urls;			/* target, then each --next */
	int nurls;
	struct tape_enc_options enc_opt;
	bool pad_last;
	bool block_given, volid_given;
	char reel_volid[TAPE_LABEL_VOLID + 8];	/* the open reel's VOL1 */
	bool switching;			/* ending a labelled reel: no checks */
	uint64_t data_on_reel;		/* labelled: data records on this reel */
	/* labels */
	bool labelled, append;
	char *name;			/* --label's NAME; NULL: saveset name */
	char volid[TAPE_LABEL_VOLID + 8];
	const char *vms_file;		/* --vms-saveset */
	int in_fd;			/* stdin, or the saveset file */
	unsigned char head[256];	/* the first bytes, read to probe */
	size_t head_len;
	bool head_eof;			/* the input ended within the head */
	bool probe_late;		/* a pipe: probed after the login */
	int probe_exit;			/* a late probe's refusal: the exit status */
	uint64_t in_size;		/* --vms-saveset: the file's size */
	const char *in_name;		/* "stdin" or the saveset file */
	bool saveset;
	struct tape_saveset_info ss;
	struct reel_lab lab;
	struct reel_append app;
	char lab_first[TAPE_LABEL_NAME_MAX + 1];	/* converted name, for the summary */
	/* stdout target */
	struct tape_enc *enc;
	/* volume targets */
	struct vol *vol;
	int reel;			/* index into urls of the open volume */
	char storeset[40];
	bool last_was_mark;		/* on the open reel */
	uint64_t reel_records;		/* records on the open reel */
	/* totals over all reels */
	struct tape_counts total;
	int failed;			/* an error was reported */
};

static int send_opt(void *vctx, int id, const char *v)
{
	struct send *s = vctx;
	uint64_t n;
	switch (id) {
	case O_FORMAT:
		return reel_cli_format(s->cli, v, false, &s->format);
	case O_BLOCK:
		if (reel_cli_size(s->cli, "block-size", v, &s->block))
			return REEL_EXIT_USAGE;
		if (s->block == 0)
			return reel_usage_error(s->cli, "--block-size must be at least 1");
		s->block_given = true;
		return 0;
	case O_MARK_EVERY:
		return reel_cli_size(s->cli, "tapemark-every", v, &s->mark_every);
	case O_CAPACITY:
		return reel_cli_size(s->cli, "capacity", v, &s->capacity);
	case O_NEXT:
		s->urls[s->nurls++] = (char *)v;
		return 0;
	case O_HET_LEVEL:
		if (reel_cli_number(s->cli, "het-level", v, 1, 9, &n))
			return REEL_EXIT_USAGE;
		s->enc_opt.het_level = (int)n;
		return 0;
	case O_CHUNK:
		if (reel_cli_number(s->cli, "chunk-size", v, 1, 65535, &n))
			return REEL_EXIT_USAGE;
		s->enc_opt.chunk_size = (size_t)n;
		return 0;
	case O_PAD:
		s->pad_last = true;
		return 0;
	case O_LABEL:
	case O_VOLUME:
		return reel_cli_label(s->cli, id == O_LABEL, v, &s->name, s->volid,
				      sizeof(s->volid), &s->labelled);
	case O_APPEND_TAPE:
		s->append = true;
		return 0;
	case O_VMS:
		s->vms_file = v;
		s->labelled = true;
		return 0;
	}
	return 0;
}

/* ---- stdout --------------------------------------------------------------- */

static int stdout_sink(void *ctx, const struct tape_slice *v, int n)
{
	struct iovec iov[16];
	(void)ctx;
	while (n > 0) {
		int k = n < 16 ? n : 16;
		for (int i = 0; i < k; i++) {
			iov[i].iov_base = (void *)v[i].base;
			iov[i].iov_len = v[i].len;
		}
		int first = 0;
		while (first < k) {
			ssize_t w = writev(1, iov + first, k - first);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			while (first < k && (size_t)w >= iov[first].iov_len) {
				w -= (ssize_t)iov[first].iov_len;
				first++;
			}
			if (first < k) {
				iov[first].iov_base = (char *)iov[first].iov_base + w;
				iov[first].iov_len -= (size_t)w;
			}
		}
		v += k;
		n -= k;
	}
	return 0;
}

/* One sentence for a failed stdout image: the cause in words (a reader
 * that went away is EPIPE), then the encoder's account of where. */
static void stdout_failed(struct send *s, int rc)
{
	reel_error("writing the image to stdout failed (%s): %s; the image is "
		   "incomplete.", strerror(-rc), tape_enc_error(s->enc));
}

/* ---- volumes -------------------------------------------------------------- */

static void add_counts(struct tape_counts *t, const struct tape_counts *c)
{
	t->files += c->files;
	t->records += c->records;
	t->marks += c->marks;
	t->payload_bytes += c->payload_bytes;
	t->image_bytes += c->image_bytes;
	/* CRCs are per reel; the summary shows the single reel's, or each. */
	t->payload_crc = c->payload_crc;
	t->image_crc = c->image_crc;
}

static void reel_summary(struct send *s, struct vol *v, const char *url)
{
	struct vol_status st;
	char *shown = reel_display(url);
	vol_get_status(v, &st);
	add_counts(&s->total, &st.counts);
	char where[96] = "";
	if (s->nurls > 1)
		snprintf(where, sizeof(where), " (reel %d of storeset %s)", s->reel + 1,
			 st.storeset_id);
	reel_note("%s%s: %s, %" PRIu64 " file%s, %" PRIu64 " records, %" PRIu64
		  " payload bytes, %" PRIu64 " image bytes, CRC32 payload %08" PRIx32
		  " image %08" PRIx32 ".", shown ? shown : url, where,
		  tape_format_name(s->format), st.counts.files,
		  st.counts.files == 1 ? "" : "s", st.counts.records,
		  st.counts.payload_bytes, st.counts.image_bytes,
		  st.counts.payload_crc, st.counts.image_crc);
	if (s->labelled)
		reel_note("labelled: volume %s, file%s %s%s (%u in all), block length "
			  "%" PRIu64 "%s.", s->reel_volid[0] ? s->reel_volid : s->volid,
			  s->lab.files > 1 ? "s from" : "",
			  s->lab_first, s->app.existed ? " appended" : "",
			  s->lab.files + s->lab.seq_base, s->block,
			  s->saveset ? ", a VMS BACKUP saveset" : "");
	if (reel_is_remote(url)) {
		char line[256];
		xfer_summary(&st.xfer, line, sizeof(line));
		reel_note("%s; %.2f s elapsed, %.2f s CPU%s.", line, st.xfer.elapsed,
			  st.xfer.cpu, st.xfer.verified ?
			  "; read back, CRC32 verified" : "");
	} else if (s->vms_file) {
		reel_note("wrote %" PRIu64 " bytes; %.2f s elapsed, %.2f s CPU.",
			  st.counts.image_bytes, st.xfer.elapsed, st.xfer.cpu);
	}
	free(shown);
}

static int open_reel(struct send *s, int i)
{
	struct vol_config c = {
		.url = s->urls[i],
		.xfer = s->xo,
		.format = s->format,
		.enc = s->enc_opt,
		.capacity = s->capacity,
		.storeset_id = s->storeset[0] ? s->storeset : NULL,
		.reel = (unsigned)i + 1,
		.prev_url = i > 0 ? s->urls[i - 1] : NULL,
		.next_url = i + 1 < s->nurls ? s->urls[i + 1] : NULL,
	};
	char err[XFER_ERRLEN] = "";
	s->vol = vol_open(&c, err, sizeof(err));
	if (!s->vol) {
		reel_error("%s", err[0] ? err : "cannot open the target.");
		return -EIO;
	}
	s->reel = i;
	s->last_was_mark = false;
	s->reel_records = 0;
	if (!s->storeset[0]) {
		struct vol_status st;
		vol_get_status(s->vol, &st);
		snprintf(s->storeset, sizeof(s->storeset), "%s", st.storeset_id);
	}
	return 0;
}

/* The data ended on a reel that was given a next URL it never needed: its
 * manifest must not point at a reel that does not exist, or `reel cat`
 * would look for it. Rewrites the manifest with next = null. */
static int fix_last_manifest(struct send *s)
{
	struct vol_status st;
	struct tape_manifest m;
	char err[XFER_ERRLEN] = "";

	vol_get_status(s->vol, &st);
	memset(&m, 0, sizeof(m));
	snprintf(m.format, sizeof(m.format), "%s", tape_format_name(s->format));
	m.counts = st.counts;
	m.start = st.start;
	m.end = st.end;
	snprintf(m.storeset, sizeof(m.storeset), "%s", st.storeset_id);
	m.reel = (unsigned)s->reel + 1;
	/* The same form the volume wrote (no password, bytes kept as they
	 * are), not reel_display's terminal-safe one. */
	m.prev_url = s->reel > 0 ? xfer_url_display(s->urls[s->reel - 1]) : NULL;
	snprintf(m.version, sizeof(m.version), "%s", REELFS_VERSION);
	vol_manifest_labels(s->vol, &m);
	char *json = tape_manifest_to_json(&m);
	free(m.labels);
	char *murl = reel_manifest_url(s->urls[s->reel]);
	int rc = -ENOMEM;
	if (json && murl)
		rc = xfer_put_small(murl, s->xo, json, strlen(json), err, sizeof(err));
	if (rc < 0)
		reel_error("the last reel is published, but its manifest could not "
			   "be corrected (it names an unused next reel): %s",
			   err[0] ? err : "out of memory");
	free(murl);
	free(json);
	free(m.prev_url);
	return rc;
}

static int next_reel(struct send *s)
{
	if (s->reel + 1 >= s->nurls) {
		/* run()'s failure path then says the reel stays as .part. */
		reel_error("%s is full (--capacity %" PRIu64 " bytes) and no --next URL "
			   "is left, but the input has more data.", vol_url(s->vol),
			   s->capacity);
		vol_abort(s->vol);
		return -ENOSPC;
	}
	int rc = vol_finish(s->vol);
	if (rc < 0) {
		reel_error("%s", vol_error(s->vol));
		return rc;
	}
	reel_summary(s, s->vol, s->urls[s->reel]);
	bool mark = s->last_was_mark;
	vol_free(s->vol);
	s->vol = NULL;
	rc = open_reel(s, s->reel + 1);
	if (rc < 0)
		return rc;
	if (mark && (rc = vol_mark(s->vol)) < 0) {
		reel_error("%s", vol_error(s->vol));
		return rc;
	}
	return 0;
}

/* ---- the record path ------------------------------------------------------ */

static int put_record(void *ctx, const void *rec, size_t len)
{
	struct send *s = ctx;
	int rc;

	if (s->enc) {
		rc = tape_enc_record(s->enc, rec, len);
		if (rc < 0) {
			stdout_failed(s, rc);
			return rc;
		}
		return 0;
	}
	/* A labelled storeset: refuse (quietly, nothing written) a record
	 * that would leave too little room to end the reel with its labels;
	 * the label writer stays usable and emit_record changes reels. */
	if (s->labelled && s->capacity && !s->switching &&
	    vol_check_room(s->vol, len + reel_lab_reserve_bytes(&s->lab)) == -ENOSPC)
		return -ENOSPC;
	for (;;) {
		rc = vol_record(s->vol, rec, len);
		if (rc == 0) {
			s->last_was_mark = false;
			s->reel_records++;
			return 0;
		}
		struct vol_status st;
		vol_get_status(s->vol, &st);
		if (rc != -ENOSPC || st.last_error[0]) {
			reel_error("%s", st.last_error[0] ? st.last_error : strerror(-rc));
			return rc;
		}
		if (s->reel_records == 0) {
			reel_error("a record of %zu bytes does not fit on an empty reel of "
				   "%" PRIu64 " bytes (--capacity).", len, s->capacity);
			return -ENOSPC;
		}
		if (s->labelled) {
			reel_error("%s has no room left for the labels that end it.",
				   vol_url(s->vol));
			return -ENOSPC;
		}
		if ((rc = next_reel(s)) < 0)
			return rc;
	}
}

static int put_mark(struct send *s)
{
	if (s->enc) {
		int rc = tape_enc_mark(s->enc);
		if (rc < 0)
			stdout_failed(s, rc);
		return rc;
	}
	int rc = vol_mark(s->vol);
	if (rc < 0) {
		reel_error("%s", vol_error(s->vol));
		return rc;
	}
	s->last_was_mark = true;
	return 0;
}

/* The label writer's way down to the volume (or stdout). */
static int lab_mark(void *ctx)
{
	return put_mark(ctx);
}

static void lab_failed(struct send *s)
{
	if (s->lab.err[0])
		reel_error("%s", reel_lab_error(&s->lab));
}

/* A labelled storeset's reel is full: EOV labels (or the volume's end,
 * between files) end it, the next reel is opened and starts with its own
 * VOL1 (volume id from its name) and, inside a file, the file's header
 * labels with the next section number. */
static int lab_next_reel(struct send *s)
{
	struct tape_lbl_cont cont;
	char volid[TAPE_LABEL_VOLID + 8];

	s->switching = true;
	int rc = reel_lab_end_reel(&s->lab, &cont);
	s->switching = false;
	if (rc < 0) {
		lab_failed(s);
		return rc;
	}
	s->last_was_mark = false;	/* the reel ends with EOV TM TM */
	if ((rc = next_reel(s)) < 0)
		return rc;
	reel_lab_default_volid(s->urls[s->reel], volid, sizeof(volid));
	snprintf(s->reel_volid, sizeof(s->reel_volid), "%s", volid);
	if ((rc = reel_lab_continue(&s->lab, volid, &cont)) < 0) {
		lab_failed(s);
		return rc;
	}
	s->data_on_reel = 0;
	return 0;
}

/* What the reblocker emits: a data record, labelled when asked. */
static int emit_record(void *ctx, const void *rec, size_t len)
{
	struct send *s = ctx;
	if (!s->labelled)
		return put_record(s, rec, len);
	int rc = reel_lab_record(&s->lab, rec, len);
	if (rc == -ENOSPC && s->capacity && !s->lab.err[0]) {
		if (s->data_on_reel == 0) {
			reel_error("a record of %zu bytes with its labels does not fit "
				   "on an empty reel of %" PRIu64 " bytes (--capacity).",
				   len, s->capacity);
			return rc;
		}
		if ((rc = lab_next_reel(s)) < 0)
			return rc;
		rc = reel_lab_record(&s->lab, rec, len);
	}
	if (rc < 0)
		lab_failed(s);
	else
		s->data_on_reel++;
	return rc;
}

/* The end of a tape file (--tapemark-every). */
static int file_mark(struct send *s)
{
	if (!s->labelled)
		return put_mark(s);
	int rc = reel_lab_mark(&s->lab);
	if (rc < 0)
		lab_failed(s);
	return rc;
}

/* Feeds the input to the reblocker, ending a tape file after each
 * mark_every bytes, so file boundaries fall exactly there. */
static int feed(struct send *s, struct tape_reblock *rb, const char *p, size_t n,
		uint64_t *in_file)
{
	while (n) {
		size_t take = n;
		if (s->mark_every && s->mark_every - *in_file < take)
			take = (size_t)(s->mark_every - *in_file);
		int rc = tape_reblock_write(rb, p, take);
		if (rc < 0)
			return rc;
		p += take;
		n -= take;
		*in_file += take;
		if (s->mark_every && *in_file == s->mark_every) {
			if ((rc = tape_reblock_flush(rb)) < 0 || (rc = file_mark(s)) < 0)
				return rc;
			*in_file = 0;
		}
	}
	return 0;
}

/* --append: what is on the tape decides what may follow it. */
static int check_append(struct send *s)
{
	char *shown = reel_display(s->urls[0]);
	int rc = -EINVAL;

	if (!s->app.existed) {
		reel_note("%s does not exist yet; --append starts a new tape.",
			  shown ? shown : s->urls[0]);
		rc = 0;
	} else if (s->app.labelled && !s->labelled) {
		reel_error("%s is a labelled tape (volume %s); add to it with "
			   "--label NAME.", shown ? shown : s->urls[0], s->app.volid);
	} else if (!s->app.labelled && s->labelled && s->app.records) {
		reel_error("%s is not labelled; --label adds a labelled file only to "
			   "a labelled tape (label it first: reel cp --volume VOLID).",
			   shown ? shown : s->urls[0]);
	} else if (s->app.labelled && s->volid_given &&
		   strcmp(s->volid, s->app.volid) != 0) {
		reel_error("%s is volume %s, not %s; leave --volume out to append "
			   "to it.", shown ? shown : s->urls[0], s->app.volid, s->volid);
	} else {
		if (s->app.labelled)
			snprintf(s->volid, sizeof(s->volid), "%s", s->app.volid);
		rc = 0;
	}
	free(shown);
	return rc;
}

/* Starts the label writer and the file stdin becomes (its labels wait
 * for nothing: the block length is known). */
static int open_labels(struct send *s)
{
	s->lab.name = s->name ? s->name : s->saveset ? s->ss.name : NULL;
	s->lab.block_len = (uint32_t)s->block;
	s->lab.record = put_record;
	s->lab.mark = lab_mark;
	s->lab.ctx = s;
	uint32_t base = s->app.labelled ? s->app.files : 0;
	int rc = reel_lab_open(&s->lab, s->volid, base);
	if (rc == 0)
		rc = reel_lab_begin(&s->lab, s->lab.name, (uint32_t)s->block,
				    s->head, s->head_len);
	if (rc < 0) {
		lab_failed(s);
		return rc;
	}
	if (s->lab.name)
		tape_label_name_convert(s->lab.name, s->lab_first);
	else
		snprintf(s->lab_first, sizeof(s->lab_first), "FILE%04u", base + 1);
	return 0;
}

/* --vms-saveset FILE: the input is FILE. -1 to go on, or an exit status. */
static int open_saveset(struct send *s)
{
	struct stat st;
	s->in_name = s->vms_file;
	s->in_fd = open(s->vms_file, O_RDONLY | O_CLOEXEC);
	if (s->in_fd < 0) {
		reel_error("%s: %s.", s->vms_file, errno == ENOENT ? "no such file" :
			   strerror(errno));
		return REEL_EXIT_FAIL;
	}
	if (fstat(s->in_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		reel_error("%s is not a regular file.", s->vms_file);
		return REEL_EXIT_FAIL;
	}
	s->in_size = (uint64_t)st.st_size;
	return -1;
}

/* The first bytes of the input, to recognise a saveset: what a VMS
 * BACKUP saveset names (block size, name) becomes the record size and
 * the default label, and a --block-size that disagrees is refused. */
static int probe_input(struct send *s)
{
	while (s->head_len < sizeof(s->head)) {
		ssize_t n = read(s->in_fd, s->head + s->head_len,
				 sizeof(s->head) - s->head_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			reel_error("reading %s failed: %s.", s->in_name, strerror(errno));
			return REEL_EXIT_FAIL;
		}
		if (n == 0) {
			s->head_eof = true;
			break;
		}
		s->head_len += (size_t)n;
	}
	s->saveset = tape_saveset_probe(s->head, s->head_len, &s->ss) == 0;
	if (!s->saveset) {
		if (s->vms_file) {
			reel_error("%s is not a VMS BACKUP saveset: its first block "
				   "does not begin with BACKUP's block header (256 at "
				   "offset 0, a block size of 2048 to 65535 at offset "
				   "40). Send other data with --label.", s->in_name);
			return REEL_EXIT_FAIL;
		}
		return 0;
	}
	if (s->block_given && s->block != s->ss.block_size) {
		return reel_usage_error(s->cli, "%s is a VMS BACKUP saveset \"%s\" "
					"written with /BLOCK_SIZE=%" PRIu32 "; --block-size "
					"%" PRIu64 " would cut its blocks apart: leave "
					"--block-size out", s->in_name, s->ss.name,
					s->ss.block_size, s->block);
	}
	s->block = s->ss.block_size;
	if (s->vms_file && s->in_size % s->block)
		reel_note("%s is %" PRIu64 " bytes, not a whole number of %" PRIu64
			  "-byte blocks: its last record is short (was it copied "
			  "in binary?).", s->in_name, s->in_size, s->block);
	if (!s->labelled)
		reel_note("%s is a VMS BACKUP saveset \"%s\" (block size %" PRIu32
			  "); without --label or --volume the tape is unlabelled, "
			  "and VMS BACKUP restores only from a labelled one.",
			  s->in_name, s->ss.name, s->ss.block_size);
	return 0;
}

static char *absolute_local(const char *name)
{
	if (reel_is_remote(name) || !strcmp(name, "-") ||
	    !strncmp(name, "file://", 7) || name[0] == '/')
		return strdup(name);
	char *cwd = getcwd(NULL, 0);
	if (!cwd)
		return strdup(name);
	char *out = malloc(strlen(cwd) + strlen(name) + 2);
	if (out)
		sprintf(out, "%s/%s", cwd, name);
	free(cwd);
	return out;
}

static int run(struct send *s, const char *target)
{
	struct tape_reblock *rb = NULL;
	char *buf = NULL;
	uint64_t in_file = 0;
	int rc = -ENOMEM;

	if (!strcmp(target, "-")) {
		s->enc = tape_enc_new(s->format, &s->enc_opt, stdout_sink, NULL);
		if (!s->enc)
			goto oom;
	} else {
		if (s->append) {
			/* What is there decides what may follow, before
			 * anything is uploaded. */
			s->app.url = target;
			s->app.xo = s->xo;
			s->app.record = put_record;
			s->app.mark = lab_mark;
			s->app.ctx = s;
			if ((rc = reel_append_copy(&s->app, true)) < 0 ||
			    (rc = check_append(s)) < 0)
				return rc;
		}
		if ((rc = open_reel(s, 0)) < 0)
			return rc;
		if (s->probe_late && (s->probe_exit = probe_input(s)) != 0) {
			rc = -EINVAL;
			goto fail;
		}
	}
	if (s->append && s->app.existed &&
	    (rc = reel_append_copy(&s->app, false)) < 0)
		goto fail;
	if (s->labelled && (rc = open_labels(s)) < 0)
		goto fail;
	rc = -ENOMEM;
	rb = tape_reblock_new((size_t)s->block, s->pad_last, emit_record, s);
	/* A whole number of blocks, filled before it is fed: then every full
	 * block leaves the reblocker straight from this buffer, uncopied,
	 * however the pipe happens to cut the stream. */
	size_t bufsize = (size_t)s->block * (REEL_CHUNK / s->block ? REEL_CHUNK / s->block : 1);
	buf = malloc(bufsize);
	if (!rb || !buf)
		goto oom;
	(void)fcntl(s->in_fd, F_SETPIPE_SZ, (int)REEL_CHUNK);	/* fewer wake-ups; a hint */
	memcpy(buf, s->head, s->head_len);	/* bufsize >= 256 or the head is all */
	for (bool eof = s->head_eof; !eof || s->head_len;) {
		size_t have = s->head_len;
		s->head_len = 0;
		while (!eof && have < bufsize) {
			ssize_t n = read(s->in_fd, buf + have, bufsize - have);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				rc = -errno;
				reel_error("reading %s failed: %s.", s->in_name, strerror(errno));
				goto fail;
			}
			if (n == 0) {
				eof = true;
				break;
			}
			have += (size_t)n;
		}
		if (have && (rc = feed(s, rb, buf, have, &in_file)) < 0)
			goto fail;
	}
	if ((rc = tape_reblock_flush(rb)) < 0)
		goto fail;
	if (s->labelled && (rc = reel_lab_finish(&s->lab)) < 0) {
		lab_failed(s);
		goto fail;
	}
	if (s->enc) {
		if ((rc = tape_enc_finish(s->enc)) < 0) {
			stdout_failed(s, rc);
			goto fail;
		}
		tape_enc_counts(s->enc, &s->total);
		reel_note("-: %s, %" PRIu64 " file%s, %" PRIu64 " records, %" PRIu64
			  " payload bytes, %" PRIu64 " image bytes, CRC32 payload %08"
			  PRIx32 " image %08" PRIx32 ".", tape_format_name(s->format),
			  s->total.files, s->total.files == 1 ? "" : "s",
			  s->total.records, s->total.payload_bytes,
			  s->total.image_bytes, s->total.payload_crc,
			  s->total.image_crc);
	} else {
		if ((rc = vol_finish(s->vol)) < 0) {
			reel_error("%s", vol_error(s->vol));
			goto fail;
		}
		/* The image is published whatever happens to the correction;
		 * a failed one is still a failure (cat would look for the
		 * unused reel), but no reason to call the image incomplete. */
		int fixed = 0;
		if (s->reel + 1 < s->nurls)
			fixed = fix_last_manifest(s);
		reel_summary(s, s->vol, s->urls[s->reel]);
		if (s->reel + 1 < s->nurls)
			reel_note("the data fit on %d reel%s; %d --next URL%s not used.",
				  s->reel + 1, s->reel ? "s" : "",
				  s->nurls - s->reel - 1,
				  s->nurls - s->reel - 1 == 1 ? " was" : "s were");
		if (fixed < 0) {
			rc = fixed;
			goto out;
		}
	}
	rc = 0;
	goto out;
oom:
	reel_error("out of memory.");
fail:
	if (s->vol) {
		vol_abort(s->vol);
		reel_error("nothing more was written; %s stays incomplete as %s.part.",
			   vol_url(s->vol), vol_url(s->vol));
	}
out:
	tape_reblock_free(rb);
	free(buf);
	return rc;
}

int cmd_send(int argc, char **argv)
{
	struct xfer_opts xo;
	struct send s = { .block = 10240, .in_fd = 0, .in_name = "stdin" };
	struct reel_cli cli = {
		.cmd = "send", .usage = send_usage, .transfer = true,
		.opts = send_opts, .fn = send_opt, .ctx = &s, .xo = &xo,
	};
	int rc;

	xfer_opts_init(&xo);
	s.cli = &cli;
	s.xo = &xo;
	s.urls = calloc((size_t)argc + 1, sizeof(*s.urls));
	if (!s.urls) {
		reel_error("out of memory.");
		return REEL_EXIT_FAIL;
	}
	s.nurls = 1;	/* slot 0 is the target, filled below */
	rc = reel_cli_parse(&cli, argc, argv);
	if (rc >= 0)
		goto out;
	rc = reel_cli_one(&cli, "TARGET", "name the TARGET ('-' for stdout, a path or a URL)");
	if (rc >= 0)
		goto out;
	const char *target = cli.pos[0];
	s.urls[0] = (char *)target;
	if (!strcmp(target, "-") && isatty(1)) {
		reel_error("stdout is a terminal; a tape image is binary: redirect it "
			   "or name a TARGET.");
		rc = REEL_EXIT_USAGE;
		goto out;
	}
	if (!strcmp(target, "-") && (s.nurls > 1 || s.capacity)) {
		rc = reel_usage_error(&cli, "--capacity and --next need a TARGET that is a file or a URL, not stdout");
		goto out;
	}
	if (s.nurls > 1 && !s.capacity) {
		rc = reel_usage_error(&cli, "--next needs --capacity, the size of each reel");
		goto out;
	}
	if (s.append && (!strcmp(target, "-") || s.capacity)) {
		rc = reel_usage_error(&cli, "--append needs a TARGET that is one file "
				      "or URL (not stdout, not a storeset)");
		goto out;
	}
	/* The new image, old files and new, replaces the old one: that is
	 * what --append asks for, whatever --overwrite said. */
	if (s.append)
		xo.overwrite = XFER_OVERWRITE_ALWAYS;
	s.volid_given = s.volid[0] != '\0';
	if (s.vms_file && (rc = open_saveset(&s)) >= 0)
		goto out;
	/* A file (--vms-saveset, or stdin redirected from one) is probed at
	 * once. A pipe is probed after the login: a producer may take long to
	 * write its first block, and a wrong password or an unreachable server
	 * must be said before it starts, not after. */
	struct stat in_st;
	s.probe_late = !s.vms_file && strcmp(target, "-") &&
		       !(fstat(s.in_fd, &in_st) == 0 && S_ISREG(in_st.st_mode));
	if (!s.probe_late && (rc = probe_input(&s)) != 0)
		goto out;
	rc = -1;
	if (s.labelled && !s.volid[0])
		reel_lab_default_volid(target, s.volid, sizeof(s.volid));
	if (!s.format)
		s.format = strcmp(target, "-") ? tape_format_from_path(target) : NULL;
	if (!s.format)
		s.format = tape_format_default();
	if (s.block > tape_format_max_record(s.format)) {
		rc = reel_usage_error(&cli, "--block-size %" PRIu64 " is larger than %s allows (%zu)",
				      s.block, tape_format_name(s.format),
				      tape_format_max_record(s.format));
		goto out;
	}
	/* Manifests name the other reels; local names must not depend on the
	 * directory a later reader runs in. */
	for (int i = 0; i < s.nurls; i++) {
		char *abs = absolute_local(s.urls[i]);
		if (!abs) {
			reel_error("out of memory.");
			s.nurls = i;	/* free only those already copied */
			rc = REEL_EXIT_FAIL;
			goto out_urls;
		}
		s.urls[i] = abs;
	}
	rc = run(&s, s.urls[0]) < 0 ? REEL_EXIT_FAIL : REEL_EXIT_OK;
	if (s.probe_exit)
		rc = s.probe_exit;
out_urls:
	for (int i = 0; i < s.nurls; i++)
		free(s.urls[i]);
	s.nurls = 0;
out:
	if (s.vol)
		vol_free(s.vol);
	if (s.enc)
		tape_enc_free(s.enc);
	reel_lab_free(&s.lab);
	free(s.name);
	if (s.in_fd > 0)
		close(s.in_fd);
	free(s.urls);
	free(cli.pos);
	xfer_opts_free(&xo);
	return rc;
}
