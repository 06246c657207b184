// Loaded before every suite (see .mocharc.js). Starts nothing itself: integration tests ask
// tests/helpers/services.ts for the services they need, which starts each at most once per run.
process.env.GRADING_LOG_LEVEL ??= 'silent';
