"""The web server's worker: gunicorn's threaded worker, where a connection takes a thread only
once it has sent something.

gunicorn 24 and later hand each new connection to a thread at once, and the thread waits up to
five seconds for the first bytes. Connections opened ahead of their first request (a browser's
preconnect, a crowd of readers arriving, a client reconnecting after a worker died) then hold
every thread of a worker while the requests behind them wait: with readers opening 256
connections at 1,100 pages a second, signers' requests in the first seconds waited over a second;
a few idle connections from anyone stalled a worker for five. Here a new connection waits in the
worker's poller, as a kept-alive one does, and goes to a thread when it becomes readable; one
that sends nothing is closed after the keep-alive timeout.
"""

import errno
import selectors
import time
from functools import partial

from gunicorn.workers import gthread


class ThreadWorker(gthread.ThreadWorker):
    def accept(self, listener) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        client_sock.setblocking(False)
        conn = gthread.TConn(self.cfg, client_sock, client_addr, listener.getsockname())
        # Closed if nothing arrives by then (at least 2 s, even with keep-alive off); the same
        # length as every other entry keeps the pending queue in timeout order.
        conn.timeout = time.monotonic() + max(self.cfg.keepalive, 2)
        self.pending_conns.append(conn)
        self.poller.register(
            client_sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn)
        )

    def set_accept_enabled(self, enabled: bool) -> None:
        """A stopping worker (a reload, its master gone) closes its own socket at once: with
        SO_REUSEPORT the kernel would go on sending it new connections until it has finished its
        last request, and they would wait (or, without net.ipv4.tcp_migrate_req, be reset)."""
        super().set_accept_enabled(enabled)
        if not enabled and not self.alive and self.cfg.reuse_port:
            for listener in self.sockets:
                listener.close()
            self.sockets = []
