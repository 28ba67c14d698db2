"""How trials run: one :class:`~automl_nb.backends.base.Trainer` base class and its kinds.

``local`` (KerasTuner in this process), ``workers`` (KerasTuner's chief here, trials in worker
processes) and ``scripted`` (scripted curves, no TensorFlow); ``engine`` is what all of them
drive (scheduling, outcomes, events), ``tuner`` the KerasTuner subclass the first two share.
"""
