"""Command line: serve, start, stop, run. See docs/emulator.md."""
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


def serve(args):
    server = EmulatorServer(args.port, openshift=not args.vanilla, verbose=args.verbose)
    signal.signal(signal.SIGTERM, _exit_on_signal)
    write_kubeconfig(args.kubeconfig, server.url)
    flavour = "vanilla Kubernetes" if args.vanilla else "OpenShift"
    print(f"emulator ({flavour}) listening on {server.url}, kubeconfig {args.kubeconfig}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.stopping.set()
        server.server_close()


def _server_url(path):
    return json.loads(pathlib.Path(path).read_text())["clusters"][0]["cluster"]["server"]


def _answers(url):
    try:
        with urllib.request.urlopen(f"{url}/_emulator/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def start(args, out=sys.stdout):
    state = pathlib.Path(args.state_dir)
    state.mkdir(parents=True, exist_ok=True)
    stop(args)
    kube = pathlib.Path(args.kubeconfig).resolve()
    kube.unlink(missing_ok=True)
    command = [sys.executable, "-m", "tests.emulator", "serve", "--port", str(args.port), "--kubeconfig", str(kube)]
    if args.vanilla:
        command.append("--vanilla")
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
    pid_file = pathlib.Path(args.state_dir) / "pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    try:
        if _is_emulator(pid):
            os.kill(pid, signal.SIGTERM)
            if not _gone_within(pid, STOP_TIMEOUT):
                os.kill(pid, signal.SIGKILL)
                _gone_within(pid, STOP_TIMEOUT)
    except ProcessLookupError:
        pass  # it exited on its own meanwhile
    pid_file.unlink(missing_ok=True)


def run(args):
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        sys.exit("run needs a command after --")
    # Our own messages go to stderr: the command's stdout stays its own, e.g. for a pipe.
    with tempfile.TemporaryDirectory(prefix="emulator-") as state_dir:
        args.state_dir, args.port = state_dir, 0
        start(args, out=sys.stderr)
        try:
            env = {**os.environ, "KUBECONFIG": str(pathlib.Path(args.kubeconfig).resolve())}
            code = subprocess.call(command, env=env)
        finally:
            stop(args)
    print(f"kubeconfig of the emulated cluster was: {pathlib.Path(args.kubeconfig).resolve()}", file=sys.stderr)
    sys.exit(code)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    commands = parser.add_subparsers(dest="action", required=True)
    for name, func in (("serve", serve), ("start", start), ("stop", stop), ("run", run)):
        sub = commands.add_parser(name)
        sub.set_defaults(func=func)
        if name != "stop":
            sub.add_argument("--kubeconfig", required=True, help="where to write the kubeconfig")
            sub.add_argument("--vanilla", action="store_true", help="serve no OpenShift API groups")
        if name in ("serve", "start"):
            sub.add_argument("--port", type=int, default=0, help="0 picks a free port")
        if name in ("start", "stop"):
            sub.add_argument("--state-dir", required=True, help="holds the pid file and the log")
        if name == "serve":
            sub.add_argument("--verbose", action="store_true", help="log every request")
        if name == "run":
            sub.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
