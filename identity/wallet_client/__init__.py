"""A reference holder (wallet) for this service's OpenID4VC flows, pure logic only:
:mod:`.issuance` builds the OpenID4VCI requests, :mod:`.folder` the on-disk format of
the credentials it keeps. The HTTP calls are in service/wallet_cli.py."""
