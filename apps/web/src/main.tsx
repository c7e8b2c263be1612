// The page's entry: tags the build, renders the app, registers the offline worker.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { registerServiceWorker } from './register-service-worker.js';
import './styles.css';

// Which deployment this page runs (when the build set one): `<html data-build="…">`.
if (import.meta.env.VITE_BUILD_ID)
  document.documentElement.dataset.build = import.meta.env.VITE_BUILD_ID;

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');
createRoot(container).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
registerServiceWorker();
