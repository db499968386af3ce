"""Start, stop and inspect the local TorchServe.

    python -m model_server.tools.serve start --store model_store --var var [--inference-port N]
    python -m model_server.tools.serve start ... --bind 0.0.0.0 --token-auth --foreground
    python -m model_server.tools.serve status --var var
    python -m model_server.tools.serve stop --var var

``start`` writes ``VAR/torchserve/config.properties`` from ``model_server/config``'s template,
keeps logs, metrics, the pid file and TorchServe's sockets under ``VAR/torchserve`` (so several
instances can run side by side), starts TorchServe in the background and returns once every
model's workers are READY (``/ping`` says Healthy seconds earlier, so it is not enough).

``--token-auth`` (the images): TorchServe's token authorization on, TorchServe on loopback, and
:mod:`model_server.tools.guard` on ``--bind`` at the public ports, taking the deployment's keys
from ``ALPHAMALE_MODEL_INFERENCE_KEY`` / ``ALPHAMALE_MODEL_MANAGEMENT_KEY`` (the management API
is served only when its key is set). TorchServe's own keys are in ``VAR/torchserve/key_file.json``
(mode 0600), which ``status`` and the readiness wait read.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from core.taxonomy import MODEL_NAMES
from model_server.paths import CONFIG_DIR
from model_server.tools import guard

TEMPLATE = CONFIG_DIR / "config.properties"
DEFAULT_MODELS = MODEL_NAMES
DEFAULT_PORTS = {"inference": 8080, "management": 8081, "metrics": 8082}
LOOPBACK = "127.0.0.1"  # local default; a container on a private network binds 0.0.0.0
# TorchServe's keys expire after 60 min unless told otherwise, and a new one would have to be
# fetched with its API key: ours live as long as the process (ten years), inside the container.
TOKEN_EXPIRATION_MIN = 10 * 365 * 24 * 60


class ServeError(RuntimeError):
    """TorchServe did not start or stop as asked."""


@dataclass(frozen=True)
class Paths:
    """Where one TorchServe instance keeps its state."""

    root: Path

    @classmethod
    def under(cls, var: Path) -> Paths:
        return cls(var.resolve() / "torchserve")

    @property
    def config(self) -> Path:
        return self.root / "config.properties"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def tmp(self) -> Path:
        """TMPDIR and java.io.tmpdir: the launcher's pid file and the worker sockets."""
        return self.root / "tmp"

    @property
    def pid(self) -> Path:
        return self.root / "ts.pid"

    @property
    def stdout(self) -> Path:
        return self.logs / "stdout.log"

    @property
    def key_file(self) -> Path:
        """TorchServe's keys, written into its working directory when token auth is on."""
        return self.root / "key_file.json"


def free_ports(count: int) -> list[int]:
    """Distinct free TCP ports on 127.0.0.1 (held open together so they differ)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((LOOPBACK, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def render_config(
    template: str,
    *,
    store: Path,
    ports: dict[str, int],
    models: list[str],
    bind: str = LOOPBACK,
    grpc_ports: tuple[int, int] | None = None,
    token_auth: bool = False,
) -> str:
    """The template with our ports, model store, allowed URLs and models filled in (and, with
    ``token_auth``, TorchServe's token authorization on, its keys valid as long as it runs).

    TorchServe 0.12 always starts its gRPC servers (fixed ports 7070/7071 unless told
    otherwise), so a second instance on the machine would fail to start: we do not use gRPC, so
    it gets free loopback ports of its own (``grpc_ports``, picked when not given).
    """
    grpc_inference, grpc_management = grpc_ports or free_ports(2)
    values = {
        **{f"{kind}_address": f"http://{bind}:{port}" for kind, port in ports.items()},
        "grpc_inference_address": LOOPBACK,
        "grpc_inference_port": grpc_inference,
        "grpc_management_address": LOOPBACK,
        "grpc_management_port": grpc_management,
        "model_store": str(store),
        "allowed_urls": f"file://{store}/[^/]+\\\\.mar",  # "\\\\" is one backslash for Java
        "load_models": ",".join(f"{m}.mar" for m in models),
    }
    if token_auth:
        values |= {
            "disable_token_authorization": "false",
            "token_expiration_min": TOKEN_EXPIRATION_MIN,
        }
    lines = []
    for line in template.splitlines():
        key = line.split("=", 1)[0].strip()
        lines.append(f"{key}={values.pop(key)}" if key in values and "=" in line else line)
    lines += [f"{key}={value}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def read_properties(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs if not k.lstrip().startswith("#")}


def management_url(paths: Paths) -> str:
    return read_properties(paths.config)["management_address"]


def ports_of(paths: Paths) -> list[int]:
    props = read_properties(paths.config)
    addresses = (props.get(f"{kind}_address", "") for kind in DEFAULT_PORTS)
    return [urlsplit(a).port for a in addresses if urlsplit(a).port]  # type: ignore[misc]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def environment(paths: Paths) -> dict[str, str]:
    """TorchServe's environment: venv first on PATH, state under VAR, one thread per worker."""
    venv_bin = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "LOG_LOCATION": str(paths.logs),
        "METRICS_LOCATION": str(paths.logs),
        "TEMP": str(paths.tmp),  # java.io.tmpdir: worker sockets
        "TMPDIR": str(paths.tmp),  # the launcher's .model_server.pid
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def read_pid(paths: Paths) -> int | None:
    try:
        pid = int(paths.pid.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def keys(paths: Paths) -> dict[str, str]:
    """TorchServe's own keys by API ("inference", "management"); none without token auth."""
    try:
        stored = json.loads(paths.key_file.read_text())
    except (OSError, ValueError):
        return {}
    return {api: stored[api]["key"] for api in ("inference", "management") if api in stored}


def get_json(url: str, timeout: float = 5.0, key: str | None = None) -> object:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with urllib.request.urlopen(
        urllib.request.Request(url, headers=headers), timeout=timeout
    ) as response:
        return json.load(response)


def workers_ready(base_url: str, model: str, key: str | None = None) -> tuple[bool, str]:
    """(all READY, a short description) for the default version of ``model``."""
    try:
        description = get_json(f"{base_url}/models/{model}", key=key)
    except (urllib.error.URLError, OSError, ValueError) as error:
        return False, f"{model}: {error}"
    workers = description[0].get("workers", []) if description else []  # type: ignore[index]
    states = [w.get("status") for w in workers]
    return bool(states) and all(s == "READY" for s in states), f"{model}: {states}"


def log_tail(paths: Paths, lines: int = 40) -> str:
    parts = []
    for name in ("stdout.log", "ts_log.log", "model_log.log"):
        log = paths.logs / name
        if log.is_file():
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {log} (last {len(tail)} lines) ---\n" + "\n".join(tail))
    return "\n".join(parts) or f"(no logs under {paths.logs})"


def wait_ready(paths: Paths, models: list[str], timeout: float) -> None:
    base, deadline, last = management_url(paths), time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        if read_pid(paths) is None:
            raise ServeError(f"TorchServe exited during start-up\n{log_tail(paths)}")
        key = keys(paths).get("management")  # written a moment after TorchServe starts
        results = [workers_ready(base, m, key) for m in models]
        last = "; ".join(text for _, text in results)
        if all(ok for ok, _ in results):
            return
        time.sleep(1)
    raise ServeError(f"workers not READY after {timeout:.0f} s ({last})\n{log_tail(paths)}")


def launch(paths: Paths, store: Path, models: list[str]) -> int:
    """Run ``torchserve --start`` (it returns at once) and record the frontend's pid."""
    launcher_pid = paths.tmp / ".model_server.pid"
    launcher_pid.unlink(missing_ok=True)
    command = [str(Path(sys.executable).parent / "torchserve"), "--start", "--ncs"]
    command += ["--model-store", str(store), "--ts-config", str(paths.config), "--models"]
    command += [f"{m}={m}.mar" for m in models]
    with paths.stdout.open("ab") as out:
        subprocess.run(
            command,
            cwd=paths.root,  # TorchServe drops files (key_file.json, logs) into its cwd
            env=environment(paths),
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            start_new_session=True,  # its own process group: stop can reach the workers
        )
    if not launcher_pid.is_file():
        raise ServeError(f"torchserve --start wrote no pid file\n{log_tail(paths)}")
    pid = int(launcher_pid.read_text().strip())
    paths.pid.write_text(f"{pid}\n")
    return pid


def start(
    store: Path,
    var: Path,
    ports: dict[str, int],
    models: list[str],
    timeout: float = 180,
    bind: str = LOOPBACK,
    token_auth: bool = False,
) -> Paths:
    """Start TorchServe (unless this VAR's instance already runs) and wait until READY."""
    paths, store = Paths.under(var), store.resolve()
    missing = [m for m in models if not (store / f"{m}.mar").is_file()]
    if missing:
        raise ServeError(f"no archive for {missing} in {store}: run `make models` first")
    if read_pid(paths) is None:
        busy = [port for port in ports.values() if port_open(port)]
        if busy:
            raise ServeError(f"port(s) {busy} on 127.0.0.1 already in use")
        for directory in (paths.logs, paths.tmp):
            directory.mkdir(parents=True, exist_ok=True)
        config = render_config(
            TEMPLATE.read_text(),
            store=store,
            ports=ports,
            models=models,
            bind=bind,
            token_auth=token_auth,
        )
        paths.config.write_text(config)
        paths.key_file.unlink(missing_ok=True)  # a former run's keys are void
        launch(paths, store, models)
    try:
        wait_ready(paths, models, timeout)
    except ServeError:
        stop(var)
        raise
    return paths


def start_guarded(
    store: Path,
    var: Path,
    ports: dict[str, int],
    models: list[str],
    accept: dict[str, str],
    timeout: float = 180,
    bind: str = LOOPBACK,
) -> list[guard.Guard]:
    """TorchServe with token auth on free loopback ports, and a guard on ``bind`` at ``ports``
    for each API in ``accept`` (the keys callers must send, :func:`guard.deployment_keys`)."""
    inner = dict(zip(DEFAULT_PORTS, free_ports(len(DEFAULT_PORTS)), strict=True))
    paths = start(store, var, inner, models, timeout, LOOPBACK, token_auth=True)
    own = keys(paths)
    try:
        return [
            guard.open_guard(bind, ports[api], guard.Route(key, LOOPBACK, inner[api], own[api]))
            for api, key in accept.items()
        ]
    except OSError as error:  # e.g. the port is taken
        stop(var)
        raise ServeError(f"the guards cannot listen on {bind}: {error}") from error


def stop(var: Path, timeout: float = 60) -> bool:
    """Stop this VAR's TorchServe and wait until its ports close; False if none ran."""
    paths = Paths.under(var)
    pid = read_pid(paths)
    if pid is None:
        return False
    ports = ports_of(paths)
    command = [str(Path(sys.executable).parent / "torchserve"), "--stop"]
    subprocess.run(command, cwd=paths.root, env=environment(paths), capture_output=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if read_pid(paths) is None and not any(port_open(p) for p in ports):
            break
        time.sleep(0.5)
    else:  # did not stop in time: kill the process group it was started in
        with contextlib.suppress(ProcessLookupError):
            os.killpg(os.getpgid(pid), signal.SIGKILL)
    paths.pid.unlink(missing_ok=True)
    return True


def status(var: Path) -> dict[str, object]:
    """Each model's versions and worker states, as the management API reports them."""
    paths = Paths.under(var)
    if read_pid(paths) is None:
        return {"running": False}
    base, key = management_url(paths), keys(paths).get("management")
    listing = get_json(f"{base}/models", key=key)
    models = {}
    for entry in listing.get("models", []):  # type: ignore[union-attr]
        name = entry["modelName"]
        models[name] = [
            {
                "version": version["modelVersion"],
                "workers": [w["status"] for w in version.get("workers", [])],
            }
            for version in get_json(f"{base}/models/{name}/all", key=key)  # type: ignore[union-attr]
        ]
    return {"running": True, "management": base, "models": models}


def all_ready(report: dict[str, object]) -> bool:
    models = report.get("models") or {}
    workers = [w for versions in models.values() for v in versions for w in v["workers"]]  # type: ignore[union-attr]
    return bool(report.get("running")) and bool(workers) and all(w == "READY" for w in workers)


def follow(var: Path) -> int:
    """Block while TorchServe runs (container mode); SIGTERM/SIGINT stop it cleanly."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0 if stop(var) else 1))
    try:
        while read_pid(Paths.under(var)) is not None:
            time.sleep(2)
    except KeyboardInterrupt:
        stop(var)
    return 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m model_server.tools.serve", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    begin = commands.add_parser("start", help="start and wait until every worker is READY")
    begin.add_argument("--store", type=Path, required=True)
    begin.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS))
    begin.add_argument("--timeout", type=float, default=180)
    begin.add_argument("--bind", default=LOOPBACK, help="listen address (containers: 0.0.0.0)")
    begin.add_argument(
        "--foreground", action="store_true", help="stay attached until TorchServe exits"
    )
    begin.add_argument(
        "--token-auth",
        action="store_true",
        help="TorchServe's token auth on, behind guards on --bind that take the keys in "
        f"{' and '.join(guard.ENVIRONMENT.values())} (needs --foreground)",
    )
    for kind, port in DEFAULT_PORTS.items():
        begin.add_argument(f"--{kind}-port", type=int, default=port)
    for name, text in (("stop", "stop and wait until the ports close"), ("status", "workers")):
        commands.add_parser(name, help=text)
    for command in commands.choices.values():
        command.add_argument("--var", type=Path, default=Path("var"))
    args = parser.parse_args(argv)
    if getattr(args, "token_auth", False) and not args.foreground:
        parser.error("--token-auth needs --foreground: the guards run in this process")
    return args


def serve_guarded(args: argparse.Namespace, ports: dict[str, int]) -> int:
    """``start --token-auth``: the guards' keys checked before anything starts; then attached."""
    accept = guard.deployment_keys(os.environ)
    start_guarded(args.store, args.var, ports, args.models, accept, args.timeout, args.bind)
    served = ", ".join(f"{api} on {args.bind}:{ports[api]}" for api in accept)
    print(f"TorchServe READY with token auth: {served}", flush=True)
    return follow(args.var)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.command == "start":
            ports = {kind: getattr(args, f"{kind}_port") for kind in DEFAULT_PORTS}
            if args.token_auth:
                return serve_guarded(args, ports)
            paths = start(args.store, args.var, ports, args.models, args.timeout, args.bind)
            print(f"TorchServe READY: {', '.join(args.models)} (logs: {paths.logs})", flush=True)
            if args.foreground:
                return follow(args.var)
        elif args.command == "stop":
            print("TorchServe stopped." if stop(args.var) else "TorchServe was not running.")
        else:
            report = status(args.var)
            print(json.dumps(report, indent=2))
            return 0 if all_ready(report) else 1
    except (ServeError, guard.GuardError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
