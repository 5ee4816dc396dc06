/*
 * label_fields.h - byte positions (0-based) of the ANSI label fields that
 * reelfs writes and reads (ECMA-13 4th edition; DEC's use of the fields
 * reserved for systems), shared by the label writer (labels.c) and the
 * reader (label_read.c). Internal to encoder/; docs/labels.md is the
 * user-facing description. The tests check these against an independent
 * table (tests/encoder/test_label_layout.py).
 */
#ifndef REELFS_LABEL_FIELDS_H
#define REELFS_LABEL_FIELDS_H

/* Every label: 0-2 "VOL"/"HDR"/"EOF"/"EOV", 3 the label number. */

/* VOL1 */
#define LF_VOL_ID 4		/* 6: volume identifier */
#define LF_VOL_ACCESS 10	/* 1: accessibility, ' ' = open */
#define LF_VOL_IMPL 24		/* 13: implementation identifier */
#define LF_VOL_OWNER 37		/* 14: owner identifier */
#define LF_VOL_STANDARD 79	/* 1: label standard version, '3' */

/* HDR1 / EOF1 / EOV1 */
#define LF_H1_NAME 4		/* 17: file identifier */
#define LF_H1_SET 21		/* 6: file set identifier */
#define LF_H1_SECTION 27	/* 4: file section number */
#define LF_H1_SEQUENCE 31	/* 4: file sequence number */
#define LF_H1_GEN 35		/* 4: generation number */
#define LF_H1_GENVER 39		/* 2: generation version number */
#define LF_H1_CREATED 41	/* 6: creation date cyyddd */
#define LF_H1_EXPIRES 47	/* 6: expiration date cyyddd */
#define LF_H1_ACCESS 53		/* 1: accessibility */
#define LF_H1_BLOCKS 54		/* 6: block count (0 in HDR1) */
#define LF_H1_SYSTEM 60		/* 13: system code */
				/* 73-79: reserved, spaces */

/* HDR2 / EOF2 / EOV2 */
#define LF_H2_FORMAT 4		/* 1: record format F, D, S */
#define LF_H2_BLOCK 5		/* 5: block length */
#define LF_H2_RECORD 10		/* 5: record length */
				/* 15-49 reserved for the system; DEC: */
#define LF_H2_CC 36		/* 1: carriage control, 'M' = in the records */
#define LF_H2_OFFSET 50		/* 2: buffer offset */
				/* 52-79: reserved, spaces */

/* HDR3 / EOF3 / EOV3 (DEC): 4-67 the 32-byte RMS file attribute area as
 * 64 hexadecimal digits, eight longwords each written most significant
 * digit first; 68-79 spaces. */
#define LF_H3_RMS 4
#define LF_H3_RMS_LEN 64

/* HDR4 / EOF4 / EOV4 (DEC): 4 a space, 5-66 the file identifier's
 * characters after the 17th, 67-68 how many of them (2 digits). */
#define LF_H4_NAME 5
#define LF_H4_NAME_LEN 62
#define LF_H4_USED 67

#define LF_SYSTEM_VMS "DECFILE11A"

#endif
