/*
 * formats.c - the name table: format names and file extensions to the const
 * operations tables. It must never hold state.
 */
#include "format_ops.h"

#include <string.h>
#include <strings.h>

static const struct tape_format *const all_formats[] = {
	&tape_fmt_mtd, &tape_fmt_simh, &tape_fmt_e11, &tape_fmt_aws, &tape_fmt_het,
};

#define N_FORMATS (sizeof(all_formats) / sizeof(all_formats[0]))

const struct tape_format *tape_format_by_name(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < N_FORMATS; i++)
		if (strcasecmp(name, all_formats[i]->name) == 0)
			return all_formats[i];
	/* "tap" is what users call SIMH images after their extension. */
	if (strcasecmp(name, "tap") == 0)
		return &tape_fmt_simh;
	return NULL;
}

const struct tape_format *tape_format_from_path(const char *path)
{
	if (!path)
		return NULL;
	size_t n = strlen(path);
	/* An upload in progress is NAME.EXT.part; the format is in EXT. */
	if (n >= 5 && strcasecmp(path + n - 5, ".part") == 0)
		n -= 5;
	for (size_t i = 0; i < N_FORMATS; i++) {
		size_t el = strlen(all_formats[i]->ext);

		if (n > el && strncasecmp(path + n - el, all_formats[i]->ext, el) == 0)
			return all_formats[i];
	}
	return NULL;
}

const struct tape_format *tape_format_default(void)
{
	return &tape_fmt_mtd;
}

const char *tape_format_name(const struct tape_format *f)
{
	return f ? f->name : "auto";
}

size_t tape_format_max_record(const struct tape_format *f)
{
	return f ? f->max_record : 0;
}

const char *tape_format_names(void)
{
	return "mtd,simh,e11,aws,het";
}
