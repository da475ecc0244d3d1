#!/usr/bin/env bash
# Run a command with the chart mirror of ../shared/z2jh served on 127.0.0.1 (tests/emulator/chart_mirror.py),
# its URL in HUBFLEET_CHART_REPO_URL; without that folder, run it as is (the official chart repository).
#   scripts/with_chart_mirror.sh ansible-playbook site.yml -i inventory/local
set -euo pipefail
cd "$(dirname "$0")/.."
charts="${HUBFLEET_Z2JH_CHARTS:-../shared/z2jh}"
if [[ -n "${HUBFLEET_CHART_REPO_URL:-}" || ! -f "$charts/index.yaml" ]]; then
  [[ -n "${HUBFLEET_CHART_REPO_URL:-}" ]] || echo "no chart mirror at $charts: the chart comes from https://hub.jupyter.org/helm-chart/" >&2
  exec "$@"
fi
url_file="$(mktemp)"
.venv/bin/python -m tests.emulator.chart_mirror serve --dir "$charts" --url-file "$url_file" >/dev/null &
mirror=$!
trap 'kill "$mirror" 2>/dev/null; wait "$mirror" 2>/dev/null; rm -f "$url_file"' EXIT
for _ in $(seq 100); do
  [[ "$(tail -c1 "$url_file" 2>/dev/null)" == "" && -s "$url_file" ]] && break
  kill -0 "$mirror" 2>/dev/null || { echo "the chart mirror did not start" >&2; exit 1; }
  sleep 0.1
done
HUBFLEET_CHART_REPO_URL="$(tr -d '\n' < "$url_file")"
export HUBFLEET_CHART_REPO_URL
echo "chart mirror: $HUBFLEET_CHART_REPO_URL (from $charts)" >&2
"$@"
