"""Everything Ray: joining a cluster, the shard scorer, islands on actors and the
compact lineage transport. The only package that imports Ray, and lazily."""
