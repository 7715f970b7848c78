# Nexora's command server, run inside a workstation through one long-lived Engine API exec.
# It reads one JSON request per line on stdin and writes one JSON reply per line on stdout,
# so execute() costs a fork inside the container instead of a new exec per command.
#
# Hello:    {"op": "hello", "nonce": "<hex>"}            (the first line; the host's secret)
# Request:  {"id": 1, "op": "run", "command": "...", "cwd": "/workspace", "env": {...},
#            "timeoutMs": 30000, "maxBytes": 1048576}
#           {"id": 1, "op": "cancel"}
# Reply:    {"nonce": "<hex>", "id": 1, "stdout": base64, "stderr": base64, "exitCode": 0,
#            "signal": null, "durationMs": 1.2, "timedOut": false, "cancelled": false,
#            "truncated": false, "stdoutBytes": 12, "stderrBytes": 0}
#           {"nonce": "<hex>", "id": 1, "error": "...", "code": "cwd-missing"}
#
# Every process in the workstation runs as the same user as this server and is untrusted.
# The host ignores any reply line without the nonce, and this process makes itself
# non-dumpable first thing, so another process of the same user cannot open
# /proc/<pid>/fd/{0,1} (to read the nonce or write into the reply stream) nor read its memory.
PR_SET_DUMPABLE = 4
try:
    import ctypes

    NON_DUMPABLE = ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0
except Exception:  # no ctypes in this Python: the nonce alone still guards the replies
    NON_DUMPABLE = False

import base64, json, os, selectors, signal, subprocess, sys, time

# Ids cancelled before their request arrived, remembered so the run is refused when it comes.
EARLY_CANCELS_KEPT = 1024


class RequestError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class Capture:
    """Keeps the head and the tail of a stream, never more than max_bytes in memory."""

    def __init__(self, max_bytes):
        self.half = max(1, max_bytes // 2)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, data):
        self.total += len(data)
        room = self.half - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > self.half:
                del self.tail[: len(self.tail) - self.half]

    def truncated(self):
        return self.total > len(self.head) + len(self.tail)

    def result(self):
        if not self.truncated():
            return bytes(self.head + self.tail)
        skipped = self.total - len(self.head) - len(self.tail)
        marker = ("\n[... %d bytes omitted by nexora: output kept its first %d and last %d bytes ...]\n"
                  % (skipped, len(self.head), len(self.tail))).encode()
        return bytes(self.head) + marker + bytes(self.tail)


class Job:
    def __init__(self, request, selector):
        self.id = request["id"]
        self.started = time.monotonic()
        timeout_ms = request.get("timeoutMs") or 0
        self.deadline = self.started + timeout_ms / 1000.0 if timeout_ms > 0 else None
        max_bytes = int(request.get("maxBytes") or 1048576)
        env = dict(os.environ)
        env.update(request.get("env") or {})
        cwd = request.get("cwd") or None
        if cwd is not None and not os.path.isdir(cwd):
            raise RequestError("cwd-missing", "the working directory %s does not exist in the workstation" % cwd)
        self.process = subprocess.Popen(
            ["/bin/bash", "-c", request["command"]],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=cwd, env=env, start_new_session=True, close_fds=True,
        )
        self.streams = {"stdout": Capture(max_bytes), "stderr": Capture(max_bytes)}
        self.open = 2
        self.timed_out = False
        self.cancelled = False
        self.exited_at = None
        for name in ("stdout", "stderr"):
            pipe = getattr(self.process, name)
            os.set_blocking(pipe.fileno(), False)
            selector.register(pipe, selectors.EVENT_READ, (self, name))

    def kill_group(self):
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


NONCE = None


def reply(message):
    message["nonce"] = NONCE
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def read_hello():
    """The host's first line carries the nonce every reply must repeat."""
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(0, 1)
        if not chunk:
            sys.exit(0)
        line += chunk
        if len(line) > 4096:
            sys.exit(2)
    hello = json.loads(line)
    if hello.get("op") != "hello" or not isinstance(hello.get("nonce"), str) or len(hello["nonce"]) < 32:
        sys.exit(2)
    return hello["nonce"]


def finish(job, selector, jobs):
    for name in ("stdout", "stderr"):
        pipe = getattr(job.process, name)
        try:
            key = selector.get_key(pipe)
        except (KeyError, ValueError):
            pipe.close()
            continue
        # Something the command started in the background still holds this pipe (a server
        # started with `&`, say). Like `docker exec`, let it live; unlike it, don't wait for
        # it: keep draining the pipe so its writes never block or raise SIGPIPE.
        selector.modify(pipe, selectors.EVENT_READ, ("drain", pipe))
    code = job.process.wait()
    out, err = job.streams["stdout"], job.streams["stderr"]
    reply({
        "id": job.id,
        "stdout": base64.b64encode(out.result()).decode(),
        "stderr": base64.b64encode(err.result()).decode(),
        "exitCode": code if code >= 0 else None,
        "signal": signal.Signals(-code).name if code < 0 else None,
        "durationMs": round((time.monotonic() - job.started) * 1000, 3),
        "timedOut": job.timed_out,
        "cancelled": job.cancelled,
        "truncated": out.truncated() or err.truncated(),
        "stdoutBytes": out.total,
        "stderrBytes": err.total,
    })
    del jobs[job.id]


def not_started(job_id):
    empty = base64.b64encode(b"").decode()
    return {
        "id": job_id, "stdout": empty, "stderr": empty, "exitCode": None, "signal": None,
        "durationMs": 0, "timedOut": False, "cancelled": True, "truncated": False,
        "stdoutBytes": 0, "stderrBytes": 0,
    }


def main():
    global NONCE
    # Byte by byte, so nothing after the hello is read ahead into a buffer main() never sees.
    NONCE = read_hello()
    selector = selectors.DefaultSelector()
    stdin = sys.stdin.buffer.raw
    os.set_blocking(stdin.fileno(), False)
    selector.register(stdin, selectors.EVENT_READ, None)
    # SIGCHLD wakes the loop when a command exits, so nothing polls.
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector.register(wake_read, selectors.EVENT_READ, "wake")
    pending = b""
    jobs = {}
    early_cancels = []
    reply({"ready": True, "pid": os.getpid(), "nonDumpable": NON_DUMPABLE})
    while True:
        now = time.monotonic()
        timeout = None
        for job in jobs.values():
            if job.deadline is not None and not job.timed_out:
                timeout = max(0.0, job.deadline - now) if timeout is None else min(timeout, max(0.0, job.deadline - now))
            if job.exited_at is not None:
                timeout = 0.01 if timeout is None else min(timeout, 0.01)
        for key, _ in selector.select(timeout):
            if key.data == "wake":
                try:
                    os.read(wake_read, 4096)
                except BlockingIOError:
                    pass
                continue
            if key.data is None:
                chunk = os.read(stdin.fileno(), 65536)
                if not chunk:
                    for job in list(jobs.values()):
                        job.kill_group()
                    return
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    if not line.strip():
                        continue
                    request = None
                    try:
                        request = json.loads(line)
                        if request.get("op") == "cancel":
                            job = jobs.get(request.get("id"))
                            if job is not None:
                                job.cancelled = True
                                job.kill_group()
                            else:
                                # Cancelled before it started: refuse the run when it arrives.
                                early_cancels.append(request.get("id"))
                                del early_cancels[:-EARLY_CANCELS_KEPT]
                        elif request["id"] in early_cancels:
                            early_cancels.remove(request["id"])
                            reply(not_started(request["id"]))
                        elif request["id"] in jobs:
                            raise RequestError("duplicate-id", "request id %s is already running" % request["id"])
                        else:
                            jobs[request["id"]] = Job(request, selector)
                    except RequestError as error:
                        reply({"id": request.get("id"), "error": str(error), "code": error.code})
                    except Exception as error:  # a bad request must not stop the server
                        reply({"id": request.get("id") if isinstance(request, dict) else None, "error": str(error), "code": "failed"})
                continue
            if key.data[0] == "drain":
                try:
                    if not os.read(key.fileobj.fileno(), 65536):
                        selector.unregister(key.fileobj)
                        key.data[1].close()
                except BlockingIOError:
                    pass
                except OSError:
                    selector.unregister(key.fileobj)
                    key.data[1].close()
                continue
            job, name = key.data
            try:
                data = os.read(key.fileobj.fileno(), 65536)
            except BlockingIOError:
                continue
            if data:
                job.streams[name].add(data)
            else:
                selector.unregister(key.fileobj)
                job.open -= 1
        now = time.monotonic()
        for job in list(jobs.values()):
            if job.deadline is not None and not job.timed_out and now >= job.deadline:
                job.timed_out = True
                job.kill_group()
            if job.exited_at is None and job.process.poll() is not None:
                job.exited_at = now
            # Done when both pipes closed, or shortly after the process exited while
            # something it started still holds a pipe open.
            if job.exited_at is not None and (job.open == 0 or now - job.exited_at > 0.05):
                finish(job, selector, jobs)


if __name__ == "__main__":
    main()
