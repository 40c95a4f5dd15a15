import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // onnxruntime and Chromium each use several threads; two cores are all CI has.
    fileParallelism: false,
  },
});
