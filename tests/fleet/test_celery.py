"""fleet/celery.py: the application as the web process uses it to queue work."""

from __future__ import annotations

import threading

from fleet.celery import app


def test_every_thread_shares_one_result_backend():
    # gevent makes each web request a thread of its own; a per-thread backend would be built
    # (scanning every installed package's entry points) once per ingest request.
    seen = []
    for _ in range(2):  # one after the other: two first uses at once may each build one
        thread = threading.Thread(target=lambda: seen.append(app.backend))
        thread.start()
        thread.join()
    assert seen[0] is seen[1] is app.backend
