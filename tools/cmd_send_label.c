/*
 * cmd_send_label.c - labels in `reel send` (--label, --volume,
 * --vms-saveset): the records go through the label writer (label.c)
 * before they reach the volume, each tape file a labelled file; a full
 * reel of a labelled storeset ends with EOV labels and the next begins
 * with its own VOL1. --append's check of the tape already at the target.
 *
 * The label writer must stay usable after a refused record: a reel
 * change retries the same record on the next reel.
 */
#include "cmd_send.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The label writer's way down to the volume (or stdout). */
int send_lab_mark(void *ctx)
{
	return send_put_mark(ctx);
}

void send_lab_failed(struct send *s)
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
		send_lab_failed(s);
		return rc;
	}
	s->last_was_mark = false;	/* the reel ends with EOV TM TM */
	if ((rc = send_next_reel(s)) < 0)
		return rc;
	reel_lab_default_volid(s->urls[s->reel], volid, sizeof(volid));
	snprintf(s->reel_volid, sizeof(s->reel_volid), "%s", volid);
	if ((rc = reel_lab_continue(&s->lab, volid, &cont)) < 0) {
		send_lab_failed(s);
		return rc;
	}
	s->data_on_reel = 0;
	return 0;
}

/* What the reblocker emits: a data record, labelled when asked. */
int send_emit_record(void *ctx, const void *rec, size_t len)
{
	struct send *s = ctx;
	if (!s->labelled)
		return send_put_record(s, rec, len);
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
		send_lab_failed(s);
	else
		s->data_on_reel++;
	return rc;
}

/* The end of a tape file (--tapemark-every). */
int send_file_mark(struct send *s)
{
	if (!s->labelled)
		return send_put_mark(s);
	int rc = reel_lab_mark(&s->lab);
	if (rc < 0)
		send_lab_failed(s);
	return rc;
}

/* --append: what is on the tape decides what may follow it. */
int send_check_append(struct send *s)
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
int send_open_labels(struct send *s)
{
	s->lab.name = s->name ? s->name : s->saveset ? s->ss.name : NULL;
	s->lab.block_len = (uint32_t)s->block;
	s->lab.record = send_put_record;
	s->lab.mark = send_lab_mark;
	s->lab.ctx = s;
	uint32_t base = s->app.labelled ? s->app.files : 0;
	int rc = reel_lab_open(&s->lab, s->volid, base);
	if (rc == 0)
		rc = reel_lab_begin(&s->lab, s->lab.name, (uint32_t)s->block,
				    s->head, s->head_len);
	if (rc < 0) {
		send_lab_failed(s);
		return rc;
	}
	if (s->lab.name)
		tape_label_name_convert(s->lab.name, s->lab_first);
	else
		snprintf(s->lab_first, sizeof(s->lab_first), "FILE%04u", base + 1);
	return 0;
}
