# -*- coding: utf-8 -*-
"""Benchmark helper: per-task wall time and emulator API requests, written to a JSON file.

Enabled by tests/bench/test_site_bench.py with ANSIBLE_CALLBACK_PLUGINS pointing here,
ANSIBLE_CALLBACKS_ENABLED=bench_stages and:
  BENCH_STAGES_FILE   where to write the records (a JSON list, one record per task)
  BENCH_EMULATOR_URL  the emulator whose request counters are read at every task start

Each task's record covers the time from its start to the start of the next task (or the end
of the run), so that the records add up to the run: ansible's work between two tasks (loading
an included role, templating) counts for the task before. The request counters are read from
the emulator's control endpoint, which the emulator does not count itself. Meant for linear
plays with one host; with several hosts the records are per task, for all hosts together.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: bench_stages
type: aggregate
short_description: per-task time and emulator API requests, for the benchmarks
description: Writes one record per task (play, task, role, seconds, requests by verb and resource).
requirements: [the environment variables BENCH_STAGES_FILE and BENCH_EMULATOR_URL]
"""

import json
import os
import time
import urllib.request

from ansible.plugins.callback import CallbackBase

INCLUDES = ("include_role", "import_role")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_stages"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._file = os.environ.get("BENCH_STAGES_FILE")
        self._url = os.environ.get("BENCH_EMULATOR_URL", "").rstrip("/")
        self._records = []
        self._open = None
        self._play = None

    def _counts(self):
        if not self._url:
            return {}
        with urllib.request.urlopen(self._url + "/_emulator/requests", timeout=10) as response:
            return json.loads(response.read())["counts"]

    def _close(self):
        """Close the open task's record; returns the counters read (None when no task was open)."""
        if self._open is None:
            return None
        record, self._open = self._open, None
        counts, before = self._counts(), record.pop("counts")
        record["seconds"] = round(time.perf_counter() - record.pop("started"), 3)
        record["requests"] = dict((key, counts[key] - before.get(key, 0)) for key in sorted(counts)
                                  if counts[key] != before.get(key, 0))
        self._records.append(record)
        return counts

    def _start(self, task):
        counts = self._close()
        short = task.action.rsplit(".", 1)[-1]
        if short in INCLUDES:
            role = str(task.args.get("name", "")).rsplit(".", 1)[-1]
        elif task._role is not None:
            role = task._role.get_name().rsplit(".", 1)[-1]
        else:
            role = None
        if counts is None:
            counts = self._counts()
        self._open = {"play": self._play, "task": task.get_name(), "role": role, "action": task.action,
                      "path": task.get_path(), "counts": counts, "started": time.perf_counter()}

    def v2_playbook_on_play_start(self, play):
        self._close()
        self._play = play.get_name()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task)

    def v2_playbook_on_stats(self, stats):
        self._close()
        if self._file:
            with open(self._file, "w") as handle:
                json.dump(self._records, handle, indent=1)
