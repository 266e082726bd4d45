"""Kenoma's recommended production settings: 2 worker processes x 4 threads (STYLE.md)."""

worker_class = "gthread"
workers = 2
threads = 4
timeout = 60
graceful_timeout = 10
keepalive = 5
accesslog = "-"
# gunicorn 27 would share one control socket between every server started from this checkout.
control_socket_disable = True
