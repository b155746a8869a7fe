// Composes the gateway's SDL with the loyalty subgraph's, with Hive Gateway's composer
// (@theguild/federation-composition, the copy @graphql-hive/gateway composes with), once per case.
// Reads JSON from stdin: { "<case>": "<the customers subgraph's SDL>", ... }. Prints one JSON line,
// { "<case>": { "supergraphSdl": string | null, "errors": [{ "message", "code" }] }, ... }, and exits.
import { composeServices, compositionHasErrors } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { typeDefs as loyaltyTypeDefs } from './loyalty-subgraph.mjs';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const cases = JSON.parse(input);

const results = {};
for (const [name, sdl] of Object.entries(cases)) {
  const composed = composeServices([
    { name: 'customers', url: 'http://customers.invalid/graphql', typeDefs: parse(sdl) },
    { name: 'loyalty', url: 'http://loyalty.invalid/graphql', typeDefs: loyaltyTypeDefs },
  ]);
  results[name] = compositionHasErrors(composed)
    ? {
        supergraphSdl: null,
        errors: composed.errors.map((error) => ({ message: error.message, code: error.extensions?.code ?? null })),
      }
    : { supergraphSdl: composed.supergraphSdl, errors: [] };
}
console.log(JSON.stringify(results));
