// Jest runs the TypeScript through esbuild (test/esbuild-transform.js), the compiler the boot bundle uses.
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '\\.ts$': '<rootDir>/test/esbuild-transform.js' },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testTimeout: 30000,
  // Two workers: QEMU boot tests are single-threaded TCG and run side by side on 2 cores.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};
