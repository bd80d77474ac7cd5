"""Read one Python file with ``ast`` and record the facts and findings the rules need.

Module level: names bound to framework objects (``agent = AssistantAgent(...)``), to
lists, dicts and other long-lived objects, ``None`` slots filled later through
``global``, and ``@lru_cache``/``@cache`` factories returning framework objects.
Functions: request handlers (route decorators, ``request``/``req`` params, handler
names, methods of view/handler classes, ``add_url_rule``/``add_api_route``), the names
they call, and their uses of module names. Syntax-specific findings (``asyncio.gather``
fan-out, callbacks that re-enter a run, looping tasks without a guard, unversioned
read-modify-write, tools that keep request data on ``self``) are produced here.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

from . import tables as T
from .findings import Binding, Func, ModuleFacts, Use, make_finding

FuncNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


def dotted(node: ast.AST) -> str:
    """``a.b.c`` for Name/Attribute chains, '' otherwise."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    if isinstance(node, ast.Call):
        inner = dotted(node.func)
        if inner:
            parts.append(inner + "()")
            return ".".join(reversed(parts))
    return ""


def position(node: ast.AST) -> tuple[int, int]:
    """1-based line and column of a node."""
    return getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1


def last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


class PythonReader(ast.NodeVisitor):
    def __init__(self, path: str, text: str, classes: Mapping[str, str]) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.classes = classes
        self.facts = ModuleFacts(path)
        self.stack: list[int] = []
        self.class_stack: list[ast.ClassDef] = []
        self.next_id = 0
        self.defs: dict[str, FuncNode] = {}
        self.node_stack: list[FuncNode] = []

    # ---------- helpers ----------
    def excerpt(self, node: ast.AST) -> str:
        start = getattr(node, "lineno", 1)
        end = min(getattr(node, "end_lineno", start) or start, start + 2)
        return " ".join(s.strip() for s in self.lines[start - 1:end]).strip()

    def framework_what(self, value: ast.AST | None) -> str:
        """'AutoGen agent (AssistantAgent)' when value builds a framework object."""
        if isinstance(value, ast.Await):
            value = value.value
        if not isinstance(value, ast.Call):
            return ""
        name = last(dotted(value.func))
        if name in self.classes:
            return f"{self.classes[name]} ({name})"
        if name in T.FRAMEWORK_FACTORIES:
            return f"{T.FRAMEWORK_FACTORIES[name]} ({name})"
        return ""

    def add(self, action: str, name: str, node: ast.AST, detail: str = "",
            constant: bool = False) -> None:
        if not self.stack or name not in self.facts.bindings:
            return
        line, col = position(node)
        self.facts.uses.append(Use(name, action, self.stack[-1], line, col,
                                   self.excerpt(node), detail, constant))

    def finding(self, signal: str, node: ast.AST, why: str) -> None:
        line, col = position(node)
        self.facts.findings.append(make_finding(
            signal, self.path, line, col, self.excerpt(node), why))

    # ---------- module level ----------
    def read_module(self, tree: ast.Module) -> ModuleFacts:
        self.module_statements(tree.body)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.defs.setdefault(node.name, node)
        self.visit(tree)
        return self.facts

    def module_statements(self, body: list[ast.stmt]) -> None:
        for st in body:
            if isinstance(st, ast.If | ast.Try | ast.With):
                self.module_statements(st.body)
                self.module_statements(getattr(st, "orelse", []))
                for h in getattr(st, "handlers", []):
                    self.module_statements(h.body)
                continue
            if isinstance(st, ast.FunctionDef | ast.AsyncFunctionDef):
                self.cached_factory(st)
                continue
            target: ast.expr | None = None
            value: ast.expr | None = None
            if isinstance(st, ast.Assign) and len(st.targets) == 1:
                target, value = st.targets[0], st.value
            elif isinstance(st, ast.AnnAssign):
                target, value = st.target, st.value
            if not isinstance(target, ast.Name):
                continue
            kind, what = self.binding_kind(value)
            if kind:
                parts = tuple(n.id for n in ast.walk(value) if isinstance(n, ast.Name)
                              and n.id in self.facts.bindings
                              and self.facts.bindings[n.id].kind == "instance"
                              ) if kind == "instance" and value is not None else ()
                self.facts.bindings[target.id] = Binding(
                    target.id, kind, st.lineno, st.col_offset + 1, self.excerpt(st), what,
                    parts=parts)

    def binding_kind(self, value: ast.expr | None) -> tuple[str, str]:
        what = self.framework_what(value)
        if what:
            return "instance", what
        if value is None or (isinstance(value, ast.Constant) and value.value is None):
            return "slot", ""
        if isinstance(value, ast.List | ast.ListComp):
            return "list", ""
        if isinstance(value, ast.Dict | ast.DictComp):
            return "map", ""
        if isinstance(value, ast.Call):
            name = last(dotted(value.func))
            if name in ("list", "deque"):
                return "list", ""
            if name in ("dict", "defaultdict", "OrderedDict", "WeakValueDictionary",
                        "TTLCache", "LRUCache"):
                return "map", ""
            if name[:1].isupper():
                return "object", name
        return "", ""

    def cached_factory(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        cached = any(last(dotted(d.func if isinstance(d, ast.Call) else d))
                     in ("lru_cache", "cache", "cached", "singleton") for d in fn.decorator_list)
        if not cached:
            return
        for node in ast.walk(fn):
            if isinstance(node, ast.Return):
                what = self.framework_what(node.value)
                if what:
                    self.facts.bindings[fn.name] = Binding(
                        fn.name, "factory", node.lineno, node.col_offset + 1,
                        self.excerpt(node), what, origin=fn.name)
                    return

    # ---------- functions ----------
    def handler_why(self, fn: FuncNode) -> str:
        if isinstance(fn, ast.Lambda):
            return ""
        for d in fn.decorator_list:
            func = d.func if isinstance(d, ast.Call) else d
            name = dotted(func)
            if "." in name and last(name) in T.ROUTE_METHODS:
                return f"route @{name}"
        if fn.name in T.HANDLER_NAMES or fn.name.startswith(T.HANDLER_PREFIXES):
            return "handler name"
        params = {a.arg for a in [*fn.args.posonlyargs, *fn.args.args]}
        if params >= T.ASGI_PARAMS:
            return "ASGI application"
        for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]:
            ann = dotted(a.annotation) if a.annotation is not None else ""
            if a.arg in T.HANDLER_PARAMS or last(ann) in ("Request", "WebSocket"):
                return f"takes '{a.arg}'"
        if self.class_stack:
            cls = self.class_stack[-1]
            bases = [last(dotted(b)) for b in cls.bases]
            if cls.name.endswith(T.HANDLER_CLASS_SUFFIXES) or any(
                    b.endswith(T.HANDLER_CLASS_SUFFIXES) for b in bases):
                return f"method of handler class {cls.name}"
        return ""

    def enter(self, fn: FuncNode) -> int:
        fid = self.next_id
        self.next_id += 1
        name = "" if isinstance(fn, ast.Lambda) else fn.name
        f = Func(fid, name, self.stack[-1] if self.stack else None, self.handler_why(fn))
        args = fn.args
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            f.local_names.add(a.arg)
        for extra in (args.vararg, args.kwarg):
            if extra is not None:
                f.local_names.add(extra.arg)
        body = fn.body if isinstance(fn.body, list) else [fn.body]
        for st in body:
            for node in ast.walk(st):
                if isinstance(node, ast.Global):
                    f.global_names.update(node.names)
                elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    f.local_names.add(node.id)
        self.facts.funcs[fid] = f
        return fid

    def visit_function(self, fn: FuncNode) -> None:
        if not isinstance(fn, ast.Lambda):
            for d in fn.decorator_list:
                self.visit(d)
        fid = self.enter(fn)
        self.stack.append(fid)
        self.node_stack.append(fn)
        if isinstance(fn, ast.Lambda):
            self.visit(fn.body)
        else:
            for st in fn.body:
                self.visit(st)
            self.stateful_self(fn)
            self.non_atomic(fn)
        self.stack.pop()
        self.node_stack.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.visit_function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.visit_function(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.visit_function(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.class_stack.append(node)
        self.generic_visit(node)
        self.class_stack.pop()

    # ---------- uses ----------
    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.add("ref", node.id, node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for t in node.targets:
            self.assign_target(t, node.value, node)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        t = node.target
        if isinstance(t, ast.Name) and isinstance(node.op, ast.Add):
            b = self.facts.bindings.get(t.id)
            if b is not None and b.kind == "list":
                self.add("append", t.id, node)
        self.assign_target(t, node.value, node)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.assign_target(node.target, node.value, node)
        self.generic_visit(node)

    def assign_target(self, t: ast.expr, value: ast.expr, stmt: ast.stmt) -> None:
        if not self.stack:
            return
        if isinstance(t, ast.Name):
            f = self.facts.funcs[self.stack[-1]]
            what = self.framework_what(value)
            if what and t.id in f.global_names:
                self.add("assign_instance", t.id, stmt, what)
        elif isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name):
            self.add("field_set", t.value.id, stmt, t.attr, isinstance(value, ast.Constant))
        elif isinstance(t, ast.Subscript):
            base = t.value
            while isinstance(base, ast.Subscript):
                base = base.value
            if isinstance(base, ast.Name):
                key = t.slice if base is t.value else (
                    t.value.slice if isinstance(t.value, ast.Subscript) else t.slice)
                self.add("key_set", base.id, stmt, ast.unparse(key))

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if self.stack and isinstance(func, ast.Name):
            self.facts.funcs[self.stack[-1]].calls.add(func.id)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            obj, meth = func.value.id, func.attr
            if meth in T.APPEND_METHODS:
                self.add("append", obj, node)
            elif meth in T.KEY_SET_METHODS and node.args:
                self.add("key_set", obj, node, ast.unparse(node.args[0]))
        name = dotted(func)
        meth = last(name)
        if "." in name and meth in T.ROUTE_METHODS and T.has_word(
                name.split(".")[0], T.ROUTER_OBJECT_WORDS):
            for a in [*node.args, *(k.value for k in node.keywords)]:
                if isinstance(a, ast.Name):
                    self.facts.handler_names.setdefault(a.id, f"registered with {name}()")
        if meth in ("gather", "wait") and self.stack:
            self.fanout(node)
        self.reentrant_registration(node, name)
        if meth in ("add_job",):
            self.scheduled_job(node)
        self.generic_visit(node)

    def visit_While(self, node: ast.While) -> None:
        self.looping_tasks(node)
        self.generic_visit(node)

    # ---------- fan-out ----------
    def resolve_name(self, name: str, before: int) -> ast.expr | None:
        """The value last assigned to ``name`` before line ``before`` in the function
        being visited (the innermost one)."""
        if not self.node_stack:
            return None
        found: ast.expr | None = None
        for node in ast.walk(self.node_stack[-1]):
            if (isinstance(node, ast.Assign) and node.lineno < before
                    and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)):
                found = node.value
        return found

    def element_call(self, expr: ast.expr, line: int) -> ast.expr | None:
        """The per-item expression of ``*[f(x) for x in xs]``, ``*map(f, xs)``, ``*tasks``."""
        if isinstance(expr, ast.Name):
            resolved = self.resolve_name(expr.id, line)
            if resolved is None:
                return None
            expr = resolved
        if isinstance(expr, ast.ListComp | ast.GeneratorExp | ast.SetComp):
            return expr.elt
        if isinstance(expr, ast.Call) and dotted(expr.func) == "map" and expr.args:
            return expr.args[0]
        return None

    def agentish(self, expr: ast.expr, depth: int = 0) -> str:
        """A short description when expr calls an agent/model, '' otherwise."""
        for node in ast.walk(expr):
            if not isinstance(node, ast.Call | ast.Name | ast.Attribute):
                continue
            func = node.func if isinstance(node, ast.Call) else node
            name = dotted(func)
            if not name:
                continue
            meth = last(name)
            parts = set(name.split("."))
            if isinstance(node, ast.Call) and meth in T.RUN_METHODS and "." in name:
                return f"{name}()"
            if meth == "create" and parts & T.MODEL_CALL_SEGMENTS:
                return f"{name}()"
            if T.has_word(meth, T.AGENTISH_WORDS):
                return f"{name}()"
            if depth == 0 and meth in self.defs:
                inner = self.agentish(self.defs[meth], 1)  # type: ignore[arg-type]
                if inner:
                    return f"{meth}() -> {inner}"
        return ""

    def limited(self, expr: ast.expr) -> bool:
        for node in ast.walk(expr):
            if isinstance(node, ast.Call):
                name = dotted(node.func)
                if T.has_word(last(name), T.LIMITER_WORDS):
                    return True
                fn = self.defs.get(last(name))
                if fn is not None and self.uses_limiter(fn):
                    return True
        return False

    def uses_limiter(self, fn: ast.AST) -> bool:
        for node in ast.walk(fn):
            if isinstance(node, ast.AsyncWith | ast.With):
                for item in node.items:
                    if T.has_word(ast.unparse(item.context_expr), T.LIMITER_WORDS):
                        return True
        return False

    def fanout(self, node: ast.Call) -> None:
        for arg in node.args:
            target = arg.value if isinstance(arg, ast.Starred) else arg
            elt = self.element_call(target, node.lineno)
            if elt is None:
                continue
            what = self.agentish(elt)
            if what and not self.limited(elt):
                self.finding("code.unbounded_fanout", node,
                             f"{dotted(node.func)}() starts {what} for every item of a list "
                             f"of any length with no limiter (Semaphore, bounded pool): "
                             f"sockets, rate limits and memory grow with the input")
                return

    # ---------- re-entrant runs ----------
    def runs_on(self, body: ast.AST, receiver: str) -> ast.AST | None:
        """A run()/kickoff() on ``receiver`` in body that is not deferred elsewhere."""
        for node in ast.walk(body):
            if isinstance(node, ast.Call):
                name = dotted(node.func)
                if last(name) in T.DEFERRERS:
                    continue
                if "." in name and last(name) in T.RUN_METHODS and \
                        name.rsplit(".", 1)[0] == receiver:
                    return node
        return None

    def callback_body(self, arg: ast.expr) -> ast.AST | None:
        if isinstance(arg, ast.Lambda):
            return arg.body
        if isinstance(arg, ast.Name) and arg.id in self.defs:
            return self.defs[arg.id]
        return None

    def reentrant_registration(self, node: ast.Call, name: str) -> None:
        receiver, _, meth = name.rpartition(".")
        candidates: list[ast.expr] = []
        if receiver and meth.startswith(T.CALLBACK_REGISTRARS_PREFIXES):
            candidates.extend(node.args)
        if self.framework_what(node):
            candidates.extend(k.value for k in node.keywords if k.arg in T.CALLBACK_KEYWORDS)
            receiver = self.assigned_name(node) or ""
        for arg in candidates:
            body = self.callback_body(arg)
            run = self.runs_on(body, receiver) if body is not None and receiver else None
            if run is not None:
                self.finding("code.reentrant_run", run,
                             f"{dotted(run.func)}() is started inside a callback registered "  # type: ignore[attr-defined]
                             f"on '{receiver}' (line {node.lineno}), while that run is "
                             f"still active: the run re-enters itself")

    def assigned_name(self, call: ast.Call) -> str | None:
        for st in self.facts.bindings.values():
            if st.line == call.lineno:
                return st.name
        return None

    def visit_decorated_callbacks(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for d in fn.decorator_list:
            name = dotted(d.func if isinstance(d, ast.Call) else d)
            if "." not in name:
                continue
            receiver, meth = name.rsplit(".", 1)
            if meth.startswith(T.CALLBACK_REGISTRARS_PREFIXES):
                run = self.runs_on(fn, receiver)
                if run is not None:
                    self.finding("code.reentrant_run", run,
                                 f"{dotted(run.func)}() is started inside {fn.name}(), "  # type: ignore[attr-defined]
                                 f"a callback of '{receiver}' (@{name}), while that run is "
                                 f"still active: the run re-enters itself")

    # ---------- timers ----------
    def looping_tasks(self, loop: ast.While) -> None:
        sleeps = spawns = False
        spawn: ast.Call | None = None
        guarded = False
        for node in ast.walk(loop):
            if isinstance(node, ast.Call):
                name = last(dotted(node.func))
                if name == "sleep":
                    sleeps = True
                if name in ("create_task", "ensure_future", "run_coroutine_threadsafe"):
                    spawns, spawn = True, node
            if isinstance(node, ast.If):
                test = ast.unparse(node.test).lower()
                if any(w in test for w in T.GUARD_CALL_WORDS) or "running" in test:
                    guarded = True
        if sleeps and spawns and not guarded and spawn is not None:
            self.finding("code.overlapping_timer", spawn,
                         "a periodic loop starts a new background task each tick without "
                         "checking that the previous one finished: runs pile up and overlap")

    def scheduled_job(self, node: ast.Call) -> None:
        kw = {k.arg: k.value for k in node.keywords}
        trigger = node.args[1] if len(node.args) > 1 else kw.get("trigger")
        mi = kw.get("max_instances")
        if (isinstance(trigger, ast.Constant) and trigger.value == "interval"
                and isinstance(mi, ast.Constant) and isinstance(mi.value, int) and mi.value > 1):
            self.finding("code.overlapping_timer", node,
                         f"an interval job allows {mi.value} overlapping instances "
                         f"(max_instances={mi.value}): a slow run overlaps the next one")

    # ---------- stateful tools ----------
    def stateful_self(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.visit_decorated_callbacks(fn)
        if not self.class_stack or fn.name in ("__init__", "__post_init__", "model_post_init",
                                                "__new__", "setup"):
            return
        cls = self.class_stack[-1]
        names = [cls.name, *(last(dotted(b)) for b in cls.bases)]
        if not any(T.lower_has(n, ("tool", "agent")) for n in names):
            return
        params = {a.arg for a in [*fn.args.args, *fn.args.kwonlyargs]} - {"self", "cls"}
        for node in ast.walk(fn):
            if not isinstance(node, ast.Assign):
                continue
            for t in node.targets:
                if (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
                        and t.value.id == "self"):
                    refs = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
                    if refs & params:
                        self.finding("code.stateful_tool", node,
                                     f"{cls.name}.{fn.name}() stores its call's input on "
                                     f"self.{t.attr}: one tool object serves concurrent "
                                     f"calls, which overwrite each other")

    # ---------- read-modify-write ----------
    def non_atomic(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        reads: dict[str, tuple[str, str, ast.AST]] = {}  # var -> (receiver, key, node)
        for node in ast.walk(fn):
            value: ast.AST | None = None
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                    isinstance(node.targets[0], ast.Name):
                value = node.value
                while isinstance(value, ast.Await | ast.Call) and not (
                        isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)):
                    value = value.value if isinstance(value, ast.Await) else (
                        value.args[0] if value.args else None)  # int(await r.get(k))
                    if value is None:
                        break
                if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
                        and value.func.attr in T.STORE_READS and value.args:
                    recv = dotted(value.func.value)
                    if recv:
                        reads[node.targets[0].id] = (recv, ast.unparse(value.args[0]), node)
        if not reads or T.has_version_guard(ast.unparse(fn)):
            return
        for node in ast.walk(fn):  # next = {**current, ...}: next carries the read
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                    isinstance(node.targets[0], ast.Name) and node.targets[0].id not in reads:
                names = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
                src = next((reads[v] for v in names if v in reads), None)
                if src is not None:
                    reads[node.targets[0].id] = src
        for node in ast.walk(fn):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in T.STORE_WRITES and len(node.args) >= 2:
                recv = dotted(node.func.value)
                key = ast.unparse(node.args[0])
                refs = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
                for var, (r_recv, r_key, r_node) in reads.items():
                    if recv == r_recv and key == r_key and var in refs:
                        self.finding("code.non_atomic_update", node,
                                     f"{recv}.{node.func.attr}({key}, ...) writes back a "
                                     f"value read at line {r_node.lineno} with no version "  # type: ignore[attr-defined]
                                     f"check or atomic operation: concurrent writers "
                                     f"overwrite each other's update")
                        return


def read_python(path: str, text: str, classes: Mapping[str, str]) -> ModuleFacts:
    """Facts and findings of one Python file. Raises SyntaxError for the caller to count."""
    tree = ast.parse(text, filename=path)
    return PythonReader(path, text, classes).read_module(tree)
