"""``livecode-console``: the operators' live terminal console, a Textual app over the REST API.

It reads everything through the API (so history lives on the server and the console runs
anywhere), is read-only unless started with ``--allow-actions``, and never has more than one
refresh in flight.
"""
