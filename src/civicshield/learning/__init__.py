"""Learning from reviewers: the model registry, shadow scoring and the promotion rule (runtime side).

Training itself lives in ``civicshield.evaluation.feedback`` (measurement code, never imported at run time);
what it produces is registered here, scored beside the model in use ("shadow"), and promoted only when the
promotion rule (``promotion``) accepts its measured comparison.
"""
