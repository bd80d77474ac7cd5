"""Log analyses: normalised events (``probes.events.LogEvent``) in, signals out.

``LogAnalysis`` is the one entry point; the modules beside it each own one concern:
``runs`` (pairing and the overlap sweep), ``instances`` (reuse, per-request creation,
long-lived module state), ``concurrency`` (error rate by in-flight requests, latency
ceiling, fan-out), ``state`` (replicas, stale reads, lost updates, history,
contamination) and ``error_families`` (the error taxonomy table).
"""

from probes.analysis.error_families import ERROR_FAMILIES, ErrorFamily, classify
from probes.analysis.log_analysis import LOG_KEYS, LogAnalysis

__all__ = ["ERROR_FAMILIES", "LOG_KEYS", "ErrorFamily", "LogAnalysis", "classify"]
