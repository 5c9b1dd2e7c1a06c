"""What `dagster dev` loads (workspace.yaml): the default project, or the folder named by
MDM_PROJECT. This is the one place the environment shapes the asset graph."""

import os
from pathlib import Path

from pipelines.graph import build_definitions

PROJECT = Path(os.environ.get("MDM_PROJECT", Path(__file__).resolve().parent.parent))

defs = build_definitions(PROJECT)
