/// <reference types="vitest/config" />
import { defineConfig, loadEnv } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig(({ mode }) => ({
  base: '/',
  plugins: [react()],
  build: { outDir: 'dist', chunkSizeWarningLimit: 1500 },
  // `npm run dev` proxies the API to a running `specwright ui` (SPECWRIGHT_API overrides the address).
  server: { proxy: { '/api': { target: loadEnv(mode, '.', '').SPECWRIGHT_API || 'http://127.0.0.1:8420', changeOrigin: true } } },
  test: { environment: 'node', include: ['src/**/*.test.ts'] },
}));
