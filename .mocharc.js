// One mocha config for every suite; TypeScript runs through tsx (no separate build step).
// No `spec` here: mocha would add it to any files given on the command line. npm test passes the glob.
module.exports = {
  require: ['tsx/cjs', 'tests/setup.ts'],
  extension: ['ts'],
  timeout: 60000,
  exit: true,
  reporter: process.env.MOCHA_REPORTER || 'spec',
};
