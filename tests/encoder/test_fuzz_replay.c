/*
 * test_fuzz_replay.c - runs the fuzz entry point (fuzz_decoder.c) without
 * libFuzzer, so every normal build exercises it: on images of every format
 * made by the encoder, each with every single-byte corruption and every
 * truncation, in every decoder mode and several split patterns. With
 * arguments it replays those files instead (a crash corpus), and with
 * --write-corpus DIR it writes the generated images as a seed corpus for
 * run-fuzz.sh.
 */
#include "testutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t in[1 << 16];
static unsigned long runs;

static void feed(uint8_t mode, uint8_t seed, const uint8_t *img, size_t n)
{
	in[0] = mode;
	in[1] = seed;
	memcpy(in + 2, img, n);
	LLVMFuzzerTestOneInput(in, n + 2);
	runs++;
}

static void make(int fi, struct membuf *m)
{
	struct tape_enc_options o = { .chunk_size = 9 };
	uint8_t d[100];
	fill_data(d, sizeof(d), (uint32_t)fi, 1);
	mb_init(m);
	struct tape_enc *e = tape_enc_new(tape_format_by_name(all_format_names[fi]), &o, mb_sink, m);
	tape_enc_record(e, d, 1);
	tape_enc_record(e, d, 40);
	tape_enc_mark(e);
	tape_enc_record(e, d, 7);
	tape_enc_record(e, d, 100);
	tape_enc_finish(e);
	tape_enc_free(e);
}

static int write_corpus(const char *dir)
{
	for (int fi = 0; fi < N_ALL_FORMATS; fi++) {
		struct membuf m;
		char path[4096];
		make(fi, &m);
		for (int mode = 0; mode < 6; mode++) {
			snprintf(path, sizeof(path), "%s/seed-%s-%d", dir, all_format_names[fi], mode);
			FILE *f = fopen(path, "wb");
			if (!f)
				return 1;
			uint8_t hdr[2] = { (uint8_t)mode, 7 };
			fwrite(hdr, 1, 2, f);
			fwrite(m.p, 1, m.len, f);
			fclose(f);
		}
		mb_free(&m);
	}
	return 0;
}

static int replay(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			return 1;
		}
		static uint8_t buf[1 << 22];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("replayed %d inputs\n", argc - 1);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
		return write_corpus(argv[2]);
	if (argc > 1)
		return replay(argc, argv);
	for (int fi = 0; fi < N_ALL_FORMATS; fi++) {
		struct membuf m;
		make(fi, &m);
		uint8_t *img = tu_xmalloc(m.len);
		for (uint8_t mode = 0; mode < 6; mode++) {
			for (size_t len = 0; len <= m.len; len++)
				feed(mode, (uint8_t)(len * 7 + 1), m.p, len);
			for (size_t pos = 0; pos < m.len; pos++)
				for (int v = 0; v < 4; v++) {
					memcpy(img, m.p, m.len);
					static const uint8_t vals[4] = { 0x00, 0xFF, 0x80, 0x41 };
					img[pos] = img[pos] == vals[v] ? (uint8_t)~vals[v] : vals[v];
					feed(mode, (uint8_t)(pos + v + 3), img, m.len);
				}
		}
		free(img);
		mb_free(&m);
	}
	printf("test_fuzz_replay: %lu inputs decoded without a crash or split mismatch\n", runs);
	return 0;
}
