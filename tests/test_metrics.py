"""What a run writes besides checkpoints: the background writer keeps the loop's thread free
without losing order, work or errors."""

import threading

import pytest

from jaxgan.run import outputs


def test_background_writer_runs_jobs_in_order_off_the_callers_thread():
  done, threads = [], set()
  writer = outputs.BackgroundWriter()
  for i in range(20):
    writer.submit(lambda i=i: (done.append(i), threads.add(threading.get_ident())))
  writer.close()
  assert done == list(range(20))
  assert threading.get_ident() not in threads and len(threads) == 1


def test_a_keyed_job_is_not_queued_twice_and_the_queued_one_sees_the_newest_data():
  gate, history, plotted = threading.Event(), [1], []
  writer = outputs.BackgroundWriter()
  writer.submit(gate.wait)  # holds the thread, so the next jobs stay queued
  for i in range(2, 6):
    history.append(i)
    writer.submit(lambda: plotted.append(list(history)), key="plot")
  gate.set()
  writer.close()
  assert plotted == [[1, 2, 3, 4, 5]]  # one plot, of everything up to the last submit


def test_a_failed_job_is_raised_at_close_and_at_the_next_submit():
  def boom():
    raise OSError("disk full")

  writer = outputs.BackgroundWriter()
  writer.submit(boom)
  with pytest.raises(OSError, match="disk full"):
    writer.close()

  writer = outputs.BackgroundWriter()
  writer.submit(boom)
  writer._pending[0].exception()  # wait until it has failed
  with pytest.raises(OSError, match="disk full"):
    writer.submit(lambda: None)
  writer.close()
