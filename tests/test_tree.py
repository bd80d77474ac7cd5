"""The decision tree's structure and the walker's rules, on hand-built cases."""

from __future__ import annotations

import pytest

from probes.causes import CAUSES, HEALTHY, INCONCLUSIVE
from probes.diagnose import VERDICT_THRESHOLD, diagnose
from probes.evidence import Answer, AnsweredBy, Case, Evidence, example, no, unknown, yes
from probes.signals import SIGNALS
from probes.tree import TREE, Leaf, Question, iter_questions, leaves_below

EX = [example("app.log", 12, text="run started")]


def _case(*signals: object) -> Case:
    return Case(evidence=(Evidence("logs", "test", signals=tuple(signals)),))  # type: ignore[arg-type]


def _paths_to(cause: str) -> list[list[Question]]:
    """Every chain of questions from the root to a leaf of ``cause``."""
    found: list[list[Question]] = []

    def walk(nodes: tuple[object, ...], chain: list[Question]) -> None:
        for node in nodes:
            if isinstance(node, Leaf) and node.cause == cause:
                found.append(chain)
            elif isinstance(node, Question):
                walk(node.yes, [*chain, node])

    walk(TREE, [])
    return found


def test_every_question_key_is_a_listed_signal_and_every_signal_is_asked() -> None:
    asked = [q.key for q, _ in iter_questions()]
    assert len(asked) == len(set(asked)), "a question key appears twice in the tree"
    assert set(asked) == set(SIGNALS), set(asked) ^ set(SIGNALS)


def test_every_cause_in_the_catalogue_is_a_leaf_and_vice_versa() -> None:
    leaves = {c for node in TREE for c in leaves_below(node)}
    assert leaves == set(CAUSES) - {HEALTHY, INCONCLUSIVE}


@pytest.mark.parametrize("cause", sorted(set(CAUSES) - {HEALTHY, INCONCLUSIVE}))
def test_every_cause_is_reachable_by_operator_answers(cause: str) -> None:
    """Answering yes along any one path to a cause makes it the verdict."""
    for chain in _paths_to(cause):
        case = Case()
        for q in chain:
            case = case.with_answer(q.key, Answer.YES)
        v = diagnose(case)
        if v.verdict == cause:
            assert v.top is not None and v.top.score >= VERDICT_THRESHOLD
            assert all(s.by is AnsweredBy.OPERATOR for s in v.path if s.answer is Answer.YES)
            return
    pytest.fail(f"no path makes {cause} the verdict")


def test_empty_case_is_inconclusive_with_things_to_collect() -> None:
    v = diagnose(Case())
    assert v.verdict == INCONCLUSIVE
    assert not v.causes
    assert len(v.open_questions) == len(v.path) > 10
    assert v.collect_next


def test_clean_checks_give_healthy_not_inconclusive() -> None:
    v = diagnose(_case(no("pods.restarts", "kube", "no restarts"),
                       no("errors.rise_with_concurrency", "logs", "flat"),
                       no("instance.many_sessions", "logs", "one session per instance")))
    assert v.verdict == HEALTHY


def test_unexplained_symptom_is_inconclusive_never_healthy() -> None:
    v = diagnose(_case(yes("errors.rise_with_concurrency", "ramp", "errors rise", EX),
                       no("pods.restarts", "kube", "none"),
                       no("instance.many_sessions", "logs", "no"),
                       no("errors.rate_limit", "logs", "none")))
    assert v.verdict == INCONCLUSIVE
    assert "errors rise" in v.summary


def test_shared_instance_from_runtime_evidence() -> None:
    v = diagnose(_case(yes("instance.many_sessions", "logs", "inst-a served 14 sessions", EX),
                       yes("runs.overlap_instance", "logs", "12 overlapping pairs", EX),
                       yes("errors.already_running", "logs", "37 'already running'", EX)))
    assert v.verdict == "shared-instance"
    assert v.causes[0].score > 0.8
    assert {s.key for s in v.causes[0].supports} >= {"runs.overlap_instance",
                                                     "errors.already_running"}


def test_specific_cause_outranks_the_general_one_it_refines() -> None:
    v = diagnose(_case(yes("runs.overlap_instance", "logs", "overlap", EX),
                       yes("runs.periodic_overlap", "logs", "every 1 s", EX)))
    assert [c.id for c in v.causes][:2] == ["overlapping-timer", "shared-instance"]


def test_gate_no_rules_out_causes_below() -> None:
    v = diagnose(_case(no("pods.restarts", "kube", "0 restarts"),
                       yes("process.rss_growth", "process", "RSS +40%", EX)))
    oom = next(c for c in v.causes if c.id == "oom")
    assert oom.refutes and oom.score < VERDICT_THRESHOLD


def test_code_findings_are_weaker_than_runtime_evidence() -> None:
    code = yes("code.shared_instance", "code", "agent at module scope", EX, strength=0.4)
    runtime = yes("errors.rate_limit", "logs", "429s", EX)
    v = diagnose(_case(code, runtime, yes("errors.rise_with_concurrency", "logs", "rise", EX)))
    scores = {c.id: c.score for c in v.causes}
    assert scores["upstream-rate-limit"] > scores["shared-instance"]


def test_operator_answer_overrides_evidence_and_is_marked() -> None:
    case = _case(unknown("pods.restarts", "kube", "no cluster access"))
    case = case.with_answer("pods.restarts", Answer.YES).with_answer("pods.oomkilled", Answer.YES)
    v = diagnose(case)
    assert v.verdict == "oom"
    step = next(s for s in v.path if s.key == "pods.oomkilled")
    assert step.by is AnsweredBy.OPERATOR
    cleared = case.with_answer("pods.oomkilled", Answer.UNKNOWN)
    assert diagnose(cleared).verdict != "oom"


def test_walk_is_pure() -> None:
    case = _case(yes("runs.overlap_instance", "logs", "overlap", EX))
    assert diagnose(case) == diagnose(case)


def test_yes_without_evidence_is_refused() -> None:
    with pytest.raises(ValueError):
        yes("runs.overlap_instance", "logs", "overlap", [])


def test_case_round_trips_through_json() -> None:
    case = _case(yes("runs.overlap_instance", "logs", "overlap", EX)).with_answer(
        "pods.restarts", Answer.NO)
    again = Case.from_json(case.to_json())
    assert diagnose(again).verdict == diagnose(case).verdict
    assert again.answers == case.answers


def test_healthy_needs_a_core_check_and_names_only_what_was_checked() -> None:
    side_checks = _case(no("errors.rate_limit", "logs", "no rate-limit errors"),
                        no("errors.timeout", "logs", "no timeouts"),
                        no("errors.serialization", "logs", "no serialization errors"))
    assert diagnose(side_checks).verdict == INCONCLUSIVE
    v = diagnose(_case(no("errors.rate_limit", "logs", "no rate-limit errors"),
                       no("errors.timeout", "logs", "no timeouts"),
                       no("runs.overlap_instance", "logs", "40 runs, no two overlap")))
    assert v.verdict == HEALTHY
    assert "no two overlap" in v.summary
    assert "restart" not in v.summary and "concurrency" not in v.summary


def _clean_requests() -> tuple[object, ...]:
    return (no("requests.failed", "logs", "0 of 164 failed"),
            no("errors.rate_limit", "logs", "none"), no("errors.timeout", "logs", "none"))


def test_access_lines_alone_never_earn_healthy() -> None:
    """A 200 says nothing about state or restarts: clean requests and side checks, with no
    defining check, stay inconclusive."""
    assert diagnose(_case(*_clean_requests())).verdict == INCONCLUSIVE


def test_the_servers_own_lifecycle_or_followed_state_earn_healthy() -> None:
    """Healthy with no runs to sweep: the server's start lines were read and no worker died,
    or a history was followed across processes and never went back; each with clean
    requests. 'No worker died' from a log without start lines earns nothing."""
    blind = no("process.worker_died", "logs", "no worker death line", value=0)
    assert diagnose(_case(blind, *_clean_requests())).verdict == INCONCLUSIVE
    seen = no("process.worker_died", "logs", "4 process start line(s), no worker death",
              value=0, data={"process_starts": 4})
    v = diagnose(_case(seen, *_clean_requests()))
    assert v.verdict == HEALTHY and "process start" in v.summary
    state = diagnose(_case(no("state.stale_read", "logs", "41 sessions moved, none went back"),
                           *_clean_requests()))
    assert state.verdict == HEALTHY and "none went back" in state.summary


def test_a_structural_fact_asks_for_its_silent_check_only_when_state_is_kept() -> None:
    """Sessions served by several processes: with a history in the logs the hop must be
    shown harmless (else inconclusive, naming the check); with no session state in sight
    the service may be stateless: healthy, and the summary names what was not checked."""
    base = (yes("state.session_multi_process", "logs", "40 of 41 sessions on 2 processes", EX),
            no("runs.overlap_instance", "logs", "no two overlap"),
            no("errors.rise_with_concurrency", "logs", "flat"), *_clean_requests())
    stateless = diagnose(_case(*base))
    assert stateless.verdict == HEALTHY
    assert "was not checked" in stateless.summary and "another process" in stateless.summary
    keeps = diagnose(_case(*base, no("context.forgotten", "logs", "history keeps its turns")))
    assert keeps.verdict == INCONCLUSIVE and "fail silently" in keeps.summary
