// Starts GraphiQL with the gateway's settings (embedded in the page as JSON, so no inline script runs):
// the endpoint, an example query, and an Authorization header ready to edit in the Headers tab.
// Queries and mutations go over HTTP; subscriptions over a WebSocket on the same path (ws: or wss: as the
// page is http: or https:), with graphql-ws's client (protocol graphql-transport-ws). The headers of the
// Headers tab travel as the connection's params, read when a connection opens: GraphiQL hands the fetcher
// the parsed headers with every operation, and the client is lazy, so it connects when a subscription
// starts and closes when the last one stops; the next subscription's connection carries the headers then.
(function () {
  'use strict';
  var settings = JSON.parse(document.getElementById('graphiql-settings').textContent);
  var socketUrl = new URL(settings.url, window.location.href);
  socketUrl.protocol = socketUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  var FORBIDDEN = 4403;

  var headers = {};
  // What Apollo Client and graphql-ws clients send: {"Authorization": "Bearer <token>"}, whatever the case
  // of the name typed in the Headers tab; any other header goes as typed.
  function connectionParams() {
    var params = {};
    Object.keys(headers).forEach(function (name) {
      params[name.toLowerCase() === 'authorization' ? 'Authorization' : name] = headers[name];
    });
    return params;
  }

  var wsClient = graphqlWs.createClient({
    url: socketUrl.href,
    connectionParams: connectionParams,
    // A connection the gateway refuses at connection_init (4403 Forbidden: no token, a malformed one) shows
    // its reason in the result pane at once, not after five retries (graphql-ws retries 4403 by default); a
    // dropped connection is still retried.
    shouldRetry: function (closed) {
      return typeof closed === 'object' && closed !== null && 'code' in closed && closed.code !== FORBIDDEN;
    },
  });
  var graphiqlFetcher = GraphiQL.createFetcher({ url: settings.url, wsClient: wsClient });
  function fetcher(params, options) {
    headers = (options && options.headers) || {};
    return graphiqlFetcher(params, options);
  }

  var explorer = GraphiQLPluginExplorer.explorerPlugin();
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: settings.query,
      defaultHeaders: settings.headers,
      shouldPersistHeaders: true,
      defaultEditorToolsVisibility: 'headers',
      plugins: [explorer],
    })
  );
})();
