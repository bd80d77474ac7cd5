"""Language-neutral rules: join module-level bindings with their uses in handlers.

"Reachable" means a request can run the function: it is a handler, it is nested in one
(a ``.map`` callback inside a route), or a reachable function calls it by name in the
same file. Cross-file calls are not followed (said in the finding's why when it matters).
"""

from __future__ import annotations

from .findings import Binding, Finding, Func, ModuleFacts, Use, make_finding
from .tables import STATELESS_CLIENT_KINDS, is_session_key


def reachable(facts: ModuleFacts) -> dict[int, str]:
    """fid -> why the function runs per request (the handler it is reached from)."""
    funcs = facts.funcs
    for f in funcs.values():
        if not f.handler_why and f.name in facts.handler_names:
            f.handler_why = facts.handler_names[f.name]
    out: dict[int, str] = {}
    for f in funcs.values():
        if f.handler_why:
            out[f.fid] = f"{f.name or 'anonymous function'} ({f.handler_why})"
    by_name: dict[str, list[Func]] = {}
    for f in funcs.values():
        if f.name:
            by_name.setdefault(f.name, []).append(f)
    changed = True
    while changed:
        changed = False
        for f in funcs.values():
            if f.fid in out:
                continue
            if f.parent is not None and f.parent in out:
                out[f.fid] = out[f.parent]
                changed = True
        for fid in list(out):
            for callee in funcs[fid].calls:
                for g in by_name.get(callee, ()):
                    if g.fid not in out:
                        out[g.fid] = f"{g.name}, called from {out[fid]}"
                        changed = True
    return out


def shadowed(facts: ModuleFacts, use: Use) -> bool:
    """The name is a local of the using function or of one enclosing it."""
    fid: int | None = use.fid
    while fid is not None:
        f = facts.funcs[fid]
        if use.name in f.local_names and use.name not in f.global_names:
            return True
        fid = f.parent
    return False


def _instance_bindings(facts: ModuleFacts) -> dict[str, Binding]:
    """Module instances, including slots filled with a framework object from a function
    (``let agent; function get() { agent ??= new AssistantAgent() }``)."""
    out = {n: b for n, b in facts.bindings.items() if b.kind in ("instance", "factory")}
    for u in facts.uses:
        if u.action == "assign_instance" and u.name in facts.bindings and \
                u.name not in out and not shadowed(facts, u):
            out[u.name] = Binding(u.name, "lazy", u.line, u.column, u.excerpt, u.detail,
                                  origin=facts.funcs[u.fid].name or "a function")
    return out


def apply(facts: ModuleFacts) -> list[Finding]:
    """The findings that need bindings and handler reachability together."""
    live = reachable(facts)
    instances = _instance_bindings(facts)
    out: list[Finding] = []
    used_instances: dict[str, Use] = {}
    for u in facts.uses:
        b = facts.bindings.get(u.name)
        if b is None or (u.action != "key_set" and u.fid not in live):
            continue
        if shadowed(facts, u):
            continue
        if u.name in instances and u.action in ("ref", "field_set", "append"):
            used_instances.setdefault(u.name, u)
        if u.action == "append" and b.kind == "list":
            out.append(make_finding(
                "code.shared_history", facts.path, u.line, u.column, u.excerpt,
                f"'{u.name}' is a module-level list (line {b.line}) appended to in "
                f"{live[u.fid]}: every request adds to one shared history"))
        elif u.action == "field_set" and b.kind in ("instance", "object") and not u.constant:
            out.append(make_finding(
                "code.stateful_tool", facts.path, u.line, u.column, u.excerpt,
                f"per-request data is written to field '{u.detail}' of '{u.name}', one "
                f"long-lived object created at line {b.line}, in {live[u.fid]}: "
                f"concurrent requests overwrite each other"))
        elif u.action == "key_set" and b.kind == "map" and is_session_key(u.detail):
            where = f"in {live[u.fid]}" if u.fid in live else "at run time"
            out.append(make_finding(
                "code.in_memory_state", facts.path, u.line, u.column, u.excerpt,
                f"'{u.name}' is a module-level map (line {b.line}) keyed by "
                f"'{u.detail}' and written {where}: each process or replica keeps its "
                f"own copy, so other workers read stale or missing state"))
    for name, b in instances.items():  # a shared team shares the agents it was built from
        if name in used_instances:
            for part in b.parts:
                if part in instances:
                    used_instances.setdefault(part, used_instances[name])
    for name, b in instances.items():
        use = used_instances.get(name)
        note = ""
        if any(b.what.startswith(k) for k in STATELESS_CLIENT_KINDS):
            note = ("; a provider SDK client keeps no conversation, so this is often "
                    "deliberate: check that no per-request setting is put on it")
        if use is not None:
            verb = "called" if b.kind == "factory" else "used"
            label = f"{b.origin}()" if b.kind == "factory" else name
            out.append(make_finding(
                "code.shared_instance", facts.path, b.line, b.column, b.excerpt,
                f"{b.what or name} '{label}' is created once per process and {verb} at "
                f"line {use.line} in {live[use.fid]}: concurrent requests share it{note}"))
        elif b.kind in ("lazy", "factory"):
            out.append(make_finding(
                "code.shared_instance", facts.path, b.line, b.column, b.excerpt,
                f"{b.what} is built once per process by {b.origin}() on first use and "
                f"the same object is handed to every caller (a lazy singleton): "
                f"concurrent requests share it{note}"))
        elif b.exported and b.kind == "instance":
            out.append(make_finding(
                "code.shared_instance", facts.path, b.line, b.column, b.excerpt,
                f"{b.what or name} '{name}' is created at module scope and exported: "
                f"every importer (route, tool) shares one object, and it survives warm "
                f"serverless invocations and hot reloads{note}"))
    return out
