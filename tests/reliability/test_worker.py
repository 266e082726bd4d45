"""gunicorn_worker.KenomaThreadWorker under a real gunicorn (gunicorn.conf.py: 2 workers x 4
threads): a worker takes a connection only when a thread of its own is free to answer it, and a
stopping server still answers every client that connected before the signal.

A "held" connection sends the first line of a request and not the rest: the thread that took it
waits for the rest of the headers, so a test decides exactly how many threads are busy."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import threading
import time

import pytest

from tests.reliability.conftest import Server

pytestmark = pytest.mark.embedded  # gunicorn's workers, not the database, are under test

THREADS = 2 * 4  # gunicorn.conf.py


def hold(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall(b"GET /api/v1/instance HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return sock


def release(sock: socket.socket) -> bytes:
    """Finish the held request; its status line."""
    sock.sendall(b"Connection: close\r\n\r\n")
    status = sock.makefile("rb").readline()
    sock.close()
    return status


def ask(server: Server, results: list[int | str]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("GET", "/api/v1/instance", headers={"Connection": "close"})
        results.append(connection.getresponse().status)
    except OSError as error:
        results.append(type(error).__name__)
    finally:
        connection.close()


def ask_all(server: Server, count: int) -> tuple[list[threading.Thread], list[int | str]]:
    results: list[int | str] = []
    threads = [threading.Thread(target=ask, args=(server, results)) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads, results


def test_each_held_connection_gets_a_thread_of_its_own(make_server) -> None:
    """Eight connections, eight threads: each is answered the moment it is released, in any
    order. Stock gthread let one worker take five of them while the other worker had a thread
    idle, and the fifth then waited for a thread of its own worker to come free."""
    server = make_server()
    server.start()
    held = []
    for _ in range(THREADS):
        held.append(hold(server))
        time.sleep(0.05)  # accepted in this order
    time.sleep(0.5)
    for sock in reversed(held):  # a worker's last-accepted first: it would be the queued one
        sock.settimeout(5)
        assert release(sock)[:12] == b"HTTP/1.1 200"


def test_sigterm_answers_connections_waiting_in_the_backlog(make_server) -> None:
    """Every thread held, four clients waiting in the listen backlog, then SIGTERM: the waiting
    four are answered too, not reset when the listening socket closes."""
    server = make_server()
    server.start()
    held = [hold(server) for _ in range(THREADS)]
    time.sleep(0.5)
    threads, results = ask_all(server, 4)
    time.sleep(0.5)
    assert results == []  # waiting: no thread is free to take them
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGTERM)
    time.sleep(0.5)  # the workers have begun their graceful stop
    assert [release(sock)[:12] for sock in held] == [b"HTTP/1.1 200"] * THREADS
    for thread in threads:
        thread.join(15)
    assert results == [200] * 4
    assert server.process.wait(timeout=15) == 0
