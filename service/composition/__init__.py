"""The service's collaborators, one cohesive group a module, composed by ``Services.build``
(service/container.py): the log side, issuance, verification and access."""
