"""The run machinery: wiring a config to its parts, the generation loop, checkpoints
and the exported generator."""
