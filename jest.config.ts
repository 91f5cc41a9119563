import type { Config } from 'jest';

const tsJest: Config['transform'] = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
};

const common = {
  transform: tsJest,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  // node16 resolution wants `.js` on relative dynamic imports; under ts-jest they name `.ts` files.
  // The conformance app and examples import the package by name; under jest that is the source,
  // so tests and the code they load share one copy of every class (instanceof PythonError …).
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^celery-wire$': '<rootDir>/src/index.ts',
    '^celery-wire/wire$': '<rootDir>/src/wire.ts',
    '^celery-wire/testing$': '<rootDir>/src/testing.ts',
  },
} satisfies Config;

/**
 * Three projects, as the design notes ask:
 * - unit: pure codecs and golden fixtures, hermetic;
 * - integration: real Redis/RabbitMQ and the Python peer, the 3-node RabbitMQ cluster failover
 *   (`test/cluster`, also alone as `npm run test:cluster`) included;
 * - conformance: the cross-language matrix that prints the compatibility table.
 * Integration and conformance share brokers and CPU with real Python workers, so `npm test` runs
 * them in band (`--runInBand`), one project after the other.
 */
const config: Config = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/unit/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.int\\.test\\.ts$', '\\.conf\\.test\\.ts$'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: [
        '<rootDir>/src/**/*.int.test.ts',
        '<rootDir>/test/integration/**/*.test.ts',
        '<rootDir>/test/cluster/**/*.test.ts',
      ],
      setupFilesAfterEnv: ['<rootDir>/test/setup/slow.ts'],
    },
    {
      ...common,
      displayName: 'conformance',
      testMatch: ['<rootDir>/src/**/*.conf.test.ts', '<rootDir>/test/conformance/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/setup/slow.ts'],
    },
  ],
};

export default config;
