"""Shared harness for strata's interop tests.

Every test is a script that calls `harness.main(test_fn)`. The harness parses
`--strata BINARY` (and any extra `--name value` pairs the CMake rule passes), gives the test a
`Ctx` that starts brokers on free loopback ports with fresh temp data dirs, and afterwards —
pass, fail or Ctrl-C — stops every broker (SIGTERM, then SIGKILL), kills leftover client
processes and removes the temp dir. On failure it prints the traceback and the tail of each
broker's stderr. Exit codes: 0 pass, 1 fail, 77 skipped (CTest SKIP_RETURN_CODE).

Child processes get PR_SET_PDEATHSIG=SIGKILL, so even if CTest SIGKILLs the test script on a
timeout, no broker or client outlives it.
"""

import argparse
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kwire  # noqa: E402

SKIP_EXIT_CODE = 77
_PR_SET_PDEATHSIG = 1


class Skip(Exception):
    """Raise to report the test as skipped (a missing optional client, not a failure)."""


class TestFailure(AssertionError):
    pass


def fail(msg):
    raise TestFailure(msg)


def expect(cond, msg):
    if not cond:
        raise TestFailure(msg)


def expect_eq(seen, expected, what):
    if seen != expected:
        raise TestFailure(f"{what}: expected {expected!r}, saw {seen!r}")


def _die_with_parent():
    # Runs in the child between fork and exec.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            text = f.read().decode(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


class Broker:
    """One `strata broker` process. start() may be called again after stop()/kill9() to
    restart on the same data dir and port."""

    def __init__(self, ctx, name, data_dir, port, overrides):
        self.ctx = ctx
        self.name = name
        self.data_dir = data_dir
        self.port = port
        self.overrides = list(overrides)
        self.proc = None
        self.starts = 0
        self.log_paths = []

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def start(self, ready_timeout=30.0):
        assert self.proc is None, "broker already running"
        for _attempt in range(3):
            log = os.path.join(self.ctx.tmp, f"{self.name}-{self.starts}.stderr")
            self.starts += 1
            self.log_paths.append(log)
            cmd = [self.ctx.strata, "broker",
                   "--override", f"log.dirs={self.data_dir}",
                   "--override", f"listeners=PLAINTEXT://127.0.0.1:{self.port}"]
            for o in self.overrides:
                cmd += ["--override", o]
            with open(log, "wb") as err:
                self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                             stdout=err, stderr=err,
                                             preexec_fn=_die_with_parent)
            if self._wait_ready(ready_timeout):
                return self
            text = tail(log, 200)
            self.stop()
            # Someone else grabbed the port between free_port() and bind: pick another one,
            # but only on a fresh broker (a restart must keep its port).
            if "in use" in text.lower() and self.starts == 1 + _attempt and _attempt < 2:
                self.port = free_port()
                continue
            fail(f"{self.name} did not become ready on port {self.port} within "
                 f"{ready_timeout}s; stderr:\n{text}")
        fail(f"{self.name}: could not find a free port")

    def _wait_ready(self, timeout):
        """Ready = accepts TCP and answers ApiVersions v0 with error 0."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with kwire.Conn(self.port, timeout=2.0) as c:
                    err, apis = kwire.parse_api_versions_v0(
                        c.call(kwire.API_API_VERSIONS, 0, b""))
                    if err == 0 and apis:
                        return True
            except (OSError, kwire.Closed, ValueError):
                pass
            time.sleep(0.05)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def pid(self):
        return self.proc.pid if self.proc else None

    def stop(self, timeout=15.0):
        """SIGTERM, then SIGKILL after `timeout`. Returns the exit status (None if it had
        to be killed)."""
        if self.proc is None:
            return None
        p, self.proc = self.proc, None
        if p.poll() is not None:
            return p.returncode
        p.send_signal(signal.SIGTERM)
        try:
            return p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return None

    def kill9(self):
        assert self.proc is not None, "broker not running"
        p, self.proc = self.proc, None
        p.kill()
        p.wait()

    def stderr_text(self):
        return "\n".join(tail(p, 10**9) for p in self.log_paths)

    def report(self, lines=40):
        out = []
        for p in self.log_paths:
            out.append(f"---- {os.path.basename(p)} (last {lines} lines) ----")
            out.append(tail(p, lines))
        return "\n".join(out)


class Ctx:
    def __init__(self, args, extra):
        self.strata = os.path.abspath(args.strata)
        self.extra = extra
        _sweep_stale_tmp()
        self.tmp = tempfile.mkdtemp(prefix=f"strata-interop-{args.name}-{os.getpid()}-")
        self.brokers = []
        self.children = []

    def arg(self, name, default=None):
        return self.extra.get(name, default)

    def broker(self, name="broker", overrides=(), start=True):
        data = os.path.join(self.tmp, f"{name}-data")
        os.makedirs(data, exist_ok=True)
        b = Broker(self, name, data, free_port(), overrides)
        self.brokers.append(b)
        if start:
            b.start()
        return b

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def popen(self, cmd, **kw):
        kw.setdefault("preexec_fn", _die_with_parent)
        p = subprocess.Popen(cmd, **kw)
        self.children.append(p)
        return p

    def run(self, cmd, timeout=60, input=None, check=True, env=None):
        """Runs a client command; returns CompletedProcess with text stdout/stderr. On a
        non-zero exit or a timeout, fails with the command and both streams."""
        try:
            r = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout,
                               text=isinstance(input, str) or input is None, env=env,
                               preexec_fn=_die_with_parent)
        except subprocess.TimeoutExpired as e:
            fail(f"{' '.join(cmd)} timed out after {timeout}s\nstdout:\n{_s(e.stdout)}\n"
                 f"stderr:\n{_s(e.stderr)}")
        if check and r.returncode != 0:
            fail(f"{' '.join(cmd)} exited with {r.returncode}, expected 0\n"
                 f"stdout:\n{_s(r.stdout)[-3000:]}\nstderr:\n{_s(r.stderr)[-3000:]}")
        return r

    def cleanup(self):
        for p in self.children:
            if p.poll() is None:
                p.kill()
                p.wait()
        for b in self.brokers:
            b.stop()
        if os.environ.get("STRATA_KEEP_TMP") == "1":
            print(f"(kept {self.tmp})")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def _sweep_stale_tmp():
    """Removes temp dirs left by test processes that were SIGKILLed (a CTest timeout): their
    names carry the owner's pid."""
    root = tempfile.gettempdir()
    for name in os.listdir(root):
        if not name.startswith("strata-interop-"):
            continue
        parts = name.split("-")
        pid = next((int(p) for p in reversed(parts[2:-1]) if p.isdigit()), None)
        if pid is None or pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)
        except PermissionError:
            pass


def _s(x):
    if x is None:
        return ""
    return x.decode(errors="replace") if isinstance(x, bytes) else x


def run_kafkajs(ctx, script, broker, timeout=90):
    """Runs tests/interop/js/<script> against `broker` (skips without node or kafkajs). The
    script prints `RESULT <json>` with a "failures" list; fails on any failure or a non-zero
    exit, else returns the parsed result."""
    import json
    import shutil
    js_dir = ctx.arg("js-dir")
    node = shutil.which("node")
    if node is None:
        raise Skip("node is not installed")
    if not os.path.isdir(os.path.join(js_dir, "node_modules", "kafkajs")):
        raise Skip(f"kafkajs is not installed: run `npm install` in {js_dir} "
                   "(scripts/test.sh does)")
    r = ctx.run([node, os.path.join(js_dir, script), broker.bootstrap], timeout=timeout,
                check=False)
    lines = [l for l in r.stdout.splitlines() if l.startswith("RESULT ")]
    expect(lines, f"{script} printed no RESULT line (exit {r.returncode})\n"
                  f"stdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}")
    result = json.loads(lines[-1][len("RESULT "):])
    expect(not result["failures"], f"{script}: checks failed:\n  " +
           "\n  ".join(result["failures"]) + f"\nstderr:\n{r.stderr[-2000:]}")
    expect_eq(r.returncode, 0, f"{script} exit status")
    return result


def confluent_config(broker, **extra):
    """librdkafka settings shared by the confluent-kafka tests."""
    conf = {"bootstrap.servers": broker.bootstrap, "broker.address.family": "v4",
            "socket.timeout.ms": 10000}
    conf.update(extra)
    return conf


def _sigterm(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(test_fn, name=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--strata", required=True, help="path to the strata binary")
    parser.add_argument("--name", default=name or os.path.basename(sys.argv[0])[:-3])
    args, rest = parser.parse_known_args()
    extra = {}
    it = iter(rest)
    for k in it:
        if not k.startswith("--"):
            parser.error(f"unexpected argument {k}")
        extra[k[2:]] = next(it, None)
    signal.signal(signal.SIGTERM, _sigterm)
    ctx = Ctx(args, extra)
    start = time.monotonic()
    code = 1
    try:
        test_fn(ctx)
        code = 0
        print(f"PASS {args.name} ({time.monotonic() - start:.1f}s)")
    except Skip as s:
        code = SKIP_EXIT_CODE
        print(f"SKIP {args.name}: {s}")
    except BaseException as e:  # noqa: B036 - report everything, including Ctrl-C
        traceback.print_exc()
        print(f"FAIL {args.name} after {time.monotonic() - start:.1f}s: "
              f"{type(e).__name__}: {e}", file=sys.stderr)
        for b in ctx.brokers:
            alive = "running" if b.alive() else "not running"
            print(f"==== {b.name} (port {b.port}, {alive}) ====", file=sys.stderr)
            print(b.report(), file=sys.stderr)
    finally:
        ctx.cleanup()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
