/**
 * Pulumi mocks for component tests: the same mock runtime the offline plan uses (see
 * scripts/plan/mockRuntime.ts). setMocks is process-global, so each suite calls `useMocks` in
 * before()/beforeEach() and reads `recorded` per test.
 */
export * from '../../scripts/plan/mockRuntime';
