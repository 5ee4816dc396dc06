"""faultftpd.py - a fault-injecting FTP server for reelfs tests, built on
Debian's pyftpdlib. Run it with /usr/bin/python3 in a subprocess (see
servers.FaultFtpd). It listens on 127.0.0.1 only, on a port the kernel
picks, and prints "PORT <n>" on stdout once it accepts connections.

The password comes from the environment (FAULTFTPD_PASSWORD), never from
argv. Faults, each applied to uploads (STOR, APPE, REST+STOR):
  --drops A,B,..  when the file being written reaches offset A, write exactly
                  A bytes, reset the data connection (RST) and answer 426;
                  each offset fires once for the life of the server
  --drop-kind     data (default): only the data connection is reset;
                  control: the control connection is closed too (after 421)
  --full-at N     the file may hold N bytes at most; data beyond is refused
                  with 552, keeping the first N bytes
  --rcvbuf N      SO_RCVBUF of every data connection (no autotuning): bounds
                  what the client can have in flight (its send buffer plus
                  N), so a test can know how much a 552 catches unconfirmed
  --stalls A,..   when the file reaches offset A, stop reading (each once),
                  so the client's stall timeout has to notice
  --throttle B    receive at most B bytes/s, measured from the first byte
                  of each data connection (done here in handle_read, which
                  replaces pyftpdlib's: its ThrottledDTPHandler lets a burst
                  of 2*B bytes through before it first sleeps)
  --refuse-login  every login gets 530
  --refuse-login-after-drop
                  once a drop has fired, every new login gets 530 (so the
                  client cannot reconnect and resume)
  --zero-after-drop
                  when a drop fires, the file keeps its size but its bytes
                  become zeros (a server that lost its write cache)
  --refuse-rest   STOR after REST gets "451 NAME: Append/Restart not
                  permitted, try again" (ProFTPD's AllowStoreRestart off)
  --refuse CMD=CODE,..
                  answer CMD with CODE: 550 "CMD: Permission denied" (as
                  ProFTPD's <Limit CMD>), 502 "Command not implemented", 500
                  "Unknown command"
  --exit-at N     when the file being written reaches offset N, write
                  exactly N bytes and exit at once (a server that stops;
                  the test starts a new one on the same --port)
  --exit-at-rnfr  exit at once on the first RNFR (a stop while publishing)
  --exit-after-rnto
                  exit just after answering the first RNTO (a stop between
                  publishing an image and writing its manifest)
  --port N        listen on this port (default: one the kernel picks)
Faults of the read side:
  --retr-drops A,..  when a download (RETR) reaches file offset A, send
                  the bytes up to A, then reset the data connection (RST)
                  and answer 426; each offset fires once
  --endless NAME  RETR of NAME sends its bytes, then zeros without end
  --size-reply TEXT  every SIZE is answered "213 TEXT" (e.g. -1)
                  (SIZE still tells the true size)
  --mlsd-close C  the reply after an MLSD listing is "C MLSD sent." rather
                  than 226
  --mlsd-size T   every file's size fact in MLSD reads "size=T" (e.g. -1)
Hostile server (issue 9 point 4):
  --hostile       every 4xx/5xx reply ends with terminal escapes (HOSTILE:
                  an OSC retitle with BEL, ESC [2J, CSI as UTF-8 C2 9B and
                  a raw 0x9b byte), and names in listings go out as the raw
                  bytes they have on disk (so a test can plant such names)
Every upload's data connection logs "received N bytes in T s" when it
closes, so tests can measure the rate the server really took.
This server must never listen on anything but 127.0.0.1.
"""
import argparse
import logging
import os
import socket
import struct
import sys
import time

from pyftpdlib.authorizers import AuthenticationFailed, DummyAuthorizer
from pyftpdlib.filesystems import AbstractedFS
from pyftpdlib.handlers import FTPHandler, ThrottledDTPHandler
try:
    from pyftpdlib.handlers import asynchat
except ImportError:     # pragma: no cover - older pyftpdlib
    import asynchat
asynchat_push = asynchat.async_chat.push
from pyftpdlib.ioloop import RetryError
from pyftpdlib.servers import FTPServer

# Shared by all connections: the server runs one asynchronous loop, so
# plain module state is safe and lets a drop fire once across reconnects.
pending_drops = set()
pending_retr_drops = set()
pending_stalls = set()
full_at = None
drop_kind = "data"
throttle = 0
refuse_after_drop = False
dropped = False
zero_after_drop = False
refuse_rest = False
refuse = {}
exit_at = None
rcvbuf = 0
exit_at_rnfr = False
exit_after_rnto = False
hostile = False
# \udc9b is a raw 0x9b on the wire (surrogateescape); \u009b is C2 9B.
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\u009b2J\udc9b31m"


class FaultDTP(ThrottledDTPHandler):
    _t_first = None
    _got = 0
    _logged = False

    def __init__(self, sock, cmd_channel):
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        super().__init__(sock, cmd_channel)

    def _throttle(self, n):
        # Smooth: pause reading for as long as we are ahead of throttle
        # bytes/s since the first byte of this connection.
        now = time.monotonic()
        ahead = self._got / throttle - (now - self._t_first)
        if ahead > 0.002 and not self._closed:
            def wake():
                if not self._closed:
                    self.add_channel(events=self.ioloop.READ)
            self.del_channel()
            self._cancel_throttler()
            self._throttler = self.ioloop.call_later(
                ahead, wake, _errback=self.handle_error)

    def close(self):
        if getattr(self, "_drop_retr", False):
            self._drop_retr = False
            self._reset()
            self._resp = ("426 Connection closed; transfer aborted.",
                          logging.info)
        if (mlsd_close and getattr(self, "cmd", None) == "MLSD" and self._resp
                and self._resp[0].startswith("226")):
            self._resp = ("%s MLSD sent." % mlsd_close, self._resp[1])
        if self._t_first is not None and not self._logged:
            self._logged = True
            logging.info("received %d bytes in %.3f s", self._got,
                         time.monotonic() - self._t_first)
        super().close()

    def _write_upto(self, chunk, n):
        if n > 0:
            self.file_obj.write(chunk[:n])
        self.file_obj.flush()

    def _reset(self):
        # SO_LINGER with zero timeout turns close() into a TCP reset, which
        # is what a client sees when a router or a server dies mid-transfer.
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        except OSError:
            pass

    def handle_read(self):
        if self.file_obj is None or not self.receive:
            return super().handle_read()
        size = self.ac_in_buffer_size
        if throttle:
            size = max(1024, min(size, throttle // 20))
        try:
            chunk = self.recv(size)
        except RetryError:
            return
        except socket.error:
            self.handle_error()
            return
        self.tot_bytes_received += len(chunk)
        if not chunk:
            self.transfer_finished = True
            return
        if self._t_first is None:
            self._t_first = time.monotonic()
        self._got += len(chunk)
        pos = self.file_obj.tell()
        end = pos + len(chunk)
        if full_at is not None and end > full_at:
            self._write_upto(chunk, full_at - pos)
            logging.info("full: kept %d bytes, answering 552", full_at)
            self._resp = ("552 Requested file action aborted: exceeded "
                          "storage allocation.", logging.info)
            self._reset()
            self.close()
            return
        hits = sorted(d for d in pending_drops if pos < d <= end)
        if hits:
            d = hits[0]
            pending_drops.discard(d)
            global dropped
            dropped = True
            self._write_upto(chunk, d - pos)
            logging.info("drop at offset %d (%s)", d, drop_kind)
            if zero_after_drop:
                # Same size, content lost: what a server whose write cache
                # was dropped reports after a reconnect.
                f = self.file_obj
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(0)
                f.write(b"\0" * size)
                f.flush()
                os.fsync(f.fileno())
                logging.info("zeroed the %d bytes of the file", size)
            self._reset()
            if drop_kind == "control":
                self._resp = None
                cmd = self.cmd_channel
                self.close()
                cmd.respond("421 Service not available, closing control "
                            "connection.")
                cmd.close_when_done()
            else:
                self._resp = ("426 Connection closed; transfer aborted.",
                              logging.info)
                self.close()
            return
        if exit_at is not None and pos < exit_at <= end:
            self._write_upto(chunk, exit_at - pos)
            logging.info("exiting at offset %d", exit_at)
            logging.shutdown()
            os._exit(3)
        stalls = sorted(s for s in pending_stalls if pos < s <= end)
        if stalls:
            s = stalls[0]
            pending_stalls.discard(s)
            self._write_upto(chunk, s - pos)
            logging.info("stall at offset %d", s)
            # Stop reading; the client's stall timeout must notice. Also keep
            # our own idle timeout from closing the connection first.
            self.receive = False
            self.timeout = 0
            return
        self.file_obj.write(chunk)
        if throttle:
            self._throttle(len(chunk))

    handle_read_event = handle_read


endless = None
size_reply = None
mlsd_close = None
mlsd_size = None


class DropProducer:
    """A download's file producer that stops at the first pending
    --retr-drops offset and has the data connection reset there."""

    def __init__(self, inner, fd, handler):
        self.inner, self.handler = inner, handler
        self.pos = fd.tell()
        self.done = False

    def more(self):
        if self.done:
            return b""
        chunk = self.inner.more()
        end = self.pos + len(chunk)
        hits = sorted(d for d in pending_retr_drops if self.pos < d <= end)
        if hits:
            d = hits[0]
            pending_retr_drops.discard(d)
            chunk = chunk[:d - self.pos]
            self.done = True
            logging.info("download drop at offset %d", d)
            dtp = self.handler.data_channel
            if dtp is not None:
                dtp._drop_retr = True
        self.pos += len(chunk)
        return chunk


class EndlessProducer:
    """A file's bytes, then zeros for ever (--endless)."""

    def __init__(self, fd):
        self.fd = fd

    def more(self):
        return self.fd.read(65536) or b"\0" * 65536


class FaultFS(AbstractedFS):
    def format_mlsx(self, *args, **kw):
        for line in super().format_mlsx(*args, **kw):
            facts, name = line.split(b" ", 1)
            if mlsd_size is not None and b"type=file" in facts.lower():
                facts = b";".join(b"size=" + mlsd_size.encode()
                                  if f.startswith(b"size=") else f
                                  for f in facts.split(b";"))
                line = facts + b" " + name
            yield line


class FaultHandler(FTPHandler):
    def push_dtp_data(self, data, isproducer=False, file=None, cmd=None):
        if cmd == "RETR" and isproducer and file is not None and pending_retr_drops:
            data = DropProducer(data, file, self)
        return super().push_dtp_data(data, isproducer=isproducer, file=file,
                                     cmd=cmd)

    def push(self, s):
        if not hostile:
            return super().push(s)
        # HOSTILE's 0x9b and names' raw bytes go out as they are.
        asynchat_push(self, s.encode("utf8", "surrogateescape"))

    def respond(self, resp, logfun=logging.debug):
        if hostile and resp[:1] in ("4", "5"):
            resp = "%s %s" % (resp, HOSTILE)
        return super().respond(resp, logfun)

    def ftp_RETR(self, file):
        if endless and os.path.basename(file) == endless:
            logging.info("sending %s without end", endless)
            fd = open(file, "rb")
            self.push_dtp_data(EndlessProducer(fd), isproducer=True,
                               file=fd, cmd="RETR")
            return file
        return super().ftp_RETR(file)

    def pre_process_command(self, line, cmd, arg):
        if cmd == "SIZE" and size_reply is not None:
            self.respond("213 %s" % size_reply)
            return
        code = refuse.get(cmd)
        if code is not None:
            text = {550: "%s: Permission denied" % cmd,
                    502: "Command not implemented.",
                    500: "Unknown command \"%s\"." % cmd}.get(
                        code, "%s refused" % cmd)
            logging.info("refusing %s with %d", cmd, code)
            self.respond("%d %s" % (code, text))
            return
        if cmd == "RNTO" and exit_after_rnto:
            def bye():
                logging.info("exiting after RNTO")
                logging.shutdown()
                os._exit(3)
            r = super().pre_process_command(line, cmd, arg)
            # No new connection from now on (the listener goes at once);
            # this session ends once the reply is out (a client must not
            # slip its next file in before the stop), the process 0.2 s on.
            self.server.close()
            self.close_when_done()
            self.ioloop.call_later(0.2, bye)
            return r
        if cmd == "RNFR" and exit_at_rnfr:
            logging.info("exiting at RNFR")
            logging.shutdown()
            os._exit(3)
        if cmd == "STOR" and refuse_rest and self._restart_position:
            self._restart_position = 0
            logging.info("refusing REST+STOR")
            self.respond("451 %s: Append/Restart not permitted, try again"
                         % arg)
            return
        return super().pre_process_command(line, cmd, arg)


class RefusingAuthorizer(DummyAuthorizer):
    def validate_authentication(self, username, password, handler):
        raise AuthenticationFailed("Authentication failed.")


class RefusingAfterDropAuthorizer(DummyAuthorizer):
    def validate_authentication(self, username, password, handler):
        if dropped:
            logging.info("refusing a login after the drop")
            raise AuthenticationFailed("Authentication failed.")
        return super().validate_authentication(username, password, handler)


def main():
    global full_at, drop_kind, throttle, refuse_after_drop
    global zero_after_drop, refuse_rest, refuse, exit_at, exit_at_rnfr
    global exit_after_rnto, rcvbuf
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--drops", default="")
    ap.add_argument("--drop-kind", choices=("data", "control"), default="data")
    ap.add_argument("--stalls", default="")
    ap.add_argument("--full-at", type=int, default=None)
    ap.add_argument("--throttle", type=int, default=0)
    ap.add_argument("--rcvbuf", type=int, default=0)
    ap.add_argument("--refuse-login", action="store_true")
    ap.add_argument("--refuse-login-after-drop", action="store_true")
    ap.add_argument("--zero-after-drop", action="store_true")
    ap.add_argument("--refuse-rest", action="store_true")
    ap.add_argument("--refuse", default="")
    ap.add_argument("--exit-at", type=int, default=None)
    ap.add_argument("--exit-at-rnfr", action="store_true")
    ap.add_argument("--exit-after-rnto", action="store_true")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", default=None)
    ap.add_argument("--endless", default=None)
    ap.add_argument("--retr-drops", default="")
    ap.add_argument("--mlsd-close", type=int, default=None)
    ap.add_argument("--mlsd-size", default=None)
    ap.add_argument("--hostile", action="store_true")
    ap.add_argument("--size-reply", default=None)
    a = ap.parse_args()
    global endless, mlsd_close, mlsd_size, hostile, size_reply
    size_reply = a.size_reply
    endless, mlsd_close, mlsd_size = a.endless, a.mlsd_close, a.mlsd_size
    hostile = a.hostile
    if hostile:
        # Listings carry names as the raw bytes they have on disk.
        FaultHandler.unicode_errors = "surrogateescape"

    logging.basicConfig(filename=a.log, level=logging.INFO,
                        format="%(asctime)s %(message)s")
    password = os.environ.get("FAULTFTPD_PASSWORD")
    if not password:
        sys.exit("faultftpd: FAULTFTPD_PASSWORD is not set")
    pending_drops.update(int(x) for x in a.drops.split(",") if x)
    pending_stalls.update(int(x) for x in a.stalls.split(",") if x)
    pending_retr_drops.update(int(x) for x in a.retr_drops.split(",") if x)
    full_at = a.full_at
    drop_kind = a.drop_kind
    zero_after_drop = a.zero_after_drop
    refuse_rest = a.refuse_rest
    refuse = {k.upper(): int(v) for k, v in
              (x.split("=") for x in a.refuse.split(",") if x)}
    exit_at = a.exit_at
    exit_at_rnfr = a.exit_at_rnfr
    exit_after_rnto = a.exit_after_rnto
    rcvbuf = a.rcvbuf

    if a.refuse_login:
        auth = RefusingAuthorizer()
    elif a.refuse_login_after_drop:
        auth = RefusingAfterDropAuthorizer()
    else:
        auth = DummyAuthorizer()
    auth.add_user(a.user, password, a.root, perm="elradfmwMT")
    # Throttling is ours (FaultDTP._throttle); pyftpdlib's stays off.
    throttle = a.throttle
    FaultDTP.read_limit = 0
    handler = FaultHandler
    handler.authorizer = auth
    handler.dtp_handler = FaultDTP
    handler.abstracted_fs = FaultFS
    handler.banner = "faultftpd ready"
    handler.auth_failed_timeout = 0.2
    handler.permit_foreign_addresses = False
    server = FTPServer(("127.0.0.1", a.port), handler)
    server.max_cons = 16
    port = server.socket.getsockname()[1]
    sys.stdout.write("PORT %d\n" % port)
    sys.stdout.flush()
    try:
        server.serve_forever(handle_exit=True)
    finally:
        server.close_all()


if __name__ == "__main__":
    main()
