"""Scale-out: a render split into shards (runs of frames) on local processes or a Ray cluster.

Every shard writes into the same output folder and warm-starts its nodes' temporal state by seeking
(``Executor.render``), so the joined frames are the bytes a single process would have written.
"""
