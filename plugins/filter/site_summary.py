# -*- coding: utf-8 -*-
# Copyright: hubfleet.jupyterhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The summary of a site.yml run: one row per hub (and per cluster that failed before its hubs were
planned), as a text table for the log, Markdown and JSON for the report directory."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

COLUMNS = (("cluster", "cluster"), ("hub", "hub"), ("status", "status"), ("changed", "stages changed"),
           ("chart_version", "chart"), ("url", "URL"), ("error", "first error"))
# A first error is cut to this many characters in the tables (the JSON has it whole).
ERROR_WIDTH = 160


def _row(row, check_mode):
    failed = bool(row.get("failed_stage"))
    changed = list(row.get("changed") or [])
    if failed:
        status = "failed at " + row["failed_stage"]
    elif changed:
        status = "would change" if check_mode else "changed"
    else:
        status = "ok"
    error = " ".join(str(row.get("error") or "").split())
    return dict(row, status=status, failed=failed, changed=changed, error=error)


def _cells(row):
    cells = {key: str(row.get(key) or "") for key, _title in COLUMNS}
    cells["changed"] = ", ".join(row["changed"]) or "-"
    if len(cells["error"]) > ERROR_WIDTH:
        cells["error"] = cells["error"][:ERROR_WIDTH - 3] + "..."
    return [cells[key] or "-" for key, _title in COLUMNS]


def _text(rows):
    table = [[title for _key, title in COLUMNS]] + [_cells(row) for row in rows]
    widths = [max(len(line[column]) for line in table) for column in range(len(COLUMNS))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in table]


def _markdown(rows, check_mode):
    def line(cells):
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
    title = "# hubfleet site.yml summary%s\n\n" % (" (check mode: nothing was written)" if check_mode else "")
    lines = [line([title_ for _key, title_ in COLUMNS]), line(["---"] * len(COLUMNS))]
    return title + "\n".join(lines + [line(_cells(row)) for row in rows]) + "\n"


def site_summary(rows, check_mode=False):
    rows = sorted((_row(row, check_mode) for row in json.loads(json.dumps(rows))),
                  key=lambda row: (row["cluster"], row.get("hub") or ""))
    return {
        "rows": rows,
        "failed": ["%s/%s" % (row["cluster"], row["hub"]) if row.get("hub") else row["cluster"]
                   for row in rows if row["failed"]],
        "text": _text(rows),
        "markdown": _markdown(rows, check_mode),
        "json": json.dumps({"check_mode": bool(check_mode), "hubs": rows}, indent=2, sort_keys=True) + "\n",
    }


class FilterModule:
    def filters(self):
        return {"site_summary": site_summary}
