/*
 * reel.c - the `reel` command: finds the subcommand and hands it argv.
 * Each subcommand lives in its own cmd_*.c file and parses its own
 * options; nothing else belongs here.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "reel.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *what;
} commands[] = {
	{ "ls", cmd_ls, "list the tapes in a directory (local or on a server)" },
	{ "map", cmd_map, "show the files, records and marks of a tape image" },
	{ "cat", cmd_cat, "write the data of one tape file to stdout" },
	{ "verify", cmd_verify, "decode an image and check it against its manifest" },
	{ "send", cmd_send, "write stdin as a tape image to a file or a server" },
	{ "cp", cmd_cp, "copy a tape to another place and format, record for record" },
	{ "manifest", cmd_manifest, "print the manifest published beside an image" },
};

static void usage(FILE *to)
{
	fprintf(to, "usage: reel COMMAND [OPTIONS] ...\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(to, "  %-9s %s\n", commands[i].name, commands[i].what);
	fprintf(to, "\n'reel COMMAND --help' describes each one; 'man reel' all of them.\n"
		    "Formats: %s.\n", tape_format_names());
}

int main(int argc, char **argv)
{
	rlog_set_program("reel");
	/* No core with a password in it; REELFS_PASSWORD leaves the
	 * environment (creds.c keeps the one copy). */
	xfer_secrets_init();
	/* A reader that stops early (`reel cat ... | head`) must not kill us
	 * mid-write; writes then fail with EPIPE, which cat handles quietly. */
	signal(SIGPIPE, SIG_IGN);

	if (argc < 2) {
		usage(stderr);
		return REEL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("reel (reelfs) %s\n", REELFS_VERSION);
		return reel_stdout_finish(REEL_EXIT_OK);
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return reel_stdout_finish(REEL_EXIT_OK);
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "reel: unknown command \"%s\"; see 'reel --help'.\n", argv[1]);
	return REEL_EXIT_USAGE;
}
