// Starts GraphiQL with the gateway's settings (embedded in the page as JSON, so no inline script runs):
// the endpoint, an example query, and an Authorization header ready to edit in the Headers tab.
(function () {
  'use strict';
  var settings = JSON.parse(document.getElementById('graphiql-settings').textContent);
  var fetcher = GraphiQL.createFetcher({ url: settings.url });
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
