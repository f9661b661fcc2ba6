/** One jest run for the whole workspace. Sources are compiled by ts-jest without a build step;
 *  black-box tests of `ase start` run the built CLI, so `pnpm test` builds first. */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/test', '<rootDir>/examples'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }],
  },
  moduleNameMapper: {
    '^@ase/([a-z]+)$': '<rootDir>/packages/$1/src',
  },
  globalSetup: '<rootDir>/test/helpers/temp-setup.js',
  globalTeardown: '<rootDir>/test/helpers/temp-teardown.js',
  testTimeout: 20000,
};
