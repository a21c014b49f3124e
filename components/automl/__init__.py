"""UI pieces of the AutoML page: jobs and leaderboards (``views``), SageMaker Autopilot (``autopilot``), the score form and the review queue."""
