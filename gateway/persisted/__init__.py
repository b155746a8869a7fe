"""Documents sent by reference instead of by text: Apollo's automatic persisted queries (a hash a caller
registered by sending the document once), and trusted documents (a manifest built with the clients at
compile time, which can also be the only documents that run)."""
