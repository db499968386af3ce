"""The gateway's commands (``python -m gateway.cli.<name>``): ``migrate`` the database, ``seed``
the types and the demo catalog, ``purge`` what retention ends, ``demo`` one photo against a
running gateway (``demo_catalog`` draws the generated catalog images ``seed`` stores)."""
