/*
 * sha256.h - SHA-256 of a buffer, for SSH host key fingerprints
 * ("SHA256:" and the unpadded base64 of the digest, as ssh prints them).
 */
#ifndef REELFS_SHA256_H
#define REELFS_SHA256_H

#include <stddef.h>
#include <stdint.h>

void sha256(const void *data, size_t len, uint8_t out[32]);

#endif
