"""The Dagster layer of the MDM pipeline, its CLI (`mdm`) and the sample-data generator."""
