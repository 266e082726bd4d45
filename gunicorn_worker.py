"""gunicorn's gthread worker with two changes Kenoma's load needs (gunicorn.conf.py names it).

1. A worker accepts a new connection only while it has a free request thread; otherwise the
   connection waits in the kernel's listen backlog for whichever worker frees a thread first. Stock gthread accepts until it holds `worker_connections` (default 1000),
   so a handful of keep-alive clients (a proxy, a browser, wrk) can all land on one worker while
   the other idles: the home timeline measured 0.44-1.63 of its usual speed from one run to the
   next with 500 streams open (issue 16). Idle kept-alive connections do not count, so a browser
   that keeps six connections open never stops a worker from taking new ones.
2. A stopping worker first takes every connection already waiting in the listen backlog. Those
   clients sent their request before the shutdown; without this they are reset when the last
   worker closes the listening socket. With (1) a backlog forms whenever both workers are busy.
"""

from __future__ import annotations

from gunicorn.workers.gthread import ThreadWorker

# More than any backlog a stopping worker should find (gunicorn's default backlog is 2048); a
# bound, so a client flood at shutdown cannot keep a worker accepting forever.
MAX_DRAINED = 4096


class KenomaThreadWorker(ThreadWorker):
    @property
    def worker_connections(self) -> int:
        # gthread's loop accepts while nr_conns < worker_connections, once per wake-up. Counting
        # idle kept-alive and pending connections into the limit leaves only the busy ones to it.
        idle = len(self.keepalived_conns) + len(self.pending_conns)
        return min(idle + self.cfg.threads, self.cfg.worker_connections)

    @worker_connections.setter
    def worker_connections(self, _value: int) -> None:
        pass  # ThreadWorker.__init__ assigns it; the property above reads cfg itself.

    def set_accept_enabled(self, enabled: bool) -> None:
        # run() calls this with False once its loop has ended, before waiting out the requests
        # in hand and closing the listeners: the moment to take what waits in the backlog.
        if not enabled and not self.alive:
            self.drain_backlog()
        super().set_accept_enabled(enabled)

    def drain_backlog(self) -> None:
        for listener in self.sockets:
            listener.setblocking(False)
            for _ in range(MAX_DRAINED):
                held = self.nr_conns
                self.accept(listener)  # gthread's own: counts, wraps and queues the connection
                if self.nr_conns == held:
                    break  # the backlog is empty (accept swallowed EAGAIN)
