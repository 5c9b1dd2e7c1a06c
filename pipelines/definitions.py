"""What `dagster dev` loads (workspace.yaml).

The asset graph will be built by a function from an MDM project folder (DESIGN.md: the default
is the repository root, or the folder named by MDM_PROJECT); the matching pipeline's assets land
with the golden-customer work. Until then the code location loads and holds no assets.
"""

import dagster as dg

defs = dg.Definitions()
