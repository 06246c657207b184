// One mocha config for every suite; TypeScript runs through tsx (no separate build step).
module.exports = {
  require: ['tsx/cjs', 'tests/setup.ts'],
  extension: ['ts'],
  spec: ['tests/**/*.test.ts'],
  timeout: 60000,
  exit: true,
  reporter: process.env.MOCHA_REPORTER || 'spec',
};
