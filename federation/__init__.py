"""ActivityPub server-to-server (SPEC 24): the documents Kenoma serves and sends (documents/),
signatures, fetching, the inbox and delivery."""
