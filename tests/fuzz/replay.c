/*
 * replay.c - main() for a fuzz target built without libFuzzer (gcc, plain
 * and sanitizer builds), so its entry point and the checks in it run on
 * every build and cannot rot. It feeds LLVMFuzzerTestOneInput every file
 * in the folders given (the seed corpus and the inputs of crashes found
 * before, kept as regression tests), and each file also cut at every
 * length and with every byte set to a few other values.
 *
 *   replay DIR|FILE...          the files, their cuts and their variants
 *   replay --exact DIR|FILE...  the files only, as they are (a crash)
 *
 * Exit 0 when nothing crashed (a failed check in a target aborts).
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long runs, files;
static bool exact;

/* Each run gets its own buffer of exactly size bytes, so ASan sees a read
 * past the end as libFuzzer would. */
static void run(const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);

	if (!b) {
		fprintf(stderr, "replay: out of memory\n");
		exit(1);
	}
	memcpy(b, p, n);
	LLVMFuzzerTestOneInput(b, n);
	free(b);
	runs++;
}

static void variants(const uint8_t *p, size_t n)
{
	static const uint8_t vals[] = { 0x00, 0xff, '\n', '/', '%', '9', '"', 0x9b };
	uint8_t *m;

	for (size_t len = 0; len < n; len++)
		run(p, len);
	m = malloc(n ? n : 1);
	if (!m)
		return;
	for (size_t pos = 0; pos < n; pos++)
		for (size_t v = 0; v < sizeof(vals); v++) {
			if (p[pos] == vals[v])
				continue;
			memcpy(m, p, n);
			m[pos] = vals[v];
			run(m, n);
		}
	free(m);
}

static int one_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f) {
		perror(path);
		return 1;
	}
	for (;;) {
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap = cap ? 2 * cap : 4096);
			if (!nb) {
				fclose(f);
				free(buf);
				return 1;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		if (!got)
			break;
		n += got;
	}
	fclose(f);
	run(buf, n);
	if (!exact)
		variants(buf, n);
	free(buf);
	files++;
	return 0;
}

static int not_hidden(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int one_arg(const char *path)
{
	struct stat st;
	struct dirent **names;
	int n, rc = 0;

	if (stat(path, &st) != 0) {
		perror(path);
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return one_file(path);
	n = scandir(path, &names, not_hidden, alphasort);
	if (n < 0) {
		perror(path);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", path, names[i]->d_name);
		rc |= one_file(p);
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0, first = 1;

	if (argc > 1 && strcmp(argv[1], "--exact") == 0) {
		exact = true;
		first = 2;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: %s [--exact] DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (int i = first; i < argc; i++)
		rc |= one_arg(argv[i]);
	if (files == 0) {
		fprintf(stderr, "replay: no input files found\n");
		return 1;
	}
	printf("%s: %lu inputs from %lu files ran without a crash or a failed check\n",
	       argv[0], runs, files);
	return rc;
}
