"""Command line: serve, start, stop, status, run. See docs/emulator.md."""
import argparse
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from . import persistence, resources
from .server import EmulatorServer

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
START_TIMEOUT = 30
STOP_TIMEOUT = 5


def kubeconfig(url):
    users = ("emulator", "emulator-developer")
    return {
        "apiVersion": "v1", "kind": "Config", "preferences": {}, "current-context": "emulator",
        "clusters": [{"name": "emulator", "cluster": {"server": url}}],
        # kubectl and helm send no token over plain HTTP: they act as the developer by impersonation.
        "users": [{"name": "emulator", "user": {"token": "emulator-admin-token"}},
                  {"name": "emulator-developer", "user": {"token": "emulator-developer-token", "as": "developer"}}],
        "contexts": [{"name": name, "context": {"cluster": "emulator", "user": name, "namespace": "default"}}
                     for name in users],
    }


def write_kubeconfig(path, url):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(kubeconfig(url), indent=2))
    os.chmod(partial, 0o600)
    partial.replace(path)


def _exit_on_signal(signum, frame):
    del frame
    sys.exit(128 + signum)


def _pid(state):
    try:
        return int((state / "pid").read_text())
    except (OSError, ValueError):
        return None


def serve(args):
    state = pathlib.Path(args.state_dir).resolve() if args.state_dir else None
    other = _pid(state) if state else None
    if other not in (None, os.getpid()) and _is_emulator(other) and _alive(other):
        sys.exit(f"emulator: another emulator (pid {other}) serves from {state}; stop it first")
    try:
        server = EmulatorServer(args.port, openshift=not args.vanilla, verbose=args.verbose, state_dir=state,
                                kube_version=args.kube_version)
    except persistence.StateError as exc:
        sys.exit(f"emulator: {exc}")
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit_on_signal)
    if state:
        # Saved at once too: the file then names the flavour being served, which start and run check.
        server.save()
        (state / "pid").write_text(str(os.getpid()))
        (state / "url").write_text(server.url)
    write_kubeconfig(args.kubeconfig, server.url)
    flavour = "vanilla Kubernetes" if args.vanilla else "OpenShift"
    print(f"emulator ({flavour} {server.cluster.catalogue.kube_version}) listening on {server.url}, "
          f"kubeconfig {args.kubeconfig}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        # A second Ctrl-C or SIGTERM must not cut the save short.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_IGN)
        server.stopping.set()
        server.server_close()
        server.save()
        if state and _pid(state) == os.getpid():
            (state / "pid").unlink(missing_ok=True)
            (state / "url").unlink(missing_ok=True)
        print("emulator stopped" + (f"; cluster saved in {persistence.state_file(state)}" if state else ""),
              flush=True)


def _server_url(path):
    return json.loads(pathlib.Path(path).read_text())["clusters"][0]["cluster"]["server"]


def _answers(url):
    try:
        with urllib.request.urlopen(f"{url}/_emulator/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _check_saved(state, args):
    """Refuse, in one line and before anything is stopped, a saved cluster of the other flavour or of another
    Kubernetes version than --kube-version."""
    try:
        persistence.read(state, not args.vanilla, args.kube_version)
    except persistence.StateError as exc:
        sys.exit(f"emulator: {exc}")


def _serving(state):
    """The URL of the emulator that serves from the state directory, or None."""
    pid = _pid(pathlib.Path(state))
    try:
        url = (pathlib.Path(state) / "url").read_text()
    except OSError:
        return None
    return url if pid and _is_emulator(pid) and _alive(pid) and _answers(url) else None


def start(args, out=sys.stdout):
    state = pathlib.Path(args.state_dir).resolve()
    state.mkdir(parents=True, exist_ok=True)
    _check_saved(state, args)
    stop(args)
    kube = pathlib.Path(args.kubeconfig).resolve()
    kube.unlink(missing_ok=True)
    command = [sys.executable, "-m", "tests.emulator", "serve", "--port", str(args.port), "--kubeconfig", str(kube),
               "--state-dir", str(state)]
    if args.vanilla:
        command.append("--vanilla")
    if args.kube_version:
        command += ["--kube-version", args.kube_version]
    with open(state / "emulator.log", "ab") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    (state / "pid").write_text(str(process.pid))
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"emulator exited with {process.returncode}; see {state / 'emulator.log'}")
        if kube.exists() and _answers(_server_url(kube)):
            print(f"emulator running at {_server_url(kube)}; kubeconfig: {kube}", file=out, flush=True)
            return
        time.sleep(0.1)
    stop(args)
    sys.exit(f"emulator did not answer within {START_TIMEOUT}s; see {state / 'emulator.log'}")


def status(args):
    url = _serving(args.state_dir)
    if url is None:
        print(f"no emulator serves from {args.state_dir}")
        sys.exit(3)
    print(f"emulator running at {url}")


def _is_emulator(pid):
    """Whether `pid` still runs an emulator, so that a stale pid file never makes us signal a stranger."""
    try:
        return b"tests.emulator" in pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        # Either the process is gone or there is no /proc to ask: then trust the pid file.
        return not pathlib.Path("/proc/self").exists() and _alive(pid)
    except PermissionError:
        return False


def _alive(pid):
    try:
        # `run` starts and stops the server itself: reap our own child, or it lingers as a zombie.
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not _zombie(pid)


def _zombie(pid):
    """An exited process nobody reaped yet: a container's init may take its time, or never do it."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] == "Z"


def _gone_within(pid, timeout):
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def stop(args):
    state = pathlib.Path(args.state_dir)
    pid = _pid(state)
    try:
        if pid and _is_emulator(pid):
            os.kill(pid, signal.SIGTERM)  # it saves its cluster, then exits
            if not _gone_within(pid, STOP_TIMEOUT):
                os.kill(pid, signal.SIGKILL)
                _gone_within(pid, STOP_TIMEOUT)
    except ProcessLookupError:
        pass  # it exited on its own meanwhile
    (state / "pid").unlink(missing_ok=True)
    (state / "url").unlink(missing_ok=True)
    if getattr(args, "forget", False):
        persistence.forget(state)


def _call(command, kubeconfig):
    """Run the command with KUBECONFIG set: (its exit code, None), or (127, a message) when it is not found."""
    try:
        return subprocess.call(command, env={**os.environ, "KUBECONFIG": str(kubeconfig)}), None
    except FileNotFoundError:
        name = command[0]
        if os.sep in name:
            return 127, f"run: {name} not found"
        return 127, f"run: {name} is not on PATH; try .venv/bin/{name}, or make site"
    except KeyboardInterrupt:
        return 130, None


def run(args):
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        sys.exit("run needs a command after --")
    kube = pathlib.Path(args.kubeconfig).resolve()
    state = pathlib.Path(args.state_dir).resolve() if args.state_dir else None
    # Our own messages go to stderr: the command's stdout stays its own, e.g. for a pipe.
    url = _serving(state) if state else None
    if url:
        _check_saved(state, args)
        write_kubeconfig(kube, url)
        print(f"emulator already running at {url}; kubeconfig: {kube}", file=sys.stderr)
        code, missing = _call(command, kube)
        closing = (f"emulator left running; kubeconfig: {kube}; "
                   f"python -m tests.emulator stop --state-dir {state} stops it")
    else:
        with tempfile.TemporaryDirectory(prefix="emulator-") as scratch:
            args.state_dir, args.port = state or scratch, 0
            start(args, out=sys.stderr)
            try:
                code, missing = _call(command, kube)
            finally:
                stop(args)
        if state:
            closing = f"emulator stopped; its cluster is kept in {state}, for the next start or run --state-dir {state}"
        else:
            closing = f"kubeconfig of the emulated cluster was: {kube}"
    print(missing or closing, file=sys.stderr)
    sys.exit(code)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    commands = parser.add_subparsers(dest="action", required=True)
    for name, func in (("serve", serve), ("start", start), ("stop", stop), ("status", status), ("run", run)):
        sub = commands.add_parser(name)
        sub.set_defaults(func=func)
        if name not in ("stop", "status"):
            sub.add_argument("--kubeconfig", required=True, help="where to write the kubeconfig")
            sub.add_argument("--vanilla", action="store_true", help="serve no OpenShift API groups")
            sub.add_argument("--kube-version", type=resources.kube_version, metavar="X.Y.Z",
                             help="the Kubernetes version a new cluster reports (default 1.33.0); a kept cluster "
                                  "keeps its own")
        if name in ("serve", "start"):
            sub.add_argument("--port", type=int, default=0, help="0 picks a free port")
        sub.add_argument("--state-dir", required=name in ("start", "stop", "status"),
                         help="keeps the cluster between runs, and the pid and url files and the log")
        if name == "serve":
            sub.add_argument("--verbose", action="store_true", help="log every request")
        if name == "stop":
            sub.add_argument("--forget", action="store_true", help="delete the saved cluster too")
        if name == "run":
            sub.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
