"""The pure matching library: normalise, block, compare, score, cluster, identity, survive,
evaluate. No Dagster, no environment, no file paths: tables and typed settings in, tables out."""
