"""The identity core: DIDs, Data Integrity proofs, credentials, the Merkle log, registries.

Pure domain code. It does no network or disk I/O of its own: time, randomness, key
material and stores are passed in (see ``identity.clock`` and ``identity.stores``).
"""
