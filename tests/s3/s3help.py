"""s3help.py - shared pieces of the s3:// tests: one Ceph cluster per test
module (tests/lib/ceph.py; about 6 s to start), the built test drivers,
and a TCP relay on loopback that cuts a connection mid-way."""
import os
import pathlib
import socket
import threading

import pytest

import ceph
from need import build_dir


def gateway(tmp_path_factory):
    why = ceph.skip_reason()
    if why:
        pytest.skip(why)
    return ceph.Ceph(tmp_path_factory.mktemp("s3"))


def tool(*parts):
    p = pathlib.Path(build_dir()).joinpath(*parts)
    if not p.exists():
        pytest.skip("%s is not built" % p)
    return str(p)


class Relay:
    """Listens on a free 127.0.0.1 port and relays every connection to
    127.0.0.1:target. The first connection whose client-to-server bytes pass
    `cut_after` is dropped there (both sockets closed) once; .cuts counts
    the drops, .conns the connections."""

    def __init__(self, target, cut_after=None):
        self.target = target
        self.cut_after = cut_after
        self.cuts = 0
        self.conns = 0
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.port = self.ls.getsockname()[1]
        self.stop = False
        self.socks = []
        self.t = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop = True
        self.ls.close()
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass
        return False

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def _accept(self):
        while not self.stop:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            self.conns += 1
            s = socket.create_connection(("127.0.0.1", self.target))
            self.socks += [c, s]
            state = {"up": 0}
            threading.Thread(target=self._pipe, args=(c, s, state, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(s, c, state, False), daemon=True).start()

    def _pipe(self, a, b, state, upstream):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                if upstream:
                    state["up"] += len(d)
                    if (self.cut_after is not None and self.cuts == 0 and
                            state["up"] > self.cut_after):
                        self.cuts += 1
                        break
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
