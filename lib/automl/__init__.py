"""AutoML: sentiment classifiers trained locally with FLAML, and SageMaker Autopilot jobs on the aws backend.

* :mod:`lib.automl.jobs` — a job's configuration, status and records, stored in the lake under ``automl/<job>/``;
  starting a job (in its own process), stopping it, and noticing a runner that died.
* :mod:`lib.automl.runner` — the training process: Autopilot's stages, one status write after each.
* :mod:`lib.automl.engine` — data from the lake, the stratified split, TF-IDF features, FLAML's search, and one
  candidate per estimator refit and evaluated on the test set.
* :mod:`lib.automl.metrics` and :mod:`lib.automl.explain` — what every candidate is judged and explained by.
* :mod:`lib.automl.autopilot` — the same ideas on SageMaker Autopilot (list, describe, candidates, reports,
  launch, stop).

Layout of the records: docs/AUTOML.md.
"""
