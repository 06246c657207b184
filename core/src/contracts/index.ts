export * from './request';
export * from './result';
export * from './progress';
export * from './run';
export type { Validation } from './validator';
