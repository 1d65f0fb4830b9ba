"""The archive index keeps one SQLite connection per OS thread, also for Qt pool threads.

A Qt pool thread loses its Python thread state after each job, and with it any ``threading.local``: the index
opened a new connection for every background job (opening a viewer runs several) and never closed the old ones,
since Python reports such threads as alive forever. Each held a file descriptor and its page cache (~1 MB per
viewer opened in the 20-cycle memory test).
"""

from __future__ import annotations

import threading

from superqt.utils import create_worker


def test_jobs_on_the_qt_pool_share_their_thread_connection(qtbot, gui_archive):
    index = gui_archive.index
    done = []

    def job():
        index.connection().execute("SELECT 1").fetchone()
        done.append(threading.get_native_id())

    for n in range(1, 7):
        worker = create_worker(job)
        worker.start()
        qtbot.waitUntil(lambda: len(done) == n, timeout=5000)
    pool_threads = set(done)
    # the main thread's connection plus one per pool thread that ran a job (was: one per job, never closed)
    assert len(index._connections) <= 1 + len(pool_threads), (len(index._connections), pool_threads)


def test_connections_of_ended_threads_are_closed(gui_archive):
    index = gui_archive.index
    opened = []

    def job():
        opened.append(index.connection())

    for _ in range(5):
        t = threading.Thread(target=job)
        t.start()
        t.join()
    index.connection()
    live = index._connections
    assert len(live) <= 2  # the main thread's and the last thread's (closed when the next one opens)
    closed = [c for c in opened if c not in live]
    assert len(closed) >= 4
    for con in closed:
        try:
            con.execute("SELECT 1")
        except Exception as exc:  # sqlite3.ProgrammingError: Cannot operate on a closed database
            assert "closed" in str(exc)
        else:
            raise AssertionError("a connection of an ended thread is still open")
