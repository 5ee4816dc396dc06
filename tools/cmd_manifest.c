/*
 * cmd_manifest.c - `reel manifest URL|FILE`: prints the manifest published
 * beside an image (NAME.manifest.json), after checking that it parses, so
 * scripts and people can read it where it lives with the same credentials
 * as every other subcommand. It only reads.
 */
#include "reel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char manifest_usage[] =
"usage: reel manifest [transfer options] FILE|URL\n"
"\n"
"Prints the manifest beside the image FILE or URL (NAME.manifest.json:\n"
"format, counts, CRC32s, times, storeset, reel, prev and next; see\n"
"reel(1)), rewritten by reelfs's own formatter once it has parsed. Exit\n"
"status 1 when there is none or it is not a reelfs manifest.\n"
"\n"
"  --help       this text\n";

static const struct reel_opt manifest_opts[] = {
	{ NULL, 0, false, 0 },
};

static int manifest_opt(void *ctx, int id, const char *v)
{
	(void)ctx;
	(void)id;
	(void)v;
	return 0;
}

int cmd_manifest(int argc, char **argv)
{
	struct xfer_opts xo;
	struct reel_cli cli = {
		.cmd = "manifest", .usage = manifest_usage, .transfer = true,
		.opts = manifest_opts, .fn = manifest_opt, .xo = &xo,
	};
	struct tape_manifest m;
	char err[XFER_ERRLEN] = "";
	int rc;

	xfer_opts_init(&xo);
	rc = reel_cli_parse(&cli, argc, argv);
	if (rc >= 0)
		goto out;
	rc = reel_cli_one(&cli, "image", "name one image (a file or a URL)");
	if (rc >= 0)
		goto out;
	rc = REEL_EXIT_FAIL;
	int mr = reel_manifest_load(cli.pos[0], &xo, &m, err, sizeof(err));
	if (mr == -ENOENT) {
		char *shown = reel_display(cli.pos[0]);
		if (reel_exists(cli.pos[0], &xo, err, sizeof(err)) < 0)
			reel_error("%s", err);
		else
			reel_error("%s has no manifest beside it (%s%s).", shown,
				   "NAME", TAPE_MANIFEST_SUFFIX);
		free(shown);
		goto out;
	}
	if (mr < 0) {
		reel_error("%s", err);
		goto out;
	}
	char *json = tape_manifest_to_json(&m);
	tape_manifest_clear(&m);
	if (!json) {
		reel_error("out of memory.");
		goto out;
	}
	fputs(json, stdout);
	free(json);
	rc = reel_stdout_finish(REEL_EXIT_OK);
out:
	free(cli.pos);
	xfer_opts_free(&xo);
	return rc;
}
