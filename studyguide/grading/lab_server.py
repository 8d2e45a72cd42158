"""The student's side of grading: serve the student's app to the trusted grader; not imported.

Started as ``python -I -B lab_server.py LAB_DIR PACKAGE`` (inside the sandbox when grading,
see :mod:`studyguide.grading.sandbox_boot`). It imports the student's package and answers the
trusted grader process over its standard input and output: one JSON object per line each way,
at most :data:`MAX_MESSAGE` bytes. Everything the student's code prints goes to standard error,
never into the channel. Requests (``"op"``):

- ``import``: import the package (the grader's first question: can the lab start at all?);
- ``start`` with ``config``: a fresh ``create_app(config)``, its tables created when it uses
  Flask-SQLAlchemy, a new Flask test client (cookies kept) and CLI runner;
- ``request`` with ``method``, ``path`` and the test client's keyword arguments (``json``,
  ``data``, ``headers``, ``query_string``, ``follow_redirects``, ``content_type``): Flask's
  own test client answers with status, headers and body;
- ``cli`` with ``args`` and ``input``: ``app.test_cli_runner().invoke``;
- ``call`` with ``name``, ``args``, ``kwargs``: a function of the package inside an app
  context, plain JSON in and out (see :func:`to_plain` and :meth:`LabServer.resolve`);
- ``row`` with ``row`` (a model reference) and ``attribute``: read that attribute of the row
  inside an app context, or, with ``invoke`` true, call it (a method) with ``args`` and
  ``kwargs``; plain JSON out, like ``call``.

A reply is ``{"ok": true, ...}`` or ``{"ok": false, "error": {"type_names", "message",
"traceback"}}`` for an exception of the student's code. Nothing here decides a grade: a
student who rewrites this server can only change what their own app seems to answer.

This file must stay self-contained: only the standard library and Flask.
"""

import base64
import datetime
import decimal
import errno
import importlib
import json
import os
import socket
import sys
import traceback

MAX_MESSAGE = 16 * 1024 * 1024
NETWORK_DISABLED = "network access is disabled while grading"
RUN_DISABLED = "app.run() starts a server; it is disabled while grading"


def _refuse_network(*_args, **_kwargs):
    """Stand-in for every call that would reach another machine."""
    raise OSError(errno.ENETUNREACH, NETWORK_DISABLED)


def block_network():
    """Name lookups and connections fail (the sandbox has no network; this is the message)."""
    original_connect = socket.socket.connect

    def connect(self, address):
        if self.family == socket.AF_UNIX:
            return original_connect(self, address)
        return _refuse_network()

    socket.socket.connect = connect
    socket.create_connection = _refuse_network
    socket.getaddrinfo = _refuse_network


def disable_app_run():
    """``Flask.run`` would block the server forever; make it raise instead."""
    import flask

    def run(self, *args, **kwargs):
        raise RuntimeError(RUN_DISABLED)

    flask.Flask.run = run


#: At most this many compiled URL builders are kept for reuse (a few per rule of the app).
MAX_REUSED_BUILDERS = 4096


def reuse_url_builders():
    """Compile each URL rule's builder once per process instead of once per app.

    Every grader test starts a fresh app with the same rules, and Werkzeug compiles two small
    Python functions per rule each time (``Rule._compile_builder``): most of what
    ``create_app`` costs. A builder's code depends only on the rule's text, its parsed parts
    and the names of its defaults, so an identical rule gets the function compiled for the
    first one; the function reads the rule's own converters when it runs. A rule with a
    default for one of its variables (the default is converted into the code) is compiled as
    usual. Nothing changes when Werkzeug has no such method.
    """
    from werkzeug.routing.rules import Rule

    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None:
        return
    compiled = {}

    def reused_builder(self, append_unknown=True):
        defaults = self.defaults or {}
        trace = getattr(self, "_trace", None)
        if not isinstance(trace, list) or any(dynamic and part in defaults
                                              for dynamic, part in trace):
            return compile_builder(self, append_unknown)
        key = (type(self), self.rule, bool(append_unknown), tuple(trace),
               tuple(map(str, defaults)))
        try:
            builder = compiled.get(key)
        except TypeError:  # a rule class of the student's whose parts cannot be a key
            return compile_builder(self, append_unknown)
        if builder is None:
            builder = compile_builder(self, append_unknown)
            if len(compiled) < MAX_REUSED_BUILDERS:
                compiled[key] = builder
        return builder

    Rule._compile_builder = reused_builder


def to_plain(value):
    """Turn a value returned by student code into plain JSON data."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_plain(v) for v in value]
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    table = getattr(value, "__table__", None)
    if table is not None:
        row = {c.key: to_plain(getattr(value, c.key, None)) for c in table.columns}
        row["__model__"] = type(value).__name__
        return row
    raise TypeError(f"cannot send a {type(value).__name__} back to the grader")


def from_wire(value):
    """Undo the channel's encoding of bytes (``{"__bytes__": base64}``) in request values."""
    if isinstance(value, dict):
        if set(value) == {"__bytes__"}:
            return base64.b64decode(value["__bytes__"])
        return {k: from_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_wire(v) for v in value]
    return value


def error_reply(exc):
    """The reply for an exception of the student's code: its class names, message, traceback."""
    names = [cls.__name__ for cls in type(exc).__mro__]
    text = "".join(traceback.format_exception(exc))[-4000:]
    return {"ok": False, "error": {"type_names": names, "message": str(exc)[:2000],
                                   "traceback": text}}


class LabServer:
    """The student's package and the current test's app."""

    def __init__(self, package):
        self.package_name = package
        self.package = None
        self.app = None
        self.client = None
        self.db = None

    def handle(self, request):
        """Answer one request (a dict with ``op``)."""
        op = request.get("op")
        handler = getattr(self, f"op_{op}", None) if isinstance(op, str) else None
        if handler is None:
            return {"ok": False, "error": {"type_names": ["ValueError"], "traceback": "",
                                           "message": f"unknown request {op!r}"}}
        return handler(request)

    def op_import(self, request):
        self.package = importlib.import_module(self.package_name)
        return {"ok": True}

    def op_start(self, request):
        if self.package is None:
            self.op_import(request)
        self._close_app()
        self.app = self.package.create_app(request["config"])
        self.db = self.app.extensions.get("sqlalchemy")
        if self.db is not None:
            with self.app.app_context():
                self.db.create_all()
        self.client = self.app.test_client()
        return {"ok": True}

    def _close_app(self):
        """Release the previous test's database connections."""
        if self.db is not None and self.app is not None:
            with self.app.app_context():
                self.db.session.remove()
                self.db.engine.dispose()
        self.app = self.client = self.db = None

    def _require_app(self):
        if self.app is None:
            raise RuntimeError("no app: the grader must start one first")

    def op_request(self, request):
        self._require_app()
        kwargs = {k: from_wire(request[k]) for k in
                  ("json", "data", "headers", "query_string", "follow_redirects",
                   "content_type")
                  if k in request}
        if isinstance(kwargs.get("headers"), list):
            kwargs["headers"] = [tuple(pair) for pair in kwargs["headers"]]
        response = self.client.open(request["path"], method=request["method"], **kwargs)
        body = response.get_data()
        return {"ok": True, "status": response.status_code,
                "headers": [[k, v] for k, v in response.headers.items()],
                "body": base64.b64encode(body).decode("ascii")}

    def op_cli(self, request):
        self._require_app()
        result = self.app.test_cli_runner().invoke(args=request.get("args"),
                                                   input=request.get("input"))
        exception = None
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            exception = f"{type(result.exception).__name__}: {result.exception}"[:2000]
        return {"ok": True, "exit_code": result.exit_code, "output": result.output[-100000:],
                "exception": exception}

    def resolve(self, value):
        """A ``{"__model__": name, "id": n}`` reference becomes that row's model instance."""
        if isinstance(value, dict) and set(value) == {"__model__", "id"}:
            models = importlib.import_module(f"{self.package_name}.models")
            return self.db.session.get(getattr(models, value["__model__"]), value["id"])
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def op_call(self, request):
        self._require_app()
        module_name, _, function_name = request["name"].rpartition(".")
        target = f"{self.package_name}.{module_name}" if module_name else self.package_name
        function = getattr(importlib.import_module(target), function_name)
        with self.app.app_context():
            args = [self.resolve(a) for a in request.get("args", [])]
            kwargs = {k: self.resolve(v) for k, v in request.get("kwargs", {}).items()}
            return {"ok": True, "value": to_plain(function(*args, **kwargs))}

    def op_row(self, request):
        self._require_app()
        reference, attribute = request["row"], request["attribute"]
        if not (isinstance(reference, dict) and set(reference) == {"__model__", "id"}):
            raise ValueError(f"not a row reference: {reference!r} (use model_ref)")
        if not isinstance(attribute, str) or not attribute.isidentifier():
            raise ValueError(f"not an attribute name: {attribute!r}")
        with self.app.app_context():
            row = self.resolve(reference)
            if row is None:
                raise LookupError(f"there is no {reference['__model__']} with id {reference['id']}")
            value = getattr(row, attribute)
            if request.get("invoke"):
                args = [self.resolve(a) for a in request.get("args", [])]
                kwargs = {k: self.resolve(v) for k, v in request.get("kwargs", {}).items()}
                value = value(*args, **kwargs)
            return {"ok": True, "value": to_plain(value)}


def serve(server, incoming, outgoing):
    """Answer requests until the grader closes the channel."""
    while True:
        line = incoming.readline(MAX_MESSAGE + 1)
        if not line:
            return
        try:
            reply = server.handle(json.loads(line))
        except BaseException as exc:  # the student's code raised (SystemExit included)
            reply = error_reply(exc)
        try:
            data = json.dumps(reply).encode() + b"\n"
        except (TypeError, ValueError, RecursionError) as exc:
            data = json.dumps(error_reply(exc)).encode() + b"\n"
        if len(data) > MAX_MESSAGE:
            data = json.dumps(error_reply(ValueError("the answer is too large"))).encode() + b"\n"
        outgoing.write(data)
        outgoing.flush()


def main(argv):
    """Keep the channel's file descriptors private, then serve the student's package."""
    lab_dir, package = argv
    incoming = os.fdopen(os.dup(0), "rb")
    outgoing = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)  # the student's prints go to the log, not into the channel
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.path.insert(0, lab_dir)
    sys.dont_write_bytecode = True
    block_network()
    disable_app_run()
    reuse_url_builders()
    serve(LabServer(package), incoming, outgoing)
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
