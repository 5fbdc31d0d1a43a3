"""Loads the shared fixtures (tests/fixtures), the hermetic environment first: it must be set before anything imports
datasets or huggingface_hub."""

pytest_plugins = (
    "fixtures.env",
    "fixtures.parallel",
    "fixtures.models",
    "fixtures.hub",
    "fixtures.judge_data",
    "fixtures.evaluation",
    "fixtures.training",
    "fixtures.disks",
    "fixtures.ray_cluster",
)
