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
 * This file holds the options, the checks on them and the entry point;
 * cmd_send.h lists the files that do the rest.
 */
#include "cmd_send.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

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
	if (s.vms_file && (rc = send_open_saveset(&s)) >= 0)
		goto out;
	/* A file (--vms-saveset, or stdin redirected from one) is probed at
	 * once. A pipe is probed after the login: a producer may take long to
	 * write its first block, and a wrong password or an unreachable server
	 * must be said before it starts, not after. */
	struct stat in_st;
	s.probe_late = !s.vms_file && strcmp(target, "-") &&
		       !(fstat(s.in_fd, &in_st) == 0 && S_ISREG(in_st.st_mode));
	if (!s.probe_late && (rc = send_probe_input(&s)) != 0)
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
	rc = send_run(&s, s.urls[0]) < 0 ? REEL_EXIT_FAIL : REEL_EXIT_OK;
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
