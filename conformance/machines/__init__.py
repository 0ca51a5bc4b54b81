"""Rule-based state machines: random lifecycles checked against a small model.

Per-operation tests cannot see lost writes, stale reads, broken cascades or
broken pagination; these machines drive the target through random sequences
of calls while an in-memory model predicts every answer.
"""
