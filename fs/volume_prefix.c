/*
 * volume_prefix.c - write after read: the old image's bytes before the
 * first new record are copied into the upload as they are, and their
 * counts (and marks, labels) are added to the volume's.
 *
 * It never accepts a prefix once a record or mark has been written.
 */
#include "volume_int.h"

#include <errno.h>

#include <zlib.h>

/* The encoder's counts c, after the old image's prefix (write after
 * read). When records follow it, every mark of the prefix ends a file
 * (counts.c's rule). io_lock held. */
void vol_add_base(const struct vol *v, struct tape_counts *c)
{
	if (!v->has_base)
		return;
	const struct tape_counts *b = &v->base;
	c->files += c->records ? b->marks : b->files;
	c->payload_crc = (uint32_t)crc32_combine(b->payload_crc, c->payload_crc,
						 (z_off_t)c->payload_bytes);
	c->image_crc = (uint32_t)crc32_combine(b->image_crc, c->image_crc,
					       (z_off_t)c->image_bytes);
	c->records += b->records;
	c->marks += b->marks;
	c->payload_bytes += b->payload_bytes;
	c->image_bytes += b->image_bytes;
}

int vol_put_prefix(struct vol *v, const void *data, size_t len)
{
	pthread_mutex_lock(&v->io_lock);
	struct tape_counts k;
	tape_enc_counts(v->enc, &k);
	/* HET blocks still being compressed are records already written. */
	int rc = k.records || k.marks || tape_enc_pending(v->enc) ? -EBUSY : 0;
	if (!rc && len)
		rc = xfer_upload_write(v->up, data, len);
	if (!rc) {
		v->has_base = true;
		v->base.image_bytes += len;
		v->base.image_crc = (uint32_t)crc32(v->base.image_crc, data, (uInt)len);
	} else if (rc != -EBUSY) {
		pthread_mutex_lock(&v->lock);
		vol_set_error(v, -EIO, "%s: copying the old image failed: %s",
			      xfer_upload_url(v->up), xfer_upload_error(v->up));
		v->state = VOL_FAILED;
		pthread_mutex_unlock(&v->lock);
		rc = -EIO;
	}
	pthread_mutex_unlock(&v->io_lock);
	return rc;
}

void vol_prefix_record(struct vol *v, const void *data, size_t len)
{
	pthread_mutex_lock(&v->io_lock);
	if (v->lscan)
		tape_label_scan_record(v->lscan, data, len);
	pthread_mutex_unlock(&v->io_lock);
}

void vol_prefix_mark(struct vol *v, uint64_t offset_after, uint64_t records)
{
	pthread_mutex_lock(&v->io_lock);
	tape_findex_mark(&v->findex, offset_after, records);
	if (v->lscan)
		tape_label_scan_mark(v->lscan);
	pthread_mutex_unlock(&v->io_lock);
}

void vol_prefix_counts(struct vol *v, const struct tape_counts *c)
{
	pthread_mutex_lock(&v->io_lock);
	v->base.files = c->files;
	v->base.records = c->records;
	v->base.marks = c->marks;
	v->base.payload_bytes = c->payload_bytes;
	v->base.payload_crc = c->payload_crc;
	v->base_scanned = true;	/* every record and mark of it was decoded */
	tape_enc_complete(v->enc);	/* settling takes lock */
	pthread_mutex_lock(&v->lock);
	tape_enc_counts(v->enc, &v->counts);
	vol_add_base(v, &v->counts);
	v->accepted = v->counts.image_bytes;
	pthread_mutex_unlock(&v->lock);
	pthread_mutex_unlock(&v->io_lock);
}
