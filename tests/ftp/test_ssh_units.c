/*
 * test_ssh_units.c - the pure parts of ftp/curl_ssh.c and ftp/sha256.c:
 * SHA-256 against FIPS 180-4's vectors, --ssh-host-key's parsing, and the
 * quote paths of SFTP (absolute, and "/~/" made relative; quotes and
 * backslashes escaped as libcurl's Curl_get_pathname reads them).
 */
#include "curl_int.h"
#include "sha256.h"

#include <stdio.h>
#include <string.h>

#include "../check.h"

static const char *hex(const char *s, size_t n)
{
	static char out[65];
	uint8_t d[32];

	sha256(s, n, d);
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
	return out;
}

static const char *qpath(const char *dir, const char *name)
{
	static char out[512];
	struct cs c = { .dir_display = (char *)dir };

	if (cs_ssh_path(&c, name, out, sizeof(out)))
		return "(error)";
	return out;
}

int main(void)
{
	static char big[1000001];
	char pin[64];

	CHECK(!strcmp(hex("abc", 3), "ba7816bf8f01cfea414140de5dae2223"
		      "b00361a396177a9cb410ff61f20015ad"));
	CHECK(!strcmp(hex("", 0), "e3b0c44298fc1c149afbf4c8996fb924"
		      "27ae41e4649b934ca495991b7852b855"));
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	CHECK(!strcmp(hex(two, strlen(two)), "248d6a61d20638b8e5c026930c3e6039"
		      "a33ce45964ff2167f6ecedd419db06c1"));
	memset(big, 'a', 1000000);
	CHECK(!strcmp(hex(big, 1000000), "cdc76e5c9914fb9281a1c7e284d73e67"
		      "f1809a48a497200e046d39ccc7112cd0"));

	const char *ok = "SHA256:nhcjjcIKAMSJyyNJEGxNAyKHQJIqJxR3Av1E7pZ8cEE";
	CHECK(cs_ssh_parse_pin(ok, pin, sizeof(pin)) == 0);
	CHECK(!strcmp(pin, ok + 7));
	char padded[80];
	snprintf(padded, sizeof(padded), "%s=", ok);
	CHECK(cs_ssh_parse_pin(padded, pin, sizeof(pin)) == 0 &&
	      !strcmp(pin, ok + 7));
	CHECK(cs_ssh_parse_pin(ok + 7, pin, sizeof(pin)) < 0);	/* no prefix */
	CHECK(cs_ssh_parse_pin("SHA256:short", pin, sizeof(pin)) < 0);
	CHECK(cs_ssh_parse_pin("SHA256:nhcjjcIKAMSJyyNJEGxNAyKHQJIqJxR3Av1E7pZ8cE!",
			       pin, sizeof(pin)) < 0);
	CHECK(cs_ssh_parse_pin("MD5:aa", pin, sizeof(pin)) < 0);

	CHECK(!strcmp(qpath("/", "x.part"), "\"/x.part\""));
	CHECK(!strcmp(qpath("/srv/tapes", "x.part"), "\"/srv/tapes/x.part\""));
	CHECK(!strcmp(qpath("/~", "x.part"), "\"x.part\""));
	CHECK(!strcmp(qpath("/~/dir/sub", "x"), "\"dir/sub/x\""));
	CHECK(!strcmp(qpath("/a b", "q\"u\\o"), "\"/a b/q\\\"u\\\\o\""));
	/* "/~x" is not the home directory (libcurl expands only "/~/"). */
	CHECK(!strcmp(qpath("/~x", "y"), "\"/~x/y\""));
	char small[8];
	struct cs c = { .dir_display = (char *)"/long/dir" };
	CHECK(cs_ssh_path(&c, "name", small, sizeof(small)) < 0);
	return failures ? 1 : 0;
}
