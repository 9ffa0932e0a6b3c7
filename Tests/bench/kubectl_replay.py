"""Record kubectl's answers once, then replay them instantly, so a benchmark can time
kubectl-xpid's own work without kubectl and the API server in the way.

    recorder = write_recorder(directory, real_kubectl)   # pass as `--kubectl recorder`
    ... run kubectl-xpid once ...
    calls = load_recording(directory)                     # argv -> stdout, stderr, exit code
    replay = write_replay(calls, directory)               # pass as `--kubectl replay`

Both stand-ins are /bin/sh scripts. The recorder runs the real kubectl and keeps, per call,
the arguments (NUL-separated), stdout, stderr and exit code. The replay script is one `case`
on the exact arguments ("$*" joined with the unit separator, so an argument with a space is
still one argument); small answers are printed with the shell's builtin printf (no process
at all) and large ones with `exec cat FILE` (one exec), so a replayed call costs about one
/bin/sh start. An argv that was not recorded is refused with exit 97, a message on stderr
and a line in `missing` next to the script (read it with `missing_calls`).

The key is the arguments as the binary passes them (argv[0], the stand-in's own path, is
left out). kubectl-xpid passes no volatile arguments today (the kubeconfig, and so the
emulator's port, reaches kubectl through KUBECONFIG); `normalise` is where one would be
masked if that changed.
"""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

UNIT_SEPARATOR = "\x1f"
MISSING_EXIT = 97
EMBED_LIMIT = 8 * 1024  # answers up to this size are printed by the shell's builtin printf


@dataclass
class Call:
    args: tuple
    stdout: bytes
    stderr: bytes
    exit_code: int
    times_recorded: int = 1


def normalise(args: tuple) -> tuple:
    """The replay key for a recorded or replayed argument list (nothing volatile to mask today)."""
    return tuple(args)


def write_recorder(directory: Path, real_kubectl: str) -> Path:
    """A /bin/sh kubectl stand-in that runs `real_kubectl` and records every call under `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    d = shlex.quote(str(directory))
    script = f"""#!/bin/sh
# kubectl recorder for Tests/benchmark.py: runs the real kubectl, keeps argv, stdout, stderr, exit code.
f=$(mktemp {d}/call.XXXXXXXX) || exit 98
printf '%s\\0' "$@" > "$f.argv"
{shlex.quote(real_kubectl)} "$@" > "$f.out" 2> "$f.err" < /dev/null
rc=$?
cat "$f.out"
cat "$f.err" >&2
echo "$rc" > "$f.rc"
exit "$rc"
"""
    path = directory / "kubectl-recorder"
    path.write_text(script)
    path.chmod(0o755)
    return path


def load_recording(directory: Path) -> list:
    """Every recorded call, one per distinct argv (first-seen order by file time). The same argv
    recorded twice with different answers is an error: the replay could not be faithful."""
    calls: dict = {}
    entries = sorted(directory.glob("call.*.rc"), key=lambda p: p.stat().st_mtime_ns)
    for rc_file in entries:
        stem = str(rc_file)[: -len(".rc")]
        raw = Path(stem + ".argv").read_bytes()
        args = tuple(a.decode("utf-8", "surrogateescape") for a in raw.split(b"\0")[:-1])
        call = Call(normalise(args), Path(stem + ".out").read_bytes(), Path(stem + ".err").read_bytes(),
                    int(rc_file.read_text().strip()))
        previous = calls.get(call.args)
        if previous is None:
            calls[call.args] = call
        elif (previous.stdout, previous.stderr, previous.exit_code) != (call.stdout, call.stderr, call.exit_code):
            raise RuntimeError(f"kubectl {' '.join(call.args)} was called twice with different answers; "
                               "the recording cannot be replayed faithfully")
        else:
            previous.times_recorded += 1
    unfinished = [p for p in directory.glob("call.*.argv") if not Path(str(p)[: -len(".argv")] + ".rc").exists()]
    if unfinished:
        raise RuntimeError(f"{len(unfinished)} recorded kubectl call(s) never finished (see {directory})")
    return list(calls.values())


def _sq(data: bytes) -> bytes:
    """A single-quoted /bin/sh word for `data` (taken literally, also as a case pattern)."""
    return b"'" + data.replace(b"'", b"'\\''") + b"'"


def _enc(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def write_replay(calls: list, directory: Path) -> Path:
    """The replay stand-in for `calls`: a /bin/sh script with one case per recorded argv."""
    directory.mkdir(parents=True, exist_ok=True)
    us = UNIT_SEPARATOR.encode()
    missing = directory / "missing"
    lines = [b"#!/bin/sh", b"# kubectl replay for Tests/benchmark.py: recorded answers, keyed by the exact arguments.",
             b"IFS=" + _sq(us), b'case "$*" in']
    for i, call in enumerate(calls):
        if any(UNIT_SEPARATOR in a for a in call.args):
            raise RuntimeError(f"argument contains the unit separator: {call.args!r}")
        body = []
        if call.stderr:
            body.append(b"printf '%s' " + _sq(call.stderr) + b" >&2")
        if len(call.stdout) <= EMBED_LIMIT:
            if call.stdout:
                body.append(b"printf '%s' " + _sq(call.stdout))
            body.append(b"exit %d" % call.exit_code)
        else:
            out = directory / f"answer{i}.out"
            out.write_bytes(call.stdout)
            if call.exit_code == 0:
                body.append(b"exec cat " + _sq(_enc(str(out))))
            else:
                body += [b"cat " + _sq(_enc(str(out))), b"exit %d" % call.exit_code]
        lines.append(_sq(us.join(_enc(a) for a in call.args)) + b") " + b"; ".join(body) + b";;")
    lines += [b"*) IFS=' '",
              b"   printf 'kubectl replay: no recorded answer for: kubectl %s\\n' \"$*\" >&2",
              b"   printf '%s\\n' \"$*\" >> " + _sq(_enc(str(missing))),
              b"   exit %d;;" % MISSING_EXIT, b"esac", b""]
    path = directory / "kubectl-replay"
    path.write_bytes(b"\n".join(lines))
    path.chmod(0o755)
    if missing.exists():
        missing.unlink()
    return path


def missing_calls(replay: Path) -> list:
    """The argument lists the replay script was asked for but had no answer for."""
    missing = replay.parent / "missing"
    return missing.read_text().splitlines() if missing.exists() else []


@dataclass
class Timing:
    wall: float
    user: float
    sys: float
    exit_code: int

    @property
    def cpu(self) -> float:
        return self.user + self.sys


def timed_run(argv: list, env: dict | None, stdout: Path | None = None, stderr: Path | None = None,
              timeout: float = 900) -> Timing:
    """Runs `argv` to completion; wall time, and user and system CPU of the process and every
    descendant it waited for (os.wait4), e.g. kubectl-xpid plus the kubectl stand-ins it ran."""
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL
    err = open(stderr, "wb") if stderr else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        timer = threading.Timer(timeout, lambda: os.kill(process.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        for handle in (out, err):
            if handle is not subprocess.DEVNULL:
                handle.close()
    return Timing(wall, usage.ru_utime, usage.ru_stime, process.returncode)


def replay_loop_cost(replay: Path, sequence: list, env: dict | None) -> Timing:
    """What the stand-in itself costs for one run of the binary: every call of `sequence` (argument
    tuples, in the binary's order) run one after another through `replay`, output read from pipes
    as the binary reads it. CPU is the stand-in processes' own (RUSAGE_CHILDREN delta)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    exit_codes = []
    for args in sequence:
        proc = subprocess.run([str(replay), *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        exit_codes.append(proc.returncode)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    worst = next((c for c in exit_codes if c == MISSING_EXIT), 0)
    return Timing(wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime, worst)
