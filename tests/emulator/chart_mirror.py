"""A local Helm chart repository: a static HTTP server for a directory holding `index.yaml` and chart `.tgz` files.

A Helm chart repository is "an HTTP server that houses an index.yaml file and optionally some packaged charts"
(https://helm.sh/docs/topics/chart_repository/). Relative `urls` in the index are resolved by helm against the
repository URL; absolute ones (e.g. https://hub.jupyter.org/helm-chart/jupyterhub-4.4.0.tgz) are rewritten, in
memory only, to point at this mirror when the mirror holds a file of that name, so that nothing leaves 127.0.0.1.

    with ChartMirror("/work/shared/z2jh") as url:
        subprocess.run(["helm", "pull", "jupyterhub", "--repo", url, "--version", "4.4.0"])

    python -m tests.emulator.chart_mirror serve [--dir DIR] [--port 0] [--url-file FILE]
"""
import argparse
import functools
import http.server
import pathlib
import posixpath
import signal
import sys
import threading
import urllib.parse

import yaml

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_DIR = (REPO_ROOT / ".." / "shared" / "z2jh").resolve()


def rewrite_index(text, base_url, available):
    """The index with every absolute `urls` entry naming a file in `available` pointed at `base_url`.

    Returns the text unchanged when no entry needed rewriting (relative URLs are left to helm)."""
    index = yaml.safe_load(text) or {}
    changed = False
    for versions in (index.get("entries") or {}).values():
        for version in versions or []:
            urls = version.get("urls") or []
            for i, url in enumerate(urls):
                parsed = urllib.parse.urlparse(url)
                if not parsed.scheme:
                    continue
                name = posixpath.basename(parsed.path)
                if name in available:
                    urls[i] = f"{base_url}/{urllib.parse.quote(name)}"
                    changed = True
    return yaml.safe_dump(index, sort_keys=False) if changed else text


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the directory read-only; `index.yaml` goes through rewrite_index."""

    def __init__(self, *args, mirror, **kwargs):
        self.mirror = mirror
        super().__init__(*args, directory=str(mirror.directory), **kwargs)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if urllib.parse.urlparse(self.path).path == "/index.yaml":
            return self._index(head=False)
        return super().do_GET()

    def do_HEAD(self):  # noqa: N802
        if urllib.parse.urlparse(self.path).path == "/index.yaml":
            return self._index(head=True)
        return super().do_HEAD()

    def _index(self, head):
        path = self.mirror.directory / "index.yaml"
        if not path.is_file():
            self.send_error(404, "index.yaml not found")
            return
        available = {p.name for p in self.mirror.directory.iterdir() if p.is_file()}
        body = rewrite_index(path.read_text(), self.mirror.url, available).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-yaml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, fmt, *args):
        if self.mirror.verbose:
            super().log_message(fmt, *args)


class ChartMirror:
    """A chart repository served from `directory` on 127.0.0.1; as a context manager it yields its URL."""

    def __init__(self, directory=DEFAULT_DIR, port=0, verbose=False):
        self.directory = pathlib.Path(directory).resolve()
        if not (self.directory / "index.yaml").is_file():
            raise FileNotFoundError(f"{self.directory}/index.yaml: not a chart repository directory")
        self.verbose = verbose
        self._server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", port), functools.partial(_Handler, mirror=self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)
        self._thread.start()
        return self.url

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.emulator.chart_mirror", description=__doc__.split("\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve a chart directory in the foreground until Ctrl-C or SIGTERM")
    serve.add_argument("--dir", default=str(DEFAULT_DIR), help=f"chart directory (default {DEFAULT_DIR})")
    serve.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: a free one)")
    serve.add_argument("--url-file", help="write the repository URL to this file once serving")
    serve.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    try:
        mirror = ChartMirror(args.dir, args.port, args.verbose)
    except (FileNotFoundError, OSError) as exc:
        print(f"chart_mirror: {exc}", file=sys.stderr)
        return 2
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with mirror as url:
        if args.url_file:
            pathlib.Path(args.url_file).write_text(url + "\n")
        print(url, flush=True)
        try:
            stopped.wait()
        except KeyboardInterrupt:
            return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
