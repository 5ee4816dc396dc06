/*
 * cmd_map.c - `reel map FILE|URL|-`: the record map of a tape image, file
 * by file, as the image streams past (nothing is held but the current
 * file's statistics). Exits 1 on a damaged image, naming the offset.
 * It only reads: it must never change the image or its manifest.
 */
#include "reel.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char map_usage[] =
"usage: reel map [--format F|auto] [--json] [transfer options] FILE|URL|-\n"
"\n"
"Reads a tape image from a file, '-' (stdin), a file:// URL or a server\n"
"(ftp://, ftps://) and prints, for each tape file (numbered from 1, as\n"
"mt fsf counts), its records, payload bytes and a histogram of record\n"
"sizes; then the number of tape marks, whether the image ends with end of\n"
"data (two marks in a row), whether end of medium was seen, and any error\n"
"with its byte offset. The file total counts tape files ended by a mark.\n"
"On an ANSI labelled tape each tape file also names the labels it holds or\n"
"the labelled file whose data it is, and a table of the labelled files\n"
"follows (volume, name, section, sequence, block length, block count,\n"
"creation date, VMS BACKUP saveset). When a manifest is beside the image,\n"
"the storeset and reel number it records are shown.\n"
"\n"
"  --format F   decode as F instead of sniffing it (auto)\n"
"  --json       one JSON object on stdout (fields in reel(1))\n"
"  --help       this text\n"
"\n"
"Exit status: 0 sound image, 1 damaged image or read failure, 2 bad usage.\n";

enum { O_FORMAT, O_JSON };

static const struct reel_opt map_opts[] = {
	{ "format", 0, true, O_FORMAT },
	{ "json", 0, false, O_JSON },
	{ NULL, 0, false, 0 },
};

struct map_ctx {
	struct reel_cli *cli;
	const char *name;
	const struct xfer_opts *xo;
	const char *shown;
	bool started;
	const struct tape_format *format;
	bool json;
	bool first_file;
	struct reel_scan *scan;
};

static int map_opt(void *vctx, int id, const char *v)
{
	struct map_ctx *c = vctx;
	if (id == O_JSON) {
		c->json = true;
		return 0;
	}
	return reel_cli_format(c->cli, v, true, &c->format);
}

static void json_hist(const struct reel_hist *h)
{
	printf("\"sizes\": [");
	for (size_t i = 0; i < h->n; i++)
		printf("%s{\"size\": %zu, \"count\": %" PRIu64 "}", i ? ", " : "",
		       h->bin[i].size, h->bin[i].count);
	printf("], \"other_sizes\": ");
	if (h->other)
		printf("{\"count\": %" PRIu64 ", \"min\": %zu, \"max\": %zu}",
		       h->other, h->other_min, h->other_max);
	else
		printf("null");
}

/* On a labelled tape: which labels a tape file holds, or whose data. */
static void json_file_labels(const struct reel_file *f)
{
	printf(", \"labels\": [");
	const char *p = f->labels;
	for (bool first = true; *p; first = false) {
		size_t k = strcspn(p, " ");
		printf("%s\"%.*s\"", first ? "" : ", ", (int)k, p);
		p += k + (p[k] == ' ');
	}
	printf("], \"data_of\": ");
	if (f->data_of) {
		printf("{\"file\": %" PRIu64 ", \"name\": ", f->data_of);
		reel_json_str(f->data_name);
		printf("}");
	} else {
		printf("null");
	}
}

static void map_file(void *vctx, const struct reel_file *f)
{
	struct map_ctx *c = vctx;
	/* The map cannot be written any more (a reader that went away, a
	 * full disk): stop reading the image; reel_stdout_finish says why. */
	if (reel_stdout_failed()) {
		c->scan->stop = true;
		return;
	}
	if (c->json) {
		printf("%s\n    {\"file\": %" PRIu64 ", \"records\": %" PRIu64
		       ", \"bytes\": %" PRIu64 ", \"offset\": %" PRIu64
		       ", \"ended_by_mark\": %s, ",
		       c->first_file ? "" : ",", f->number, f->records, f->bytes,
		       f->offset, f->ended ? "true" : "false");
		json_hist(&f->hist);
		if (f->labels[0] || f->data_of)
			json_file_labels(f);
		printf("}");
		c->first_file = false;
		reel_stdout_failed();	/* keeps errno while it is fresh */
		return;
	}
	char hist[1024];
	reel_hist_text(&f->hist, hist, sizeof(hist));
	printf("file %" PRIu64 ": %" PRIu64 " record%s, %" PRIu64 " bytes",
	       f->number, f->records, f->records == 1 ? "" : "s", f->bytes);
	if (f->records)
		printf(", at offset %" PRIu64 "; sizes: %s", f->offset, hist);
	if (!f->ended)
		printf(" (not ended by a tape mark)");
	if (f->labels[0])
		printf("; labels %s", f->labels);
	if (f->data_of) {
		char name[320];
		printf("; data of labelled file %" PRIu64 ", %s", f->data_of,
		       safetext(f->data_name, name, sizeof(name)));
	}
	printf("\n");
	reel_stdout_failed();	/* keeps errno while it is fresh */
}

/* The storeset and reel the manifest beside the image records (issue 11):
 * loaded once the image has begun to arrive, so a source that fails at
 * once prints only its own error. stdin has no manifest. */
static void map_set(struct map_ctx *c)
{
	struct tape_manifest m;
	char err[XFER_ERRLEN] = "";
	int rc = strcmp(c->name, "-") ?
		reel_manifest_load(c->name, c->xo, &m, err, sizeof(err)) : -ENOENT;
	if (c->json) {
		printf(",\n  \"storeset\": ");
		if (rc == 0 && m.storeset[0]) {
			printf("{\"id\": ");
			reel_json_str(m.storeset);
			printf(", \"reel\": %u, \"prev\": ", m.reel);
			char *p = m.prev_url ? reel_display(m.prev_url) : NULL;
			char *n = m.next_url ? reel_display(m.next_url) : NULL;
			if (p)
				reel_json_str(p);
			else
				printf("null");
			printf(", \"next\": ");
			if (n)
				reel_json_str(n);
			else
				printf("null");
			printf("}");
			free(p);
			free(n);
		} else {
			printf("null");
		}
		printf(", \"manifest_note\": ");
		if (rc < 0 && rc != -ENOENT)
			reel_json_str(err);
		else
			printf("null");
	} else if (rc == 0 && m.storeset[0]) {
		char set[128], p[1024] = "", n[1024] = "";
		char *ps = m.prev_url ? reel_display(m.prev_url) : NULL;
		char *ns = m.next_url ? reel_display(m.next_url) : NULL;
		if (ps)
			snprintf(p, sizeof(p), "; previous reel %s", ps);
		if (ns)
			snprintf(n, sizeof(n), "; next reel %s", ns);
		printf("storeset: %s, reel %u%s%s\n",
		       safetext(m.storeset, set, sizeof(set)), m.reel, p, n);
		free(ps);
		free(ns);
	} else if (rc < 0 && rc != -ENOENT) {
		char e[XFER_ERRLEN];
		printf("manifest: not read: %s\n", safetext(err, e, sizeof(e)));
	}
	if (rc == 0)
		tape_manifest_clear(&m);
}

static void map_start(void *vctx, const struct tape_format *f)
{
	struct map_ctx *c = vctx;
	(void)f;
	c->started = true;
	if (c->json) {
		printf("{\n  \"image\": ");
		reel_json_str(c->shown);
		map_set(c);
		printf(",\n  \"files\": [");
	} else {
		printf("image: %s\n", c->shown);
		map_set(c);
	}
}

static void map_json_end(const struct reel_scan *s)
{
	printf("\n  ],\n  \"format\": ");
	if (s->used)
		reel_json_str(tape_format_name(s->used));
	else
		printf("null");
	printf(",\n  \"file_count\": %" PRIu64 ", \"records\": %" PRIu64
	       ", \"payload_bytes\": %" PRIu64 ", \"image_bytes\": %" PRIu64
	       ", \"tape_marks\": %" PRIu64 ",\n",
	       s->counts.files, s->counts.records, s->counts.payload_bytes,
	       s->bytes_read, s->counts.marks);
	printf("  \"end_of_data\": %s, \"end_of_data_offset\": ", s->eod ? "true" : "false");
	if (s->eod)
		printf("%" PRIu64, s->eod_offset);
	else
		printf("null");
	printf(", \"data_after_end_of_data\": %s,\n", s->data_after_eod ? "true" : "false");
	printf("  \"end_of_medium\": %s, \"end_of_medium_offset\": ", s->eom ? "true" : "false");
	if (s->eom)
		printf("%" PRIu64, s->eom_offset);
	else
		printf("null");
	printf(",\n  \"error\": ");
	reel_json_scan_error(s);
	printf(",\n  \"labels\": ");
	reel_labels_json(&s->lbl);
	printf("\n}\n");
}

static void map_text_end(const struct reel_scan *s)
{
	if (s->damaged && s->cur.records)
		printf("file %" PRIu64 ": %" PRIu64 " records, %" PRIu64
		       " bytes before the damage\n", s->cur.number, s->cur.records,
		       s->cur.bytes);
	printf("format: %s\n", s->used ? tape_format_name(s->used) : "unknown");
	/* The total is the decoder's count, the one verify compares with the
	 * manifest: records after the last tape mark are not a file yet. */
	printf("total: %" PRIu64 " file%s%s, %" PRIu64 " records, %" PRIu64
	       " payload bytes, %" PRIu64 " image bytes\n", s->counts.files,
	       s->counts.files == 1 ? "" : "s",
	       s->unterminated ? " (and records after the last tape mark)" : "",
	       s->counts.records, s->counts.payload_bytes, s->bytes_read);
	printf("tape marks: %" PRIu64 "\n", s->counts.marks);
	if (s->eod)
		printf("end of data: yes, two tape marks at offset %" PRIu64 "%s\n",
		       s->eod_offset, s->data_after_eod ?
		       " (an earlier pair of marks is followed by data: an empty tape file)" : "");
	else
		printf("end of data: no (the image does not end with two tape marks)\n");
	if (s->eom)
		printf("end of medium: yes, at offset %" PRIu64 "\n", s->eom_offset);
	else
		printf("end of medium: no\n");
	if (s->lbl.labelled) {
		printf("labels:\n");
		reel_labels_text(&s->lbl, "  ");
	} else if (s->lbl.problem[0]) {
		char p[400];
		printf("labels: none; note: %s\n", safetext(s->lbl.problem, p, sizeof(p)));
	}
	if (s->damaged)
		printf("error: at offset %" PRIu64 " (%s): %s\n", s->err_offset,
		       tape_error_kind_name(s->err_kind), s->err_msg);
	else if (s->io_failed)
		printf("error: reading stopped after %" PRIu64 " bytes: %s\n",
		       s->bytes_read, s->io_msg);
}

int cmd_map(int argc, char **argv)
{
	struct xfer_opts xo;
	struct map_ctx c = { .first_file = true };
	struct reel_cli cli = {
		.cmd = "map", .usage = map_usage, .transfer = true,
		.opts = map_opts, .fn = map_opt, .ctx = &c, .xo = &xo,
	};
	int rc;

	xfer_opts_init(&xo);
	c.cli = &cli;
	rc = reel_cli_parse(&cli, argc, argv);
	if (rc >= 0)
		goto out;
	rc = reel_cli_one(&cli, "image", "name the image to map (a file, '-' or a URL)");
	if (rc >= 0)
		goto out;
	const char *name = cli.pos[0];
	char err[XFER_ERRLEN];
	struct reel_src *src = reel_src_open(name, &xo, err, sizeof(err));
	if (!src) {
		reel_error("%s", err);
		rc = REEL_EXIT_FAIL;
		goto out;
	}
	char *shown = reel_display(name);
	struct reel_scan s = { .name = name, .format = c.format, .on_file = map_file,
				.on_start = map_start, .ctx = &c, .labels = true };
	c.name = name;
	c.xo = &xo;
	c.shown = shown;
	c.scan = &s;
	int sr = reel_scan_run(&s, src);
	reel_src_close(src);
	if (s.stopped)
		;	/* the reader went away: nothing more to say */
	else if (c.started && c.json)
		map_json_end(&s);
	else if (c.started)
		map_text_end(&s);
	rc = REEL_EXIT_OK;
	if (sr > 0 && s.err_kind == TAPE_ERR_UNKNOWN && s.err_offset == 0) {
		reel_error("%s is not a tape image: its first bytes match none of "
			   "the formats %s.", shown, tape_format_names());
		rc = REEL_EXIT_FAIL;
	} else if (sr > 0) {
		reel_error("%s is damaged: %s", shown, s.err_msg);
		rc = REEL_EXIT_FAIL;
	} else if (sr < 0) {
		reel_error("%s", s.io_msg);
		rc = REEL_EXIT_FAIL;
	}
	rc = reel_stdout_finish(rc);
	reel_labels_free(&s.lbl);
	free(shown);
out:
	free(cli.pos);
	xfer_opts_free(&xo);
	return rc;
}
