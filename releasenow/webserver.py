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
        conn.set_timeout()  # now + keepalive: the pending queue stays in timeout order
        self.pending_conns.append(conn)
        self.poller.register(
            client_sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn)
        )
