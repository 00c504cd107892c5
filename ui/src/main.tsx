import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@xyflow/react/dist/style.css';
import './styles.css';
import { App } from './App';
import { initToken } from './api/client';
import { applyTheme, initialTheme } from './lib/theme';

if (initToken() && location.search.includes('token=')) {
  // The token now lives in sessionStorage: keep it out of the address bar and history.
  const q = new URLSearchParams(location.search);
  q.delete('token');
  history.replaceState(null, '', `${location.pathname}${q.size ? `?${q}` : ''}${location.hash}`);
}
applyTheme(initialTheme()); // before the first paint: no flash of the wrong theme

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
