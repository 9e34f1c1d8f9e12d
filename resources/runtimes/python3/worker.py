# Dispatch Console — python3 worker shim.
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Loads one Dispatch python3 handler (`module.func`) and serves invocations over fds 3 (requests) and 4 (replies),
# as described in ../PROTOCOL.md. Started by the server as:
#   python3 <runtimes>/python3/worker.py      (cwd = function dir; env DISPATCH_FUNCTION_DIR, DISPATCH_HANDLER)

import codecs
import importlib
import inspect
import io
import json
import os
import struct
import sys
import time
import traceback

REQ_FD, REP_FD = 3, 4
MAX_FRAME = 64 * 1024 * 1024
MAX_LINES = 1000
MAX_LINE_BYTES = 8192

_header = struct.Struct(">I")
# allow_nan=False: NaN/Infinity are not JSON and would break the server's parser; treat them as unserialisable.
# ensure_ascii keeps the output valid UTF-8 even when a string holds lone surrogates.
_encode = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode


class _Capture(io.TextIOBase):
    """Replaces sys.stdout/sys.stderr for the worker's lifetime. While an invocation runs (`active`) it keeps at most
    the lines the protocol returns, cutting while writing so that a chatty handler cannot grow the worker's memory
    without bound; otherwise it passes output through to the real stream, i.e. the worker log.

    Installed once rather than per invocation so that stream references taken at import time (e.g. the
    StreamHandler of logging.basicConfig()) are captured too."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self, real):
        self._real = real
        self.active = False
        self.buffer = _BinaryCapture(self, real)
        self.reset()

    def reset(self):
        self._lines = []
        self._cur = []
        self._cur_chars = 0
        self._cur_dropped = 0
        self._cur_open = False  # the current line has text, even if none of it was kept
        self._extra_lines = 0
        self._dirty = False

    def writable(self):
        return True

    def fileno(self):
        return self._real.fileno()

    def isatty(self):
        return False

    def flush(self):
        if not self.active:
            self._real.flush()

    def close(self):
        # Handlers sometimes close sys.stdout; the capture must survive for the next invocation.
        pass

    def write(self, s):
        if not self.active:
            return self._real.write(s)
        if not isinstance(s, str):
            raise TypeError("write() argument must be str, not %s" % type(s).__name__)
        if s:
            self._dirty = True
            parts = s.split("\n")
            self._add(parts[0])
            for part in parts[1:]:
                self._end_line()
                self._add(part)
        return len(s)

    def _add(self, text):
        if not text:
            return
        self._cur_open = True
        if len(self._lines) >= MAX_LINES:
            return
        # Keep MAX_LINE_BYTES characters (at least that many bytes); the exact byte cut happens in _end_line.
        room = MAX_LINE_BYTES - self._cur_chars
        if len(text) > room:
            self._cur_dropped += len(text[room:].encode("utf-8", "surrogatepass"))
            text = text[:room]
        if text:
            self._cur.append(text)
            self._cur_chars += len(text)

    def _end_line(self):
        if len(self._lines) >= MAX_LINES:
            self._extra_lines += 1
        else:
            line = "".join(self._cur)
            dropped = self._cur_dropped
            if self._cur_chars * 4 > MAX_LINE_BYTES or dropped:
                raw = line.encode("utf-8", "surrogatepass")
                if len(raw) > MAX_LINE_BYTES:
                    line = raw[:MAX_LINE_BYTES].decode("utf-8", "ignore")
                    dropped += len(raw) - len(line.encode("utf-8", "surrogatepass"))
            if not dropped and line.endswith("\r"):
                line = line[:-1]
            if dropped:
                line += " [line truncated: %d more bytes]" % dropped
            self._lines.append(line)
        self._cur = []
        self._cur_chars = 0
        self._cur_dropped = 0
        self._cur_open = False

    def take(self):
        """Returns the captured lines and resets the capture."""
        if not self._dirty:
            return []
        if self._cur_open:
            self._end_line()
        lines = self._lines
        if self._extra_lines:
            lines.append("[truncated: %d more lines]" % self._extra_lines)
        self.reset()
        return lines


class _BinaryCapture:
    """sys.stdout.buffer for code that writes bytes."""

    def __init__(self, text, real):
        self._text = text
        self._real = getattr(real, "buffer", None)
        # Incremental, so that a UTF-8 sequence split across two writes is not mangled.
        self._decode = codecs.getincrementaldecoder("utf-8")("replace").decode

    def write(self, b):
        if not self._text.active and self._real is not None:
            return self._real.write(b)
        self._text.write(self._decode(bytes(b)))
        return len(b)

    def flush(self):
        if not self._text.active and self._real is not None:
            self._real.flush()


class ProtocolError(Exception):
    pass


class HandlerLoadError(Exception):
    def __init__(self, message, file=None, line=None, stacktrace=None):
        super().__init__(message)
        self.file, self.line, self.stacktrace = file, line, stacktrace or []


def _rel(path, fdir):
    """Path relative to the function dir, or None when the file is not part of the function source."""
    # Pseudo-files such as "<frozen importlib._bootstrap>" are relative names: never part of the source.
    if not path or not os.path.isabs(path):
        return None
    path = os.path.normpath(path)
    if path != fdir and not path.startswith(fdir + os.sep):
        return None
    return os.path.relpath(path, fdir)


def _trace_lines(etype, exc, tb):
    return "".join(traceback.format_exception(etype, exc, tb)).rstrip("\n").split("\n")


def _message(exc):
    try:
        return str(exc) or type(exc).__name__
    except Exception:  # a broken __str__ must not take the worker down
        return type(exc).__name__


def _import_error(module_name, exc, fdir):
    """Turns an exception raised while importing the handler module into a HandlerLoadError."""
    if isinstance(exc, ModuleNotFoundError) and exc.name and (
            exc.name == module_name or module_name.startswith(exc.name + ".")):
        expected = module_name.replace(".", "/") + ".py"
        return HandlerLoadError("handler module '%s' not found in the function source (looked for %s)"
                                % (module_name, expected))
    if isinstance(exc, SyntaxError):
        # A syntax error in an installed package is still reported, but only the function's own files are
        # given as file/line.
        file = _rel(exc.filename, fdir)
        shown = file or exc.filename
        where = "%s:%s: " % (shown, exc.lineno) if shown and exc.lineno else ""
        stack = "".join(traceback.format_exception_only(type(exc), exc)).rstrip("\n").split("\n")
        return HandlerLoadError("%s%s: %s" % (where, type(exc).__name__, exc.msg or "invalid syntax"),
                                file, exc.lineno if file else None, stack)
    # The innermost frame inside the function source is where the user's code went wrong; the trace starts at
    # the outermost one, leaving out the shim and importlib.
    file = line = first_tb = None
    tb = exc.__traceback__
    while tb is not None:
        rel = _rel(tb.tb_frame.f_code.co_filename, fdir)
        if rel:
            file, line = rel, tb.tb_lineno
            first_tb = first_tb or tb
        tb = tb.tb_next
    stack = _trace_lines(type(exc), exc, first_tb)
    where = "%s:%s: " % (file, line) if file else ""
    return HandlerLoadError("%serror while importing handler module '%s': %s: %s"
                            % (where, module_name, type(exc).__name__, _message(exc)), file, line, stack)


def _check_signature(handler, func):
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return  # a builtin or extension callable without a signature: trust it, as Dispatch did
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if len(params) == 2 and all(p.kind in positional for p in params):
        return
    if len(params) == 2 or any(p.kind not in positional for p in params):
        what = "takes (%s)" % ", ".join(str(p) for p in params)
    else:
        what = "takes %d parameter%s" % (len(params), "" if len(params) == 1 else "s")
    raise HandlerLoadError("%s %s; a Dispatch handler takes exactly two: handle(ctx, payload)" % (handler, what))


def load_handler(fdir, handler):
    module_name, _, func_name = handler.rpartition(".")
    if not module_name or not func_name:
        raise HandlerLoadError("handler '%s' is not of the form module.function (e.g. hello.handle)" % handler)
    try:
        module = importlib.import_module(module_name)
    except BaseException as exc:  # noqa: B036 — SystemExit at import time is a load error too
        raise _import_error(module_name, exc, fdir) from None
    module_file = _rel(getattr(module, "__file__", None), fdir)
    func = getattr(module, func_name, None)
    if func is None:
        if module_file is None:
            # e.g. a file json.py: the already-loaded standard library module wins over the function source.
            raise HandlerLoadError("handler module '%s' resolves to %s, not to the function source; rename the file"
                                   % (module_name, getattr(module, "__file__", None) or "a built-in module"))
        raise HandlerLoadError("handler function '%s' not found in %s" % (func_name, module_file), module_file)
    code = getattr(func, "__code__", None)
    file = _rel(code.co_filename, fdir) if code else module_file
    line = code.co_firstlineno if code and file else None
    if not callable(func):
        raise HandlerLoadError("%s is not a function but a value of type %s" % (handler, type(func).__name__),
                               file, line)
    try:
        _check_signature(handler, func)
    except HandlerLoadError as err:
        err.file, err.line = file, line
        raise
    return func


def _read_exact(n):
    chunks = []
    while n:
        chunk = os.read(REQ_FD, n)
        if not chunk:
            if chunks:
                raise ProtocolError("request pipe closed in the middle of a frame")
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _write_frame(body):
    data = memoryview(_header.pack(len(body)) + body)
    while data:
        data = data[os.write(REP_FD, data):]


def _error_obj(kind, exc, tb):
    return {"type": kind, "message": _message(exc), "stacktrace": _trace_lines(type(exc), exc, tb)}


def _result(id_json, payload_json, error, stdout, stderr, duration):
    return ('{"type":"result","id":%s,"payload":%s,"error":%s,"logs":%s,"durationNs":%d}' % (
        id_json, payload_json, "null" if error is None else _encode(error),
        '{"stdout":[],"stderr":[]}' if not stdout and not stderr else _encode({"stdout": stdout, "stderr": stderr}),
        duration)).encode()


def _fitted_result(id_json, payload_json, error, stdout, stderr, duration):
    """The reply frame body; a reply over the frame limit becomes a FunctionError rather than a protocol error."""
    body = _result(id_json, payload_json, error, stdout, stderr, duration)
    if len(body) <= MAX_FRAME:
        return body
    error = {"type": "FunctionError", "stacktrace": [],
             "message": "the reply would be %d bytes of JSON, more than the %d a reply may carry; "
                        "return less data" % (len(body), MAX_FRAME)}
    body = _result(id_json, "null", error, stdout, stderr, duration)
    if len(body) <= MAX_FRAME:
        return body
    return _result(id_json, "null", error, [], ["[truncated: the logs did not fit into one reply]"], duration)


def _system_error(req_id, exc):
    error = {"type": "SystemError", "message": "worker failed: %s: %s" % (type(exc).__name__, _message(exc)),
             "stacktrace": _trace_lines(type(exc), exc, exc.__traceback__)}
    return _result(_encode(req_id), "null", error, [], [], 0)


def serve(func, out_cap, err_cap):
    perf_ns = time.perf_counter_ns
    unpack = _header.unpack
    loads = json.loads

    def invoke(req):
        exc = None
        sys.stdout, sys.stderr = out_cap, err_cap  # undo replacements a previous invocation left behind
        out_cap.active = err_cap.active = True
        start = perf_ns()
        try:
            result = func(req.get("context"), req.get("payload"))
        except BaseException as caught:  # noqa: B036 — KeyboardInterrupt/SystemExit must not end the worker
            exc = caught
        duration = perf_ns() - start
        out_cap.active = err_cap.active = False

        error = None
        if exc is not None:
            # tb_next drops this shim's frame: the user only cares about their own code.
            tb = exc.__traceback__.tb_next
            if isinstance(exc, (ValueError, TypeError)):
                error = _error_obj("InputError", exc, tb)
            elif isinstance(exc, SystemExit):
                error = _error_obj("FunctionError", exc, tb)
                error["message"] = "handler called exit(%r)" % (0 if exc.code is None else exc.code,)
            else:
                error = _error_obj("FunctionError", exc, tb)
            exc = tb = None  # frames would otherwise stay alive until the next error

        payload = "null"
        if error is None:
            try:
                payload = _encode(result)
            except (TypeError, ValueError, OverflowError, RecursionError) as exc:
                error = {"type": "FunctionError", "message": "return value is not JSON serializable: " + _message(exc),
                         "stacktrace": []}
        return _fitted_result(_encode(req.get("id")), payload, error, out_cap.take(), err_cap.take(), duration)

    while True:
        head = _read_exact(4)
        if head is None:
            return
        (size,) = unpack(head)
        if size > MAX_FRAME:
            raise ProtocolError("request frame of %d bytes exceeds the protocol limit" % size)
        body = _read_exact(size)
        if body is None:
            raise ProtocolError("request pipe closed in the middle of a frame")
        req = None
        try:
            req = loads(body)
            if req.get("type") != "invoke":
                continue  # other frame types are reserved for future use
            reply = invoke(req)
        except Exception as exc:  # the shim itself failed; report it rather than leave the server waiting
            out_cap.active = err_cap.active = False
            out_cap.reset()
            err_cap.reset()
            reply = _system_error(req.get("id") if isinstance(req, dict) else None, exc)
        _write_frame(reply)


def main():
    # Handlers may spawn processes; those must not hold the protocol pipes open after this worker dies.
    for fd in (REQ_FD, REP_FD):
        os.set_inheritable(fd, False)
    # Output outside invocations (import time, background threads) goes to the worker log; line buffering makes it
    # appear there promptly instead of at exit.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(line_buffering=True)
    out_cap, err_cap = _Capture(sys.stdout), _Capture(sys.stderr)
    sys.stdout, sys.stderr = out_cap, err_cap

    fdir = os.path.abspath(os.environ.get("DISPATCH_FUNCTION_DIR") or os.getcwd())
    handler = os.environ.get("DISPATCH_HANDLER", "")
    # Replace the shim's own directory (which python put first) so that only the function source shadows modules.
    if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
        sys.path[0] = fdir
    else:
        sys.path.insert(0, fdir)

    try:
        func = load_handler(fdir, handler)
    except HandlerLoadError as err:
        frame = {"type": "error",
                 "error": {"type": "FunctionError", "message": str(err), "stacktrace": err.stacktrace}}
        if err.file:
            frame["file"] = err.file
        if err.line:
            frame["line"] = err.line
        _write_frame(_encode(frame).encode())
        sys.exit(1)

    _write_frame(_encode({"type": "ready", "runtime": "python3",
                          "version": "%d.%d.%d" % sys.version_info[:3]}).encode())
    try:
        serve(func, out_cap, err_cap)
    except ProtocolError as err:
        print("dispatch worker: %s" % err, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
