"""What a run leaves behind: the run directory and progress bar, pictures, TensorBoard
and checked output paths."""
