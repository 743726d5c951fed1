"""A headrace plugin that is broken on purpose: importing its plugin module raises."""
