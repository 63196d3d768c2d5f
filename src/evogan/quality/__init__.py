"""Sample quality after (and during) training: metrics in an evaluation classifier's
feature space, ``evogan evaluate``, keeping the best generator, the evolved mixture."""
