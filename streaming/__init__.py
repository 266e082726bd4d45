"""The streaming API (SPEC 25.1): events published by the services after their commit, carried
to every server process (streaming.transport), and written to the websocket and SSE connections
each process holds (streaming.hub) as each recipient may see them (streaming.dispatch).

Services publish through streaming.events only: it needs nothing but the session, so importing
it never pulls in the serializers the dispatcher renders with."""
