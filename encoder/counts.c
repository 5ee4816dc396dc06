/*
 * counts.c - the one definition of "tape file", shared by the encoder and
 * the decoder so their counts always agree for the same image.
 *
 * A tape mark ends a file when a record came right before it, or when any
 * record comes after it. The trailing marks of end-of-data never count, so
 * R M M is one file, M M (an untouched tape) none, R M M R M M three (the
 * middle one empty). This file only counts; it never sees bytes.
 */
#include "format_ops.h"

void tape_fc_record(struct tape_file_counter *fc, struct tape_counts *c)
{
	/* Marks of the run that did not count yet do now: a record follows. */
	if (fc->run > 0)
		c->files += fc->run - (fc->first_counted ? 1 : 0);
	fc->run = 0;
	fc->first_counted = false;
	fc->any_record = true;
}

void tape_fc_mark(struct tape_file_counter *fc, struct tape_counts *c)
{
	c->marks++;
	if (fc->run == 0 && fc->any_record) {
		c->files++;
		fc->first_counted = true;
	}
	fc->run++;
	fc->any_record = false;
}
