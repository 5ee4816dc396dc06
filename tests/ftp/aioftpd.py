"""aioftpd.py - Debian's aioftp (python3-aioftp) as an FTP server for the
reelfs tests: it has no SIZE (502) and no MDTM, but MLST and MLSD. Listens
on 127.0.0.1 only, on a port the kernel picks, printed as "PORT <n>".
The password comes from AIOFTPD_PASSWORD, never from argv.

    python3 aioftpd.py --root DIR --user NAME
"""
import argparse
import asyncio
import os
import sys

import aioftp


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--user", required=True)
    a = ap.parse_args()
    password = os.environ.get("AIOFTPD_PASSWORD")
    if not password:
        sys.exit("aioftpd: AIOFTPD_PASSWORD is not set")
    user = aioftp.User(a.user, password, home_path="/", base_path=a.root,
                       permissions=[aioftp.Permission("/", readable=True,
                                                      writable=True)])
    server = aioftp.Server([user])
    await server.start("127.0.0.1", 0)
    port = server.server.sockets[0].getsockname()[1]
    sys.stdout.write("PORT %d\n" % port)
    sys.stdout.flush()
    try:
        await server.serve_forever()
    finally:
        await server.close()


if __name__ == "__main__":
    asyncio.run(main())
