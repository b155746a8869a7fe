"""The frontend-client suite: Apollo Client 4, graphql-ws and apollo-upload-client, run by Node's test runner
(tests/node/clients/*.test.mjs) against real gateways that these tests start."""
