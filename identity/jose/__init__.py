"""JOSE and COSE: compact JWS (joserfc), COSE_Sign1 (pycose), and the VC-JOSE-COSE
envelopes built on them (``EnvelopedVerifiableCredential`` / ``…Presentation``)."""
