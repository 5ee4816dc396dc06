/*
 * label_read.c - what an 80-byte record is as an ANSI label, and the
 * fields of VOL1 and of the file labels (HDR/EOF/EOV 1, 2, 3 and 4).
 * Input is outside data: every byte is checked before it is used, nothing
 * is read past len, and text copied out is printable ASCII only (anything
 * else becomes '?'). It never writes labels (labels.c does).
 */
#include "labels.h"
#include "label_fields.h"

#include <errno.h>
#include <string.h>

enum tape_label_kind tape_label_kind(const void *rec, size_t len)
{
	const char *p = rec;
	int n;

	if (len != TAPE_LABEL_LEN || !rec)
		return TAPE_LABEL_NONE;
	n = p[3] - '0';
	if (n < 0 || n > 9)
		return TAPE_LABEL_NONE;
	if (memcmp(p, "VOL", 3) == 0)
		return n == 1 ? TAPE_LABEL_VOL1 : TAPE_LABEL_OTHER;
	if (memcmp(p, "HDR", 3) == 0)
		return n >= 1 && n <= 4 ? (enum tape_label_kind)(TAPE_LABEL_HDR1 + n - 1)
					: TAPE_LABEL_OTHER;
	if (memcmp(p, "EOF", 3) == 0)
		return n >= 1 && n <= 4 ? (enum tape_label_kind)(TAPE_LABEL_EOF1 + n - 1)
					: TAPE_LABEL_OTHER;
	if (memcmp(p, "EOV", 3) == 0)
		return n >= 1 && n <= 4 ? (enum tape_label_kind)(TAPE_LABEL_EOV1 + n - 1)
					: TAPE_LABEL_OTHER;
	if (memcmp(p, "UVL", 3) == 0 || memcmp(p, "UHL", 3) == 0 ||
	    memcmp(p, "UTL", 3) == 0)
		return TAPE_LABEL_OTHER;
	return TAPE_LABEL_NONE;
}

/* width bytes at p, trailing spaces removed, non-printable bytes as '?'. */
static void get_text(const char *p, size_t width, char *out)
{
	size_t n = width;

	while (n > 0 && p[n - 1] == ' ')
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[n] = '\0';
}

/* A number field: digits, with leading or trailing spaces tolerated; all
 * spaces reads as 0. -EINVAL for anything else. */
static int get_num(const char *p, size_t width, uint64_t *out)
{
	size_t i = 0, end = width;
	uint64_t v = 0;

	while (i < width && p[i] == ' ')
		i++;
	while (end > i && p[end - 1] == ' ')
		end--;
	for (; i < end; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return 0;
}

static int get_u32(const char *p, size_t width, uint32_t *out)
{
	uint64_t v;
	int rc = get_num(p, width, &v);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

/* cyyddd: c ' ' 19xx, '0' 20xx, '1' 21xx...; blank or odd: 0, 0. */
static void get_date(const char *p, int *year, int *yday)
{
	uint64_t yy, ddd;

	*year = *yday = 0;
	if ((p[0] != ' ' && (p[0] < '0' || p[0] > '9')) ||
	    get_num(p + 1, 2, &yy) || get_num(p + 3, 3, &ddd) ||
	    p[1] == ' ' || p[3] == ' ' || ddd < 1 || ddd > 366)
		return;
	*year = (p[0] == ' ' ? 1900 : 2000 + 100 * (p[0] - '0')) + (int)yy;
	*yday = (int)ddd;
}

int tape_label_date_iso(int year, int yday, char *out)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	int m = 0, d = yday;

	out[0] = '\0';
	if (year < 1900 || year > 2999 || yday < 1 || yday > (leap ? 366 : 365))
		return -EINVAL;
	for (; m < 12; m++) {
		int n = mdays[m] + (m == 1 && leap);
		if (d <= n)
			break;
		d -= n;
	}
	out[0] = (char)('0' + year / 1000);
	out[1] = (char)('0' + year / 100 % 10);
	out[2] = (char)('0' + year / 10 % 10);
	out[3] = (char)('0' + year % 10);
	out[4] = '-';
	out[5] = (char)('0' + (m + 1) / 10);
	out[6] = (char)('0' + (m + 1) % 10);
	out[7] = '-';
	out[8] = (char)('0' + d / 10);
	out[9] = (char)('0' + d % 10);
	out[10] = '\0';
	return 0;
}

int tape_label_parse_vol1(const void *rec, size_t len, struct tape_label_vol *out)
{
	const char *p = rec;

	if (tape_label_kind(rec, len) != TAPE_LABEL_VOL1)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	get_text(p + LF_VOL_ID, TAPE_LABEL_VOLID, out->volid);
	get_text(p + LF_VOL_OWNER, 14, out->owner);
	out->access = p[LF_VOL_ACCESS];
	out->standard = p[LF_VOL_STANDARD];
	if ((unsigned char)out->access < 0x20 || (unsigned char)out->access >= 0x7f)
		out->access = '?';
	if ((unsigned char)out->standard < 0x20 || (unsigned char)out->standard >= 0x7f)
		out->standard = '?';
	return 0;
}

static int parse_1(const char *p, struct tape_label_file_info *out, bool eov)
{
	struct tape_label_file_info t = *out;
	char name[TAPE_LABEL_NAME_HDR1 + 1];
	uint64_t blocks;

	if (get_u32(p + LF_H1_SECTION, 4, &t.section) ||
	    get_u32(p + LF_H1_SEQUENCE, 4, &t.sequence) ||
	    get_u32(p + LF_H1_GEN, 4, &t.generation) ||
	    get_u32(p + LF_H1_GENVER, 2, &t.generation_version) ||
	    get_num(p + LF_H1_BLOCKS, 6, &blocks))
		return -EINVAL;
	t.block_count = blocks;
	get_text(p + LF_H1_NAME, TAPE_LABEL_NAME_HDR1, name);
	/* A longer name (from HDR4) that starts with this one is kept. */
	if (strncmp(t.name, name, TAPE_LABEL_NAME_HDR1) != 0 ||
	    strlen(name) < TAPE_LABEL_NAME_HDR1)
		memcpy(t.name, name, sizeof(name));
	get_text(p + LF_H1_SET, TAPE_LABEL_VOLID, t.set_id);
	get_date(p + LF_H1_CREATED, &t.created_year, &t.created_yday);
	get_date(p + LF_H1_EXPIRES, &t.expires_year, &t.expires_yday);
	get_text(p + LF_H1_SYSTEM, 13, t.system);
	t.accessibility = p[LF_H1_ACCESS];
	t.continued = eov;
	*out = t;
	return 0;
}

static int parse_2(const char *p, struct tape_label_file_info *out, bool eov)
{
	uint32_t blen, rlen, off;
	char f = p[LF_H2_FORMAT];

	if (get_u32(p + LF_H2_BLOCK, 5, &blen) || get_u32(p + LF_H2_RECORD, 5, &rlen))
		return -EINVAL;
	if (get_u32(p + LF_H2_OFFSET, 2, &off))
		off = 0;	/* some systems leave it odd; nothing depends on it */
	out->record_format = (unsigned char)f >= 0x20 && (unsigned char)f < 0x7f ? f : '?';
	out->block_len = blen;
	out->record_len = rlen;
	out->buffer_offset = off;
	f = p[LF_H2_CC];
	out->carriage_control = (unsigned char)f >= 0x20 && (unsigned char)f < 0x7f ? f : '?';
	if (eov)
		out->continued = true;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* HDR3: the RMS attributes when the 64 characters are hex digits; other
 * systems put other things there, so anything else is just not kept. */
static int parse_3(const char *p, struct tape_label_file_info *out)
{
	uint32_t fat[8];

	for (int i = 0; i < 8; i++) {
		uint32_t v = 0;
		for (int j = 0; j < 8; j++) {
			int h = hexval(p[LF_H3_RMS + 8 * i + j]);
			if (h < 0)
				return 0;
			v = v << 4 | (uint32_t)h;
		}
		fat[i] = v;
	}
	out->has_rms = true;
	out->rms_rtype = (uint8_t)(fat[0] & 0xff);
	out->rms_rattrib = (uint8_t)(fat[0] >> 8 & 0xff);
	out->rms_rsize = (uint16_t)(fat[0] >> 16);
	out->rms_maxrec = (uint16_t)(fat[4] & 0xffff);
	return 0;
}

/* HDR4: the name's characters after the 17th. */
static int parse_4(const char *p, struct tape_label_file_info *out)
{
	char rest[LF_H4_NAME_LEN + 1];
	size_t have = strlen(out->name), room;

	get_text(p + LF_H4_NAME, LF_H4_NAME_LEN, rest);
	if (!rest[0])
		return 0;
	if (have > TAPE_LABEL_NAME_HDR1)	/* parsed before: HDR1's part only */
		have = TAPE_LABEL_NAME_HDR1;
	while (have < TAPE_LABEL_NAME_HDR1)
		out->name[have++] = ' ';
	room = TAPE_LABEL_NAME_MAX - have;
	size_t n = strlen(rest);
	if (n > room)
		n = room;
	memcpy(out->name + have, rest, n);
	out->name[have + n] = '\0';
	return 0;
}

int tape_label_parse_into(const void *rec, size_t len, struct tape_label_file_info *out)
{
	enum tape_label_kind k = tape_label_kind(rec, len);
	const char *p = rec;

	switch (k) {
	case TAPE_LABEL_HDR1: case TAPE_LABEL_EOF1: case TAPE_LABEL_EOV1:
		return parse_1(p, out, k == TAPE_LABEL_EOV1);
	case TAPE_LABEL_HDR2: case TAPE_LABEL_EOF2: case TAPE_LABEL_EOV2:
		return parse_2(p, out, k == TAPE_LABEL_EOV2);
	case TAPE_LABEL_HDR3: case TAPE_LABEL_EOF3: case TAPE_LABEL_EOV3:
		return parse_3(p, out);
	case TAPE_LABEL_HDR4: case TAPE_LABEL_EOF4: case TAPE_LABEL_EOV4:
		return parse_4(p, out);
	default:
		return -EINVAL;
	}
}
