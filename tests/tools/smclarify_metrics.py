"""Run smclarify's pre-training bias report for every value of a facet; print {facet value: {metric: value}}.

Runs in .venv-smclarify (pandas < 3), never in the app's environment:
``.venv-smclarify/bin/python tests/tools/smclarify_metrics.py rows.csv FACET LABEL POSITIVE``.
"""

import json
import math
import sys

import pandas as pd
from smclarify.bias import report

path, facet, label, positive = sys.argv[1:5]
frame = pd.read_csv(path)
frame[facet] = frame[facet].astype(str)
out = {}
for value in sorted(frame[facet].unique()):
    result = report.bias_report(
        frame,
        report.FacetColumn(facet, [value]),
        report.LabelColumn(label, frame[label], [int(positive)]),
        stage_type=report.StageType.PRE_TRAINING,
        group_variable=None,
        metrics=["CI", "DPL", "KL", "JS", "LP", "TVD", "KS"],
    )
    metrics = {m["name"]: m["value"] for m in result[0]["metrics"]}
    out[value] = {k: (None if v is None or (isinstance(v, float) and math.isnan(v)) else v) for k, v in metrics.items()}
print(json.dumps(out))
