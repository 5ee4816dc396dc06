/*
 * cmd_send.h - what the files of `reel send` share (not used by other
 * subcommands): the state of one send, and the steps each file provides.
 *
 *   cmd_send.c         options, checks on them, the entry point
 *   cmd_send_input.c   the input: --vms-saveset, the saveset probe
 *   cmd_send_run.c     the transfer loop: stdin through the reblocker
 *   cmd_send_inplace.c the same framing in place, for unlabelled uploads
 *   cmd_send_record.c  records and marks down to stdout or the volume
 *   cmd_send_label.c   the label writer's place in that path, --append
 *   cmd_send_reel.c    reels of a storeset: open, change, summarise
 *
 * Functions return 0 or a negative errno after saying why on stderr,
 * unless their comment says they return an exit status.
 */
#ifndef REEL_CMD_SEND_H
#define REEL_CMD_SEND_H

#include "reel.h"
#include "volume.h"

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

/* ---- the input (cmd_send_input.c) -------------------------------------- */

/* --vms-saveset FILE: the input is FILE. -1 to go on, or an exit status. */
int send_open_saveset(struct send *s);
/* Reads the first bytes and recognises a VMS BACKUP saveset: 0 to go on,
 * or an exit status. */
int send_probe_input(struct send *s);

/* ---- the transfer loop (cmd_send_run.c) -------------------------------- */

/* Writes the whole input to target ('-' or the first reel). */
int send_run(struct send *s, const char *target);

/* ---- framing in place (cmd_send_inplace.c) ----------------------------- */

/* Whether the open reel can take the input framed in place. */
bool send_in_place_ok(const struct send *s);
/* The whole input, framed in place; cuts the tape files as the copying
 * loop does. */
int send_run_in_place(struct send *s);

/* ---- records and marks (cmd_send_record.c) ----------------------------- */

/* The stdout encoder's sink: writev(2) to fd 1. */
int send_stdout_sink(void *ctx, const struct tape_slice *v, int n);
void send_stdout_failed(struct send *s, int rc);
/* One record (ctx: the send) to stdout or the open reel, changing reels
 * of an unlabelled storeset when one is full. */
int send_put_record(void *ctx, const void *rec, size_t len);
int send_put_mark(struct send *s);

/* ---- labels and --append (cmd_send_label.c) ---------------------------- */

int send_lab_mark(void *ctx);		/* the label writer's mark */
void send_lab_failed(struct send *s);	/* says the label writer's error */
/* What the reblocker emits: a data record, labelled when asked. */
int send_emit_record(void *ctx, const void *rec, size_t len);
/* The end of a tape file (--tapemark-every). */
int send_file_mark(struct send *s);
int send_check_append(struct send *s);
int send_open_labels(struct send *s);

/* ---- reels (cmd_send_reel.c) ------------------------------------------- */

int send_open_reel(struct send *s, int i);	/* urls[i] as reel i+1 */
/* Finishes the full reel and opens the next one (-ENOSPC when none). */
int send_next_reel(struct send *s);
/* The data ended on a reel that was given a next URL it never needed:
 * rewrites its manifest with next = null. */
int send_fix_last_manifest(struct send *s);
void send_reel_summary(struct send *s, struct vol *v, const char *url);

#endif
