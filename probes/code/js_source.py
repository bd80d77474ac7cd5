"""Read one TypeScript/JavaScript file with tree-sitter and record facts and findings.

The same facts as ``python_source`` (module bindings, functions, handler reachability,
uses of module names), from the tree-sitter grammars: ``typescript`` for .ts/.mts/.cts,
``tsx`` for .tsx, ``javascript`` (which reads JSX) for .js/.jsx/.mjs/.cjs. Handlers are
exported route functions (``export async function POST``), functions passed to
``app.get/post/use/route``, functions taking ``req``/``request``, and methods of
controller/handler classes or with ``@Get``/``@Post`` decorators. Syntax-specific
findings: ``Promise.all`` over ``.map`` with no limiter, ``team.onMessage`` callbacks
that await ``team.run``, ``setInterval`` with async work and no in-progress guard,
unversioned get-modify-set, and tool classes keeping call input on ``this``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

import tree_sitter_javascript
import tree_sitter_typescript
from tree_sitter import Language, Node, Parser

from . import tables as T
from .findings import Binding, Func, ModuleFacts, Use, make_finding

FUNCTION_TYPES = frozenset({"function_declaration", "function_expression", "arrow_function",
                            "method_definition", "generator_function_declaration",
                            "generator_function", "function"})
DECLARATIONS = frozenset({"lexical_declaration", "variable_declaration"})
LITERALS = frozenset({"string", "number", "true", "false", "null", "undefined",
                      "template_string", "regex"})

GRAMMAR_BY_SUFFIX = {".ts": "typescript", ".mts": "typescript", ".cts": "typescript",
                     ".tsx": "tsx", ".js": "javascript", ".jsx": "javascript",
                     ".mjs": "javascript", ".cjs": "javascript"}


@cache
def parser_for(grammar: str) -> Parser:
    if grammar == "typescript":
        lang = Language(tree_sitter_typescript.language_typescript())
    elif grammar == "tsx":
        lang = Language(tree_sitter_typescript.language_tsx())
    else:
        lang = Language(tree_sitter_javascript.language())
    return Parser(lang)


class JsSyntaxError(Exception):
    def __init__(self, line: int, column: int) -> None:
        super().__init__(f"syntax error at line {line}")
        self.line = line
        self.column = column


def first_error(node: Node) -> Node | None:
    if node.is_error or node.is_missing:
        return node
    for c in node.children:
        if c.has_error or c.is_missing:
            found = first_error(c)
            if found is not None:
                return found
    return None


def text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def field(node: Node, name: str) -> Node | None:
    return node.child_by_field_name(name)


def callee_name(node: Node | None) -> str:
    """``a.b.c`` for identifier/member chains ('' for anything else)."""
    if node is None:
        return ""
    if node.type in ("identifier", "property_identifier", "this", "type_identifier",
                     "private_property_identifier"):
        return text(node)
    if node.type == "member_expression":
        obj = callee_name(field(node, "object"))
        prop = text(field(node, "property"))
        return f"{obj}.{prop}" if obj else ""
    if node.type == "call_expression":
        inner = callee_name(field(node, "function"))
        return f"{inner}()" if inner else ""
    if node.type in ("parenthesized_expression", "non_null_expression", "await_expression"):
        return callee_name(node.named_children[0]) if node.named_children else ""
    return ""


def last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def unwrap(node: Node | None) -> Node | None:
    """Strip ``await``, parentheses, ``!`` and ``as`` casts."""
    while node is not None and node.type in ("await_expression", "parenthesized_expression",
                                             "non_null_expression", "as_expression",
                                             "satisfies_expression"):
        node = node.named_children[0] if node.named_children else None
    return node


def param_names(params: Node | None, out: set[str]) -> None:
    if params is None:
        return
    stack = [params]
    while stack:
        n = stack.pop()
        if n.type in ("identifier", "shorthand_property_identifier_pattern"):
            out.add(text(n))
            continue
        if n.type in ("type_annotation", "accessibility_modifier"):
            continue
        if n.type == "assignment_pattern":
            left = field(n, "left")
            if left is not None:
                stack.append(left)
            continue
        stack.extend(n.named_children)


class JsReader:
    def __init__(self, path: str, source: bytes, classes: Mapping[str, str]) -> None:
        self.path = path
        self.source = source
        self.lines = source.decode("utf-8", "replace").splitlines()
        self.classes = classes
        self.facts = ModuleFacts(path)
        self.next_id = 0
        self.fnodes: dict[int, Node] = {}
        self.named_funcs: dict[str, Node] = {}
        self.class_of: dict[int, str] = {}  # fid -> enclosing class name
        self.server_actions = False  # a Next.js "use server" module: exports are actions

    # ---------- helpers ----------
    def excerpt(self, node: Node) -> str:
        start = node.start_point[0]
        end = min(node.end_point[0], start + 2)
        return " ".join(s.strip() for s in self.lines[start:end + 1]).strip()

    def finding(self, signal: str, node: Node, why: str) -> None:
        self.facts.findings.append(make_finding(
            signal, self.path, node.start_point[0] + 1, node.start_point[1] + 1,
            self.excerpt(node), why))

    def use(self, action: str, name: str, fid: int | None, node: Node, detail: str = "",
            constant: bool = False) -> None:
        if fid is None or name not in self.facts.bindings:
            return
        self.facts.uses.append(Use(name, action, fid, node.start_point[0] + 1,
                                   node.start_point[1] + 1, self.excerpt(node), detail,
                                   constant))

    def framework_what(self, value: Node | None) -> str:
        value = unwrap(value)
        if value is None:
            return ""
        if value.type == "new_expression":
            name = last(callee_name(field(value, "constructor")))
            if name in self.classes:
                return f"{self.classes[name]} ({name})"
        if value.type == "call_expression":
            name = last(callee_name(field(value, "function")))
            if name in T.FRAMEWORK_FACTORIES:
                return f"{T.FRAMEWORK_FACTORIES[name]} ({name})"
        return ""

    # ---------- module level ----------
    def read(self, root: Node) -> ModuleFacts:
        first = root.named_children[0] if root.named_children else None
        self.server_actions = first is not None and first.type == "expression_statement" \
            and text(first).strip("'\"; ") == "use server"
        for st in root.named_children:
            exported = False
            if st.type == "export_statement":
                exported = True
                decl = field(st, "declaration")
                if decl is None:
                    value = field(st, "value")
                    if value is not None and value.type in FUNCTION_TYPES:
                        self.facts.handler_names.setdefault("<default>", "default export")
                    continue
                st = decl
            if st.type in DECLARATIONS:
                for d in st.named_children:
                    if d.type == "variable_declarator":
                        self.module_declarator(d, st, exported)
        self.walk(root, None, None)
        return self.facts

    def module_declarator(self, d: Node, st: Node, exported: bool) -> None:
        name_node = field(d, "name")
        if name_node is None or name_node.type != "identifier":
            return
        name = text(name_node)
        value = unwrap(field(d, "value"))
        kind, what = "", self.framework_what(value)
        if what:
            kind = "instance"
        elif value is None or value.type in ("null", "undefined"):
            kind = "slot"
        elif value.type == "array":
            kind = "list"
        elif value.type == "object":
            kind = "map"
        elif value.type == "new_expression":
            ctor = last(callee_name(field(value, "constructor")))
            if ctor in ("Map", "WeakMap"):
                kind = "map"
            elif ctor == "Array":
                kind = "list"
            elif ctor not in ("Set", "WeakSet", "Date", "URL", "Error", "RegExp"):
                kind, what = "object", ctor
        elif value.type in FUNCTION_TYPES and exported and (
                name in T.HANDLER_NAMES or name.startswith(T.HANDLER_PREFIXES)):
            self.facts.handler_names.setdefault(name, "exported route function")
        if kind:
            parts: list[str] = []
            stack = [value] if kind == "instance" and value is not None else []
            while stack:
                n = stack.pop()
                if n.type in ("identifier", "shorthand_property_identifier"):
                    b = self.facts.bindings.get(text(n))
                    if b is not None and b.kind == "instance":
                        parts.append(b.name)
                stack.extend(n.named_children)
            self.facts.bindings[name] = Binding(
                name, kind, st.start_point[0] + 1, st.start_point[1] + 1, self.excerpt(st),
                what, exported, tuple(parts))

    # ---------- functions ----------
    def function_name(self, node: Node) -> str:
        name = field(node, "name")
        if name is not None:
            return text(name)
        parent = node.parent
        if parent is not None and parent.type == "variable_declarator":
            return text(field(parent, "name"))
        if parent is not None and parent.type == "pair":
            return text(field(parent, "key"))
        return ""

    def handler_why(self, node: Node, name: str, cls: str) -> str:
        parent = node.parent
        if parent is not None and parent.type == "export_statement" and (
                name in T.HANDLER_NAMES or name.startswith(T.HANDLER_PREFIXES)
                or field(parent, "value") == node):
            return "exported route function"
        if parent is not None and parent.type == "export_statement" and self.server_actions:
            return "server action ('use server' module)"
        if parent is not None and parent.type == "arguments":
            call = parent.parent
            if call is not None and call.type == "call_expression":
                callee = callee_name(field(call, "function"))
                if "." in callee and last(callee) in T.ROUTE_METHODS and T.has_word(
                        callee.split(".")[0], T.ROUTER_OBJECT_WORDS):
                    return f"passed to {callee}()"
        params: set[str] = set()
        param_names(field(node, "parameters"), params)
        hit = params & T.HANDLER_PARAMS
        if hit:
            return f"takes '{sorted(hit)[0]}'"
        if node.type != "method_definition" and name in T.HANDLER_NAMES:
            return "handler name"
        if node.type == "method_definition":
            if cls.endswith(T.HANDLER_CLASS_SUFFIXES):
                return f"method of handler class {cls}"
            prev = node.prev_named_sibling
            while prev is not None and prev.type == "decorator":
                dec = prev.named_children[0] if prev.named_children else None
                dname = last(callee_name(field(dec, "function") if dec is not None and
                                         dec.type == "call_expression" else dec))
                if dname in T.HANDLER_METHOD_DECORATORS:
                    return f"@{dname} route method"
                prev = prev.prev_named_sibling
        return ""

    def enter(self, node: Node, parent: int | None, cls: str) -> int:
        fid = self.next_id
        self.next_id += 1
        name = self.function_name(node)
        f = Func(fid, name, parent, self.handler_why(node, name, cls))
        param_names(field(node, "parameters"), f.local_names)
        single = field(node, "parameter")  # x => ...
        if single is not None:
            f.local_names.add(text(single))
        self.facts.funcs[fid] = f
        self.fnodes[fid] = node
        if cls:
            self.class_of[fid] = cls
        if name:
            self.named_funcs.setdefault(name, node)
        return fid

    # ---------- the walk ----------
    def walk(self, root: Node, fid: int | None, cls: str | None) -> None:
        stack: list[tuple[Node, int | None, str | None]] = [(root, fid, cls)]
        while stack:
            node, fid, cls = stack.pop()
            t = node.type
            if t in FUNCTION_TYPES:
                fid = self.enter(node, fid, cls or "")
                if t == "method_definition":
                    self.stateful_this(node, fid, cls or "")
            elif t in ("class_declaration", "class"):
                cls = text(field(node, "name")) or "anonymous class"
            elif t == "variable_declarator":
                if fid is not None:
                    name = field(node, "name")
                    if name is not None:
                        if name.type == "identifier":
                            self.facts.funcs[fid].local_names.add(text(name))
                        else:
                            param_names(name, self.facts.funcs[fid].local_names)
            elif t in ("identifier", "shorthand_property_identifier"):  # x, { x }
                if fid is not None:
                    self.use("ref", text(node), fid, node)
                continue
            elif t == "call_expression":
                self.call(node, fid)
            elif t in ("assignment_expression", "augmented_assignment_expression"):
                self.assignment(node, fid)
            for c in reversed(node.named_children):
                stack.append((c, fid, cls))

    def call(self, node: Node, fid: int | None) -> None:
        func = field(node, "function")
        name = callee_name(func)
        args = field(node, "arguments")
        arg_nodes = args.named_children if args is not None else []
        if fid is not None and func is not None and func.type == "identifier":
            self.facts.funcs[fid].calls.add(name)
        if "." in name:
            obj, meth = name.rsplit(".", 1)
            if meth in T.APPEND_METHODS and "." not in obj:
                self.use("append", obj, fid, node)
            elif meth in T.KEY_SET_METHODS and "." not in obj and arg_nodes:
                self.use("key_set", obj, fid, node, text(arg_nodes[0]))
            if meth in T.ROUTE_METHODS and T.has_word(name.split(".")[0], T.ROUTER_OBJECT_WORDS):
                for a in arg_nodes:
                    if a.type == "identifier":
                        self.facts.handler_names.setdefault(text(a), f"passed to {name}()")
            if meth.startswith(T.CALLBACK_REGISTRARS_PREFIXES) and len(meth) > 2:
                self.reentrant(node, obj, arg_nodes)
            if name in ("Promise.all", "Promise.allSettled", "Promise.race", "Promise.any"):
                self.fanout(node, name, arg_nodes)
        elif name == "setInterval" and arg_nodes:
            self.timer(node, arg_nodes[0])
        if fid is not None and "." in name and last(name) in T.STORE_WRITES:
            self.non_atomic(node, fid, name, arg_nodes)

    def assignment(self, node: Node, fid: int | None) -> None:
        if fid is None:
            return
        left, right = field(node, "left"), unwrap(field(node, "right"))
        if left is None:
            return
        if left.type == "identifier":
            what = self.framework_what(right)
            if what:
                self.use("assign_instance", text(left), fid, node, what)
        elif left.type == "member_expression":
            obj = field(left, "object")
            if obj is not None and obj.type == "identifier":
                const = right is not None and right.type in LITERALS
                self.use("field_set", text(obj), fid, node, text(field(left, "property")),
                         const)
        elif left.type == "subscript_expression":
            obj = field(left, "object")
            if obj is not None and obj.type == "identifier":
                self.use("key_set", text(obj), fid, node, text(field(left, "index")))

    # ---------- fan-out ----------
    def resolve(self, ident: Node) -> Node | None:
        """The initialiser of a ``const jobs = ...`` in the enclosing function."""
        name = text(ident)
        scope = ident.parent
        while scope is not None and scope.type not in FUNCTION_TYPES and scope.type != "program":
            scope = scope.parent
        if scope is None:
            return None
        found: Node | None = None
        stack = [scope]
        while stack:
            n = stack.pop()
            if n.type == "variable_declarator" and text(field(n, "name")) == name \
                    and n.start_byte < ident.start_byte:
                found = field(n, "value")
            stack.extend(n.named_children)
        return found

    def agentish(self, node: Node, depth: int = 0) -> str:
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type == "call_expression":
                name = callee_name(field(n, "function"))
                meth = last(name)
                parts = set(name.split("."))
                if ("." in name and meth in T.RUN_METHODS) or (
                        meth == "create" and parts & T.MODEL_CALL_SEGMENTS) or \
                        T.has_word(meth, T.AGENTISH_WORDS):
                    return f"{name}()"
                if depth == 0 and meth in self.named_funcs:
                    inner = self.agentish(self.named_funcs[meth], 1)
                    if inner:
                        return f"{meth}() -> {inner}"
            stack.extend(n.named_children)
        return ""

    def limited(self, node: Node) -> bool:
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type == "call_expression":
                name = callee_name(field(n, "function"))
                if T.has_word(name, T.LIMITER_WORDS):
                    return True
            stack.extend(n.named_children)
        return False

    def fanout(self, node: Node, name: str, args: list[Node]) -> None:
        if not args:
            return
        target = unwrap(args[0])
        if target is not None and target.type == "identifier":
            target = unwrap(self.resolve(target))
        if target is None or target.type != "call_expression":
            return  # an array literal has a fixed size: bounded by the code itself
        callee = callee_name(field(target, "function"))
        if last(callee) not in ("map", "flatMap") and callee != "Array.from":
            return
        if T.has_word(callee, T.LIMITER_WORDS):
            return
        margs = field(target, "arguments")
        fn = margs.named_children[-1] if margs is not None and margs.named_children else None
        if fn is None:
            return
        if fn.type == "identifier" and text(fn) in self.named_funcs:
            fn = self.named_funcs[text(fn)]
        what = self.agentish(fn)
        if what and not self.limited(fn):
            self.finding("code.unbounded_fanout", node,
                         f"{name}() starts {what} for every item of a list of any length "
                         f"with no limiter (p-limit, a semaphore, a queue): sockets, rate "
                         f"limits and memory grow with the input")

    # ---------- re-entrant runs ----------
    def body_of(self, arg: Node) -> Node | None:
        if arg.type in FUNCTION_TYPES:
            return arg
        if arg.type == "identifier":
            return self.named_funcs.get(text(arg))
        return None

    def reentrant(self, node: Node, receiver: str, args: list[Node]) -> None:
        for arg in args:
            body = self.body_of(arg)
            if body is None:
                continue
            stack = [body]
            while stack:
                n = stack.pop()
                if n.type == "call_expression":
                    name = callee_name(field(n, "function"))
                    if last(name) in T.DEFERRERS:
                        continue  # handed off: runs after the callback returns
                    if "." in name and last(name) in T.RUN_METHODS and \
                            name.rsplit(".", 1)[0] == receiver:
                        self.finding("code.reentrant_run", n,
                                     f"{name}() is started inside a callback registered on "
                                     f"'{receiver}' (line {node.start_point[0] + 1}) while "
                                     f"that run is still active: the run re-enters itself")
                        return
                stack.extend(n.named_children)

    # ---------- timers ----------
    def timer(self, node: Node, cb: Node) -> None:
        body = self.body_of(cb)
        if body is None:
            return
        is_async = any(c.type == "async" for c in body.children)
        assigned: set[str] = set()
        checked: set[str] = set()
        awaits = False
        guard_call = False
        stack = [body]
        while stack:
            n = stack.pop()
            if n.type == "await_expression" or (n.type == "call_expression" and last(
                    callee_name(field(n, "function"))) == "then"):
                awaits = True
            if n.type == "assignment_expression":
                assigned.add(text(field(n, "left")))
            if n.type == "if_statement":
                cond = field(n, "condition")
                cons = field(n, "consequence")
                if cons is not None and (cons.type == "return_statement" or any(
                        c.type == "return_statement" for c in cons.named_children)):
                    ctext = text(cond)
                    if T.lower_has(ctext, T.GUARD_CALL_WORDS):
                        guard_call = True
                    stack_c = [cond] if cond is not None else []
                    while stack_c:
                        c = stack_c.pop()
                        if c.type in ("identifier", "member_expression"):
                            checked.add(text(c))
                        stack_c.extend(c.named_children)
            stack.extend(n.named_children)
        if not (is_async or awaits):
            return
        if guard_call or (checked & assigned):
            return
        self.finding("code.overlapping_timer", node,
                     "setInterval() starts async work every tick with no in-progress guard: "
                     "a run slower than the period overlaps the next one")

    # ---------- stateful tools ----------
    def stateful_this(self, method: Node, fid: int, cls: str) -> None:
        name = text(field(method, "name"))
        if name == "constructor" or not T.lower_has(cls, ("tool", "agent")):
            return
        params: set[str] = set()
        param_names(field(method, "parameters"), params)
        if not params:
            return
        stack = [method]
        while stack:
            n = stack.pop()
            if n.type == "assignment_expression":
                left = field(n, "left")
                if left is not None and left.type == "member_expression" and \
                        text(field(left, "object")) == "this":
                    refs: set[str] = set()
                    rstack = [field(n, "right")]
                    while rstack:
                        r = rstack.pop()
                        if r is None:
                            continue
                        if r.type in ("identifier", "shorthand_property_identifier"):
                            refs.add(text(r))
                        rstack.extend(r.named_children)
                    if refs & params:
                        self.finding("code.stateful_tool", n,
                                     f"{cls}.{name}() stores its call's input on "
                                     f"{text(left)}: one tool object serves concurrent "
                                     f"calls, which overwrite each other")
            if n is not method and n.type in FUNCTION_TYPES:
                continue
            stack.extend(n.named_children)

    # ---------- read-modify-write ----------
    def non_atomic(self, node: Node, fid: int, name: str, args: list[Node]) -> None:
        if len(args) < 2:
            return
        recv, key = name.rsplit(".", 1)[0], text(args[0])
        fnode = self.fnodes[fid]
        if T.has_version_guard(code_text(fnode)):
            return
        value_refs = identifiers(args[1])
        declarators: list[Node] = []
        stack = [fnode]
        while stack:
            n = stack.pop()
            if n.type == "variable_declarator" and n.start_byte < node.start_byte:
                declarators.append(n)
            stack.extend(n.named_children)
        declarators.sort(key=lambda n: n.start_byte)
        reads: dict[str, Node] = {}  # variable -> the declarator that read it
        for n in declarators:
            var = text(field(n, "name"))
            value = unwrap(field(n, "value"))
            if value is not None and value.type == "binary_expression":
                value = unwrap(value.named_children[0])  # (await get(id)) ?? {...}
            if value is not None and value.type == "call_expression":
                rname = callee_name(field(value, "function"))
                rargs = field(value, "arguments")
                rkey = text(rargs.named_children[0]) if rargs is not None and \
                    rargs.named_children else ""
                if "." in rname and last(rname) in T.STORE_READS and \
                        rname.rsplit(".", 1)[0] == recv and rkey == key:
                    reads[var] = n
                    continue
            src = next((reads[v] for v in identifiers(field(n, "value")) if v in reads), None)
            if src is not None:  # const next = { ...current, step: ... }
                reads[var] = src
        hit = next((reads[v] for v in value_refs if v in reads), None)
        if hit is not None:
            self.finding("code.non_atomic_update", node,
                         f"{name}({key}, ...) writes back a value read at line "
                         f"{hit.start_point[0] + 1} with no version check or atomic "
                         f"operation: concurrent writers overwrite each other's update")


def code_text(node: Node) -> str:
    """The node's source without its comments (a comment saying "no version check"
    must not count as a version check)."""
    cuts: list[tuple[int, int]] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "comment":
            cuts.append((n.start_byte, n.end_byte))
            continue
        stack.extend(n.children)
    raw = node.text or b""
    out, pos = [], node.start_byte
    for start, end in sorted(cuts):
        out.append(raw[pos - node.start_byte:start - node.start_byte])
        pos = end
    out.append(raw[pos - node.start_byte:])
    return b" ".join(out).decode("utf-8", "replace")


def identifiers(node: Node | None) -> set[str]:
    out: set[str] = set()
    stack = [node] if node is not None else []
    while stack:
        n = stack.pop()
        if n.type in ("identifier", "shorthand_property_identifier"):
            out.add(text(n))
        stack.extend(n.named_children)
    return out


def read_js(path: str, source: bytes, grammar: str, classes: Mapping[str, str]) -> ModuleFacts:
    """Facts and findings of one TS/JS file. Raises JsSyntaxError for the caller to count."""
    tree = parser_for(grammar).parse(source)
    root = tree.root_node
    if root.has_error:
        bad = first_error(root) or root
        raise JsSyntaxError(bad.start_point[0] + 1, bad.start_point[1] + 1)
    return JsReader(path, source, classes).read(root)
