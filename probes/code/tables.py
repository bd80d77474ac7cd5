"""The rule tables of the code probe: framework classes, handler shapes, limiters.

Every name the source rules look for lives here, as data, so a reader can see what the
probe recognises and a team can extend it (``scan(frameworks=...)`` adds class names).
Names are matched on the last segment of a dotted/member name
(``autogen_agentchat.agents.AssistantAgent`` and ``new autogen.AssistantAgent`` both
match ``AssistantAgent``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

FRAMEWORK_CLASSES: Mapping[str, str] = MappingProxyType({
    # AutoGen (Python autogen-agentchat / autogen-core, TypeScript @autogen/*, AG2)
    "AssistantAgent": "AutoGen agent",
    "UserProxyAgent": "AutoGen agent",
    "CodeExecutorAgent": "AutoGen agent",
    "ConversableAgent": "AutoGen agent",
    "GroupChat": "AutoGen team",
    "GroupChatManager": "AutoGen team",
    "RoundRobinGroupChat": "AutoGen team",
    "SelectorGroupChat": "AutoGen team",
    "Swarm": "AutoGen team",
    "MagenticOneGroupChat": "AutoGen team",
    "SingleThreadedAgentRuntime": "AutoGen runtime",
    "GrpcWorkerAgentRuntime": "AutoGen runtime",
    "OpenAIChatCompletionClient": "AutoGen model client",
    "AzureOpenAIChatCompletionClient": "AutoGen model client",
    "AnthropicChatCompletionClient": "AutoGen model client",
    # CrewAI
    "Crew": "CrewAI crew",
    "Agent": "CrewAI agent",
    "Flow": "CrewAI flow",
    # LangChain / LangGraph
    "ChatOpenAI": "LangChain model client",
    "AzureChatOpenAI": "LangChain model client",
    "ChatAnthropic": "LangChain model client",
    "AgentExecutor": "LangChain agent",
    "ConversationChain": "LangChain chain",
    "ConversationBufferMemory": "LangChain memory",
    "MemorySaver": "LangGraph checkpointer",
    "StateGraph": "LangGraph graph",
    # Provider SDK clients
    "OpenAI": "OpenAI client",
    "AsyncOpenAI": "OpenAI client",
    "AzureOpenAI": "OpenAI client",
    "AsyncAzureOpenAI": "OpenAI client",
    "Anthropic": "Anthropic client",
    "AsyncAnthropic": "Anthropic client",
})
"""Class name -> what it is. Instances of these own conversation or connection state."""

STATELESS_CLIENT_KINDS = frozenset({"OpenAI client", "Anthropic client"})
"""Provider SDK clients keep no conversation: sharing one is often deliberate (connection
reuse). They are still reported, with that said, because per-request settings put on a
shared client leak across requests."""

FRAMEWORK_FACTORIES: Mapping[str, str] = MappingProxyType({
    # Calls that build a stateful object without ``new``/a class name.
    "create_react_agent": "LangGraph agent",
    "createReactAgent": "LangGraph agent",
    "initialize_agent": "LangChain agent",
    "compile": "LangGraph compiled graph",
})

RUN_METHODS = frozenset({
    "run", "run_stream", "runStream", "arun", "kickoff", "kickoff_async", "kickoffAsync",
    "invoke", "ainvoke", "stream", "astream", "initiate_chat", "a_initiate_chat",
    "generate_reply", "a_generate_reply", "send_message", "sendMessage", "chat",
})
"""Methods that start a run of an agent/team/crew/graph."""

MODEL_CALL_SEGMENTS = frozenset({"completions", "messages", "responses", "chat"})
"""``client.chat.completions.create(...)``: a ``create`` under one of these is a model call."""

AGENTISH_WORDS = frozenset({"agent", "agents", "crew", "kickoff", "llm", "model", "completion",
                            "completions", "gpt", "claude", "assistant", "team", "chat",
                            "prompt", "summarize", "summarise", "generate", "ask"})
"""A called function with one of these words in its name (``runAgent``, ``ask_llm``) is
taken as a model/agent call."""

LIMITER_WORDS = frozenset({"limit", "limiter", "limited", "throttle", "throttled", "semaphore",
                           "sem", "mutex", "queue", "enqueue", "bottleneck", "schedule",
                           "acquire", "pool", "bounded", "batch", "batches", "chunk",
                           "chunks", "concurrency"})
"""A fan-out whose element call or callee has one of these words is taken as bounded."""

ROUTE_METHODS = frozenset({
    "get", "post", "put", "patch", "delete", "del", "all", "use", "route", "head",
    "options", "websocket", "api_route", "add_api_route", "add_url_rule", "add_route",
    "add_get", "add_post", "add_put", "add_patch", "add_delete", "handle", "register",
})
"""``app.<method>(..., fn)`` / ``@router.<method>(...)``: fn is a request handler."""

ROUTER_OBJECT_WORDS = frozenset({"app", "application", "router", "routes", "route", "server",
                                 "srv", "fastify", "api", "bp", "blueprint", "hono",
                                 "express", "web"})
"""Only ``x.get(fn)`` where x looks like one of these counts (``map.get`` never does)."""

HANDLER_NAMES = frozenset({
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "handler", "handle",
    "lambda_handler", "middleware", "loader", "action",
})
HANDLER_PREFIXES = ("handle", "on_request", "onRequest")
HANDLER_PARAMS = frozenset({"req", "request"})
ASGI_PARAMS = frozenset({"scope", "receive", "send"})
HANDLER_CLASS_SUFFIXES = ("Controller", "Handler", "Resource", "View", "Endpoint", "Route")
HANDLER_METHOD_DECORATORS = frozenset({"Get", "Post", "Put", "Patch", "Delete", "All",
                                       "MessagePattern", "EventPattern"})

APPEND_METHODS = frozenset({"push", "unshift", "append", "extend", "insert", "appendleft",
                            "splice", "concat_in_place"})
KEY_SET_METHODS = frozenset({"set", "setdefault"})

CALLBACK_REGISTRARS_PREFIXES = ("on", "add_listener", "addListener", "subscribe",
                                "register_reply", "register_hook", "add_callback")
"""``team.onMessage(cb)`` / ``team.on("message", cb)``: cb runs inside the team's run."""
CALLBACK_KEYWORDS = frozenset({"step_callback", "task_callback", "on_message",
                               "onMessage", "callback"})
DEFERRERS = frozenset({"queueMicrotask", "setTimeout", "setImmediate", "nextTick",
                       "call_soon", "call_later", "create_task", "ensure_future"})
"""Work handed to one of these leaves the callback first: not re-entrant."""

STORE_READS = frozenset({"get", "load", "read", "fetch", "hget", "hgetall", "getItem",
                         "get_item", "findOne", "find_one", "findUnique", "json_get"})
STORE_WRITES = frozenset({"set", "put", "save", "write", "hset", "setItem", "set_item",
                          "upsert", "replace_one", "replaceOne", "json_set", "store"})
VERSION_TOKENS = frozenset({"version", "etag", "cas", "compare", "watch", "multi",
                            "transaction", "expected", "lock", "revision", "generation",
                            "rev", "ifmatch", "optimistic"})
"""A word (camelCase/snake_case part) of these in a read-modify-write function says a
version or atomic guard is there."""


def has_version_guard(source: str) -> bool:
    words = {w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", source)}
    low = source.lower()
    return bool(words & VERSION_TOKENS) or "ifmatch" in low or "if_match" in low

SESSION_KEY_WORDS = ("session", "workflow", "conversation", "thread", "chat", "user",
                     "customer", "tenant", "request", "run", "job", "task")
"""A key whose name holds one of these, or ends in id/Id/key, is per-session/per-user."""

GUARD_CALL_WORDS = ("done", "locked", "isrunning", "is_running", "runexclusive",
                    "run_exclusive", "acquire", "trylock", "try_lock")
"""``if (lock.locked()) return`` style guards against overlapping timer runs."""


def words_of(name: str) -> set[str]:
    """``apiRouter.v1`` -> {"api", "router", "v"}; ``ask_llm`` -> {"ask", "llm"}."""
    return {w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", name)}


def has_word(name: str, words: frozenset[str]) -> bool:
    return bool(words_of(name) & words)


def lower_has(name: str, words: tuple[str, ...]) -> bool:
    low = name.lower()
    return any(w in low for w in words)


def is_session_key(key_text: str) -> bool:
    """Whether an index/key expression names a session/workflow/user id."""
    tail = key_text.replace("?", "").split(".")[-1].strip("'\"` ()[]")
    low = tail.lower()
    if low in {"id", "key", "sid"} or low.endswith(("id", "_id", "key", "_key")):
        return True
    return any(w in low for w in SESSION_KEY_WORDS)
