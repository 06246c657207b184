export * from './request';
export * from './result';
export * from './progress';
export type { Validation } from './validator';
