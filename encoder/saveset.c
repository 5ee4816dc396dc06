/*
 * saveset.c - recognises the 256-byte block header VMS BACKUP puts at the
 * start of every block of a saveset, and reads from it the block size,
 * the block number and the saveset name. Outside data: only the bytes
 * given are read, and the name is kept only when it is printable ASCII.
 */
#include "labels.h"

#include <errno.h>
#include <string.h>

#define BBH_SIZE 256		/* header length, also the LE16 at 0 */
#define BBH_NUMBER 8		/* LE32 block number */
#define BBH_BLOCKSIZE 40	/* LE32 block size (/BLOCK_SIZE) */
#define BBH_NAME 48		/* counted string: length byte + up to 31 */
#define BBH_NAME_FIELD 32
#define BACKUP_MIN_BLOCK 2048
#define BACKUP_MAX_BLOCK 65535

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

int tape_saveset_probe(const void *block, size_t len, struct tape_saveset_info *out)
{
	const uint8_t *p = block;
	uint32_t size;
	size_t n;

	if (!block || len < BBH_SIZE)
		return -EINVAL;
	if ((p[0] | p[1] << 8) != BBH_SIZE)
		return -EINVAL;
	size = le32(p + BBH_BLOCKSIZE);
	if (size < BACKUP_MIN_BLOCK || size > BACKUP_MAX_BLOCK)
		return -EINVAL;
	n = p[BBH_NAME];
	if (n == 0 || n >= BBH_NAME_FIELD)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (p[BBH_NAME + 1 + i] < 0x20 || p[BBH_NAME + 1 + i] >= 0x7f)
			return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->block_size = size;
	out->block_number = le32(p + BBH_NUMBER);
	memcpy(out->name, p + BBH_NAME + 1, n);
	out->name[n] = '\0';
	return 0;
}
