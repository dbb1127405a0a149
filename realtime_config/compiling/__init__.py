"""The compiling stage: the target registry, emission from the schema's rules, beta <-> GA
translation, and the batch and cache entry points built on them."""
