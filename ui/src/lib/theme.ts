// Light/dark theme: stored choice, else the system preference; applied as <html data-theme>.
import { createContext, useContext } from 'react';

export type Theme = 'light' | 'dark';
const KEY = 'specwright.theme';

export function initialTheme(): Theme {
  try {
    const saved = localStorage.getItem(KEY);
    if (saved === 'light' || saved === 'dark') return saved;
  } catch {
    // storage disabled: follow the system
  }
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function applyTheme(t: Theme, persist = false): void {
  document.documentElement.dataset.theme = t;
  if (!persist) return;
  try {
    localStorage.setItem(KEY, t);
  } catch {
    // not persisted; still applied
  }
}

export const ThemeContext = createContext<Theme>('light');
export const useTheme = () => useContext(ThemeContext);

/** Chart colors (SVG attributes cannot read CSS variables everywhere). */
export function chartColors(t: Theme) {
  return t === 'dark'
    ? { bar: '#6ea8fe', line: '#6ea8fe', grid: '#30363d', text: '#9da7b3', tooltipBg: '#161b22', tooltipBorder: '#30363d' }
    : { bar: '#2f6fdb', line: '#2f6fdb', grid: '#e2e5ea', text: '#5b6470', tooltipBg: '#ffffff', tooltipBorder: '#d0d5dc' };
}
