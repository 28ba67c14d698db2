"""automl-nb: a steerable KerasTuner search with a live panel in the notebook."""
__version__ = "0.1.0"
