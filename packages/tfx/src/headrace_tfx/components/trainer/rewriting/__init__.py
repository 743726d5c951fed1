"""``tfx.components.trainer.rewriting``: TFX's model rewriters, from headrace-trainer
(``headrace_trainer.rewriting``); the modules below hold the names."""
