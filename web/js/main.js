// Entry point, loaded by index.html as a module.

import { TilesApp } from './tiles-app.js';

const bench = new URLSearchParams(window.location.search).has('bench');
const app = new TilesApp(document, { bench });
app.start().catch((err) => console.error('the dashboard failed to start', err));
window.addEventListener('pagehide', (event) => {
  if (!event.persisted) app.close();
});
