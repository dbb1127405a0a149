"""The checking stage: schema errors in TOML words, the quick check, tool-parameter checks
and the per-dialect cross-field rules."""
