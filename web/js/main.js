// Entry point, loaded by index.html as a module. The dashboard starts only after sign-in.

import { AuthManager } from './auth-manager.js';
import { TilesApp } from './tiles-app.js';

const bench = new URLSearchParams(window.location.search).has('bench');
const auth = new AuthManager(document, { createApp: (doc) => new TilesApp(doc, { bench }) });
auth.start().catch((err) => console.error('the sign-in check failed', err));
window.addEventListener('pagehide', (event) => {
  if (!event.persisted) auth.close();
});
