/*
 * cmd_cp.c - `reel cp SRC DST`: copies a tape from any place and format to
 * any other, record for record and mark for mark. The source (a path, '-',
 * file://, ftp://, ftps://, sftp://) is read through the streaming decoder
 * (copy.c), its format sniffed; the target is written through a volume
 * (fs/volume.h) as `reel send` writes one: NAME.part, renamed when
 * complete, with NAME.manifest.json beside it; or to stdout ('-').
 *
 * Memory is bounded by the transfer queues (--buffer) and one record: it
 * never holds the tape, and never spools to disk. It must never publish a
 * partial copy: any failure aborts the volume, leaving NAME.part, and says
 * so.
 */
#include "reel.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "volume.h"

static const char cp_usage[] =
"usage: reel cp [--format F] [--from-format F] [--label NAME[,VOLID]]\n"
"               [--volume VOLID] [--het-level N] [--chunk-size N]\n"
"               [transfer options] SRC DST\n"
"\n"
"Copies the tape image SRC to DST, record for record and mark for mark,\n"
"converting its format: SRC and DST are each '-' (stdin/stdout), a path,\n"
"file:///path, ftp://[user@]host[:port]/path, ftps://... or sftp://...\n"
"SRC's format is read from its bytes; DST's from its extension (.mtd .tap\n"
".e11 .aws .het) or --format. Except for stdout, DST is written as\n"
"NAME.part, renamed to NAME when complete, with NAME.manifest.json beside\n"
"it. Memory stays bounded (the transfer queues, --buffer, and one record).\n"
"\n"
"  --format F            DST's format (mtd, simh, e11, aws, het)\n"
"  --from-format F       read SRC as F instead of sniffing it\n"
"  --label NAME[,VOLID]  label an unlabelled SRC (ANSI, as VMS writes them):\n"
"                        each of its tape files becomes a labelled file, the\n"
"                        first called NAME, the next NAME_2, NAME_3...\n"
"  --volume VOLID        the volume id (default: from DST's name); alone, the\n"
"                        files are named by their saveset name or FILEnnnn\n"
"  --het-level N         zlib level for het, 1..9 (default 4)\n"
"  --chunk-size N        aws/het chunk size, 1..65535 (default 65535)\n"
"  --help                this text\n";

enum { O_FORMAT, O_FROM, O_HET_LEVEL, O_CHUNK, O_LABEL, O_VOLUME };

static const struct reel_opt cp_opts[] = {
	{ "format", 0, true, O_FORMAT },
	{ "from-format", 0, true, O_FROM },
	{ "het-level", 0, true, O_HET_LEVEL },
	{ "chunk-size", 0, true, O_CHUNK },
	{ "label", 0, true, O_LABEL },
	{ "volume", 0, true, O_VOLUME },
	{ NULL, 0, false, 0 },
};

struct cp {
	struct reel_cli *cli;
	const struct xfer_opts *xo;
	const struct tape_format *to, *from;
	struct tape_enc_options enc_opt;
	char *src_shown;
	const char *dst;
	/* --label / --volume */
	bool labelled, first_seen;
	char *name;			/* NULL: saveset name or FILEnnnn */
	char volid[TAPE_LABEL_VOLID + 8];
	struct reel_lab lab;
	/* the target: a volume, or an encoder writing to stdout */
	struct vol *vol;
	struct tape_enc *enc;
};

static int cp_opt(void *vctx, int id, const char *v)
{
	struct cp *c = vctx;
	uint64_t n;
	switch (id) {
	case O_FORMAT:
		return reel_cli_format(c->cli, v, false, &c->to);
	case O_FROM:
		return reel_cli_format(c->cli, v, false, &c->from);
	case O_HET_LEVEL:
		if (reel_cli_number(c->cli, "het-level", v, 1, 9, &n))
			return REEL_EXIT_USAGE;
		c->enc_opt.het_level = (int)n;
		return 0;
	case O_CHUNK:
		if (reel_cli_number(c->cli, "chunk-size", v, 1, 65535, &n))
			return REEL_EXIT_USAGE;
		c->enc_opt.chunk_size = (size_t)n;
		return 0;
	case O_LABEL:
	case O_VOLUME:
		return reel_cli_label(c->cli, id == O_LABEL, v, &c->name, c->volid,
				      sizeof(c->volid), &c->labelled);
	}
	return 0;
}

static int stdout_sink(void *ctx, const struct tape_slice *v, int n)
{
	(void)ctx;
	for (int i = 0; i < n; i++) {
		int rc = reel_out_write(v[i].base, v[i].len);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void target_failed(struct cp *c, int rc)
{
	if (c->enc)
		reel_error("writing the image to stdout failed (%s): %s; the image "
			   "is incomplete.", strerror(-rc), tape_enc_error(c->enc));
	else
		reel_error("%s", vol_error(c->vol));
}

/* The target is opened when the first record or mark is ready to go (or
 * at the end): a source that is no tape, missing or refused leaves no
 * NAME.part behind. 0, or -errno after a sentence. */
static int open_target(struct cp *c)
{
	char err[XFER_ERRLEN] = "";

	if (c->vol || c->enc)
		return 0;
	if (!strcmp(c->dst, "-")) {
		c->enc = tape_enc_new(c->to, &c->enc_opt, stdout_sink, NULL);
		if (!c->enc) {
			reel_error("out of memory.");
			return -ENOMEM;
		}
		return 0;
	}
	struct vol_config vc = {
		.url = c->dst, .xfer = c->xo, .format = c->to,
		.enc = c->enc_opt, .reel = 1,
	};
	c->vol = vol_open(&vc, err, sizeof(err));
	if (!c->vol) {
		reel_error("%s", err[0] ? err : "cannot open the target.");
		return -EIO;
	}
	return 0;
}

static int raw_record(void *ctx, const void *data, size_t len)
{
	struct cp *c = ctx;
	int rc = open_target(c);
	if (rc < 0)
		return rc;
	rc = c->enc ? tape_enc_record(c->enc, data, len)
			: vol_record(c->vol, data, len);
	if (rc < 0)
		target_failed(c, rc);
	return rc;
}

static int raw_mark(void *ctx)
{
	struct cp *c = ctx;
	int rc = open_target(c);
	if (rc < 0)
		return rc;
	rc = c->enc ? tape_enc_mark(c->enc) : vol_mark(c->vol);
	if (rc < 0)
		target_failed(c, rc);
	return rc;
}

static int put_record(void *ctx, const void *data, size_t len, uint64_t off)
{
	struct cp *c = ctx;
	size_t max = tape_format_max_record(c->to);
	if (len > max) {
		reel_error("%s: the record of %zu bytes at offset %" PRIu64 " is larger "
			   "than %s can hold (%zu bytes); copy it into mtd, simh or "
			   "e11 instead.", c->src_shown, len, off,
			   tape_format_name(c->to), max);
		return -EFBIG;
	}
	if (!c->labelled)
		return raw_record(c, data, len);
	if (!c->first_seen && tape_label_kind(data, len) == TAPE_LABEL_VOL1) {
		reel_error("%s is already labelled (its first record is a VOL1 "
			   "label); copy it without --label and --volume.",
			   c->src_shown);
		return -EINVAL;
	}
	c->first_seen = true;
	int rc = reel_lab_record(&c->lab, data, len);
	if (rc < 0 && c->lab.err[0])
		reel_error("%s: %s", c->src_shown, reel_lab_error(&c->lab));
	return rc;
}

static int put_mark(void *ctx, uint64_t off)
{
	struct cp *c = ctx;
	(void)off;
	if (!c->labelled)
		return raw_mark(c);
	c->first_seen = true;
	int rc = reel_lab_mark(&c->lab);
	if (rc < 0 && c->lab.err[0])
		reel_error("%s: %s", c->src_shown, reel_lab_error(&c->lab));
	return rc;
}

static void summary(struct cp *c, const char *dst, const struct reel_copy_in *in)
{
	struct tape_counts t;
	struct xfer_stats xs;
	bool remote = false;
	char *shown = reel_display(dst);

	if (c->enc) {
		tape_enc_counts(c->enc, &t);
	} else {
		struct vol_status st;
		vol_get_status(c->vol, &st);
		t = st.counts;
		xs = st.xfer;
		remote = reel_is_remote(dst);
	}
	reel_note("%s (%s) -> %s (%s): %" PRIu64 " file%s, %" PRIu64 " records, %"
		  PRIu64 " marks, %" PRIu64 " payload bytes, %" PRIu64 " image bytes, "
		  "CRC32 payload %08" PRIx32 "%s.", c->src_shown,
		  tape_format_name(in->used), shown ? shown : dst,
		  tape_format_name(c->to), t.files, t.files == 1 ? "" : "s",
		  t.records, t.marks, t.payload_bytes, t.image_bytes, t.payload_crc,
		  c->labelled ? " (labels added)" :
		  t.payload_crc == in->counts.payload_crc &&
		  t.records == in->counts.records ? " (the same as the source's)" :
		  " (the source's differs)");
	if (c->labelled)
		reel_note("labelled: volume %s, %u file%s.", c->volid, c->lab.files,
			  c->lab.files == 1 ? "" : "s");
	else if (t.marks > in->counts.marks)
		reel_note("%s does not end with two tape marks (end of data); the "
			  "copy ends with %" PRIu64 " more, as every image reel "
			  "writes does.", c->src_shown, t.marks - in->counts.marks);
	if (in->eom)
		reel_note("%s ends with an end-of-medium marker; nothing after it was "
			  "copied.", c->src_shown);
	if (remote) {
		char line[256];
		xfer_summary(&xs, line, sizeof(line));
		reel_note("%s; %.2f s elapsed, %.2f s CPU%s.", line, xs.elapsed, xs.cpu,
			  xs.verified ? "; read back, CRC32 verified" : "");
	}
	free(shown);
}

static int run(struct cp *c, const char *src_name, const char *dst)
{
	char err[XFER_ERRLEN] = "";
	struct reel_copy_in in = {
		.name = src_name, .format = c->from,
		.record = put_record, .mark = put_mark, .ctx = c,
	};
	struct reel_src *src = reel_src_open(src_name, c->xo, err, sizeof(err));
	int rc;

	if (!src) {
		reel_error("%s", err[0] ? err : "cannot open the source.");
		return -EIO;
	}
	c->dst = dst;
	if (c->labelled) {
		c->lab.name = c->name;
		c->lab.record = raw_record;
		c->lab.mark = raw_mark;
		c->lab.ctx = c;
		if (!c->volid[0])
			reel_lab_default_volid(dst, c->volid, sizeof(c->volid));
		if ((rc = reel_lab_open(&c->lab, c->volid, 0)) < 0) {
			reel_error("%s", reel_lab_error(&c->lab));
			goto fail;
		}
	}
	rc = reel_copy_read(&in, src);
	if (rc == 0)
		rc = open_target(c);
	if (rc < 0)
		goto fail;
	if (c->labelled && (rc = reel_lab_finish(&c->lab)) < 0) {
		if (c->lab.err[0])
			reel_error("%s", reel_lab_error(&c->lab));
		goto fail;
	}
	if (c->enc) {
		if ((rc = tape_enc_finish(c->enc)) < 0 || (rc = reel_out_flush()) < 0) {
			target_failed(c, rc);
			goto out;
		}
	} else if ((rc = vol_finish(c->vol)) < 0) {
		reel_error("%s", vol_error(c->vol));
		goto fail;
	}
	summary(c, dst, &in);
	goto out;
fail:
	if (c->vol) {
		vol_abort(c->vol);
		reel_error("nothing more was written; %s stays incomplete as %s.part.",
			   vol_url(c->vol), vol_url(c->vol));
	}
out:
	reel_src_close(src);
	return rc;
}

int cmd_cp(int argc, char **argv)
{
	struct xfer_opts xo;
	struct cp c = { 0 };
	struct reel_cli cli = {
		.cmd = "cp", .usage = cp_usage, .transfer = true,
		.opts = cp_opts, .fn = cp_opt, .ctx = &c, .xo = &xo,
	};
	char *dst = NULL;
	int rc;

	xfer_opts_init(&xo);
	c.cli = &cli;
	c.xo = &xo;
	rc = reel_cli_parse(&cli, argc, argv);
	if (rc >= 0)
		goto out;
	if (cli.npos != 2) {
		rc = reel_usage_error(&cli, "name a SRC and a DST (give 2 names, not %d)",
				      cli.npos);
		goto out;
	}
	const char *src = cli.pos[0];
	dst = strdup(cli.pos[1]);
	if (!dst) {
		reel_error("out of memory.");
		rc = REEL_EXIT_FAIL;
		goto out;
	}
	if (!strcmp(dst, "-") && isatty(1)) {
		reel_error("stdout is a terminal; a tape image is binary: redirect it "
			   "or name a DST.");
		rc = REEL_EXIT_USAGE;
		goto out;
	}
	if (!c.to && strcmp(dst, "-"))
		c.to = tape_format_from_path(dst);
	if (!c.to) {
		rc = reel_usage_error(&cli, "cannot tell DST's format from its name; "
				      "give --format (%s)", tape_format_names());
		goto out;
	}
	c.src_shown = reel_display(src);
	if (!c.src_shown) {
		reel_error("out of memory.");
		rc = REEL_EXIT_FAIL;
		goto out;
	}
	rc = run(&c, src, dst) < 0 ? REEL_EXIT_FAIL : REEL_EXIT_OK;
out:
	if (c.vol)
		vol_free(c.vol);
	if (c.enc)
		tape_enc_free(c.enc);
	reel_lab_free(&c.lab);
	free(c.name);
	free(c.src_shown);
	free(dst);
	free(cli.pos);
	xfer_opts_free(&xo);
	return rc;
}
