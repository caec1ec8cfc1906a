"""SD-JWT (RFC 9901) and SD-JWT VC (``dc+sd-jwt``): issuance with decoys, the holder's
presentation with a Key Binding JWT, and verification that rejects what RFC 9901 §7
says to reject (where common libraries silently drop it).

``disclosures`` holds the data structures and the concealing/revealing algorithms,
``issuance`` the issuer, ``holder`` the wallet helper, ``verifier`` the verifier.
"""
